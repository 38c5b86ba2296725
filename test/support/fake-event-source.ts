import { createParser } from 'eventsource-parser'
import type { EventSourceConstructorLike, EventSourceLike } from '../../src/env'

const CONNECTING = 0
const OPEN = 1
const CLOSED = 2

/**
 * The shared listener plumbing of both fakes: `addEventListener` plus the `on*` handlers, fired
 * in the order a browser fires them (handler attribute and listeners together, by type).
 */
class FakeEventTarget {
  onopen: ((event: Event) => unknown) | null = null
  onerror: ((event: Event) => unknown) | null = null
  onmessage: ((event: MessageEvent) => unknown) | null = null
  readonly #target = new EventTarget()
  /** Types that have at least one listener (for assertions). */
  readonly listenedTypes = new Set<string>()

  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    this.listenedTypes.add(type)
    this.#target.addEventListener(type, listener as EventListener)
  }

  removeEventListener(type: string, listener: (event: MessageEvent) => void): void {
    this.#target.removeEventListener(type, listener as EventListener)
  }

  /** Fires `event` at the matching `on*` handler and then the listeners. */
  fire(event: Event): void {
    if (event.type === 'open') this.onopen?.(event)
    else if (event.type === 'error') this.onerror?.(event)
    else if (event.type === 'message') this.onmessage?.(event as MessageEvent)
    this.#target.dispatchEvent(event)
  }
}

/**
 * A hand-driven EventSource for unit tests. Every instance is recorded in
 * `ManualEventSource.instances`; drive it with `emitOpen()`, `emitMessage()`, `emitError()`.
 *
 * @example
 * ```ts
 * const env = createEnv({ EventSource: ManualEventSource })
 * const source = ManualEventSource.last()
 * source.emitOpen(); source.emitMessage('message', 'hi', '1')
 * ```
 */
export class ManualEventSource extends FakeEventTarget implements EventSourceLike {
  static instances: ManualEventSource[] = []
  /** The most recent instance. */
  static last(): ManualEventSource {
    const instance = ManualEventSource.instances.at(-1)
    if (!instance) throw new Error('No ManualEventSource was created')
    return instance
  }
  static reset(): void {
    ManualEventSource.instances = []
  }

  readyState = CONNECTING
  readonly url: string
  readonly withCredentials: boolean

  constructor(url: string, init?: { withCredentials?: boolean }) {
    super()
    this.url = url
    this.withCredentials = init?.withCredentials ?? false
    ManualEventSource.instances.push(this)
  }

  close(): void {
    this.readyState = CLOSED
  }

  /** Whether `close()` was called. */
  get isClosed(): boolean {
    return this.readyState === CLOSED
  }

  emitOpen(): void {
    this.readyState = OPEN
    this.fire(new Event('open'))
  }

  /** Fires a server event the way a browser does (ignored once closed, like a browser). */
  emitMessage(type: string, data: string, lastEventId = ''): void {
    if (this.readyState === CLOSED) return
    this.fire(new MessageEvent(type, { data, lastEventId }))
  }

  /** A platform error: `reconnect` leaves it CONNECTING (a drop), else CLOSED (a failed response). */
  emitError(reconnect = true): void {
    this.readyState = reconnect ? CONNECTING : CLOSED
    this.fire(new Event('error'))
  }
}

/**
 * Builds an EventSource class that really connects, over `fetch`, following the WHATWG
 * processing model closely enough for contract tests against a live server: status other than
 * 200 or another content type ⇒ CLOSED + `error`; a dropped or ended body ⇒ CONNECTING +
 * `error`. Unlike a browser it does not reconnect by itself (the transport closes it on the
 * first `error` anyway). Parsing uses the independent `eventsource-parser` package.
 * @param fetchImpl - the fetch to connect with
 * @returns a constructor to inject as `env.EventSource`
 */
export function createFetchEventSource(
  fetchImpl: typeof fetch = globalThis.fetch,
): EventSourceConstructorLike & { instances: FetchEventSourceInstance[] } {
  const instances: FetchEventSourceInstance[] = []
  class FetchEventSource extends FakeEventTarget implements FetchEventSourceInstance {
    readyState = CONNECTING
    readonly url: string
    readonly #controller = new AbortController()

    constructor(url: string, init?: { withCredentials?: boolean }) {
      super()
      this.url = url
      instances.push(this)
      void this.#run(init?.withCredentials ?? false)
    }

    close(): void {
      this.readyState = CLOSED
      this.#controller.abort()
    }

    async #run(withCredentials: boolean): Promise<void> {
      let lastEventId = ''
      try {
        const response = await fetchImpl(this.url, {
          headers: { Accept: 'text/event-stream' },
          cache: 'no-store',
          credentials: withCredentials ? 'include' : 'same-origin',
          signal: this.#controller.signal,
        })
        const type = (response.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase()
        if (response.status !== 200 || type !== 'text/event-stream' || !response.body) {
          void response.body?.cancel().catch(() => {})
          return this.#fail(CLOSED)
        }
        if (this.readyState === CLOSED) return
        this.readyState = OPEN
        this.fire(new Event('open'))
        const parser = createParser({
          onEvent: (event) => {
            if (event.id !== undefined && !event.id.includes('\0')) lastEventId = event.id
            if (this.readyState !== CLOSED) {
              this.fire(new MessageEvent(event.event || 'message', { data: event.data, lastEventId }))
            }
          },
        })
        const decoder = new TextDecoder()
        const reader = response.body.getReader()
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          parser.feed(decoder.decode(value, { stream: true }))
        }
        this.#fail(CONNECTING)
      } catch {
        this.#fail(CONNECTING)
      }
    }

    #fail(state: number): void {
      if (this.readyState === CLOSED) return
      this.readyState = state
      this.fire(new Event('error'))
    }
  }
  return Object.assign(FetchEventSource, { instances })
}

/** An instance made by {@link createFetchEventSource}. */
export interface FetchEventSourceInstance extends EventSourceLike {
  readonly url: string
}
