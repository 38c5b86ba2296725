import { createIdWindow, type IdWindow } from './dedupe'
import { compareIdParts, parseEventId } from './ids'
import { createEnv, type Env } from './env'
import { StreamError } from './errors'
import { GapEvent, StreamErrorEvent, TransportChangeEvent, type GapInfo, type ResilientEventSourceEventMap, type TransportChangeReason } from './events'
import { createVerdictMemory, stepDownIndex, type VerdictMemory } from './ladder'
import { DEFAULTS, type ResilientEventSourceOptions } from './options'
import type { EventStreamMessage } from './parser/types'
import { createBackoff, MIN_DELAY, type Backoff } from './retry'
import { StatsRecorder, type StreamStats } from './stats'
import { defaultTransports, probe, transportsByName } from './transports/index'
import type { ConnectRequest, Transport, TransportHandle, TransportName, TransportSink } from './transports/types'
import type { SharedLink, SharedLinkSink, SharedOptions, SharedStreamOptions } from './multiplexer/types'

/** 0 connecting, 1 open, 2 closed: the native `EventSource` values. */
export type ReadyState = 0 | 1 | 2

/** Event types the client dispatches itself; every other listened type is an app event. */
const OWN_TYPES = new Set(['open', 'error', 'transportchange', 'gap'])
/** A live frame arriving this much later than its server time says was held back on the way. */
const HELD_MS = 10_000
/** Offsets between the clocks below this are loopback noise, not skew. */
const SKEW_NOISE_MS = 1000
/** Failed attempts in a row on a rung, without proof of delivery, before a probe decides. */
const FAILURES_BEFORE_PROBE = 2
/** An empty `close`/`poll` batch answered faster than this was not held by the server. */
const QUICK_EMPTY_MS = 1000

/** One connection attempt: everything the client knows about it. */
interface Attempt {
  readonly transport: Transport
  readonly index: number
  readonly request: ConnectRequest
  handle: TransportHandle | undefined
  /** The transport accepted the response (status, content type). */
  responded: boolean
  /** The server's `_canary` arrived (or none is expected). */
  proven: boolean
  /** A planned `_end` arrived: the response may end. */
  ended: boolean
  canaryTime: number | undefined
  canaryTimer: unknown
  canaryDeadline: number
  stallTimer: unknown
  deadlineTimer: unknown
  /** When the request was sent, by the client's clock. */
  sentAt: number
  /** Server clock minus client clock, from the canary (includes the request's one-way time). */
  offset: number | undefined
  /** Server-requested wait from `_backoff`, in ms. */
  backoff?: number
  /** A new app event arrived on this attempt. */
  delivered?: boolean
  /** The server said more events are waiting (`_end {more: true}`). */
  more?: boolean
}

interface Waiter {
  readonly queue: MessageEvent<string>[]
  resolve(result: IteratorResult<MessageEvent<string>>): void
  reject(error: unknown): void
}

/**
 * A drop-in `EventSource` that keeps delivering where native EventSource stalls: it detects
 * buffering proxies and steps down a transport ladder, resumes with `Last-Event-ID` on every
 * transport, drops repeats, and backs off with full jitter.
 *
 * @example
 * ```ts
 * const es = new ResilientEventSource('/events', { headers: async () => ({ Authorization: `Bearer ${await token()}` }) })
 * es.addEventListener('message', (e) => console.log(e.data, e.lastEventId))
 * es.addEventListener('transportchange', (e) => console.log(e.previous, '→', e.transport, e.reason))
 * ```
 */
export class ResilientEventSource extends EventTarget {
  static readonly CONNECTING = 0
  static readonly OPEN = 1
  static readonly CLOSED = 2
  readonly CONNECTING = 0
  readonly OPEN = 1
  readonly CLOSED = 2

  /** The endpoint, resolved to an absolute URL where the platform has a base URL. */
  readonly url: string
  readonly withCredentials: boolean

  #readyState: ReadyState = 0
  #lastEventId: string
  #transport: TransportName | null = null
  readonly #options: ResilientEventSourceOptions
  readonly #env: Env
  readonly #ladder: readonly Transport[]
  readonly #backoff: Backoff
  readonly #seen: IdWindow | undefined
  readonly #stats = new StatsRecorder()
  readonly #memory: VerdictMemory | undefined
  readonly #startToken: string
  #rung = 0
  #attempt: Attempt | undefined
  #pendingReason: TransportChangeReason | undefined
  /** Failed attempts in a row: drives the backoff window. */
  #failures = 0
  /** Failed attempts in a row on this rung without proof of delivery. */
  #rungFailures = 0
  #retryTimer: unknown
  #healthyTimer: unknown
  #upgradeTimer: unknown
  #waitingOnline = false
  #upgradePending = false
  #steppedDown = false
  #rememberedAs: TransportName | undefined
  #companion = false
  #closedByApp = false
  #pingSeconds: number | undefined
  #canaryExpected: boolean
  #ordered = false
  /** Server clock minus client clock, from the last canary, when it is more than noise. */
  #skew = 0
  #refreshHeaders = false
  #authRetried = false
  #fellBack = false
  #unsubscribeNetwork: () => void
  readonly #waiters = new Set<Waiter>()
  readonly #queues = new Set<MessageEvent<string>[]>()
  #iterationError: StreamError | undefined
  readonly #listenedTypes = new Map<string, number>()
  readonly #wrapped = new WeakMap<object, Map<string, EventListener>>()
  readonly #handlers: Partial<Record<'open' | 'message' | 'error', EventListener>> = {}
  readonly #origin: string
  readonly #shared: SharedOptions | undefined
  #link: SharedLink | undefined
  #remoteStats: StreamStats | undefined

  /**
   * Starts connecting at once, like `new EventSource(url)`.
   * @param url - the endpoint; relative URLs resolve against the page's location
   * @param options - see {@link ResilientEventSourceOptions}
   * @throws SyntaxError when `url` cannot be parsed (caller misuse, like native EventSource)
   */
  constructor(url: string | URL, options: ResilientEventSourceOptions = {}) {
    super()
    const base = (globalThis as { location?: { href?: string } }).location?.href
    let resolved: URL
    try {
      resolved = new URL(String(url), base)
    } catch (cause) {
      throw new SyntaxError(`ResilientEventSource: invalid URL ${JSON.stringify(String(url))}`, { cause })
    }
    this.url = resolved.href
    this.#origin = resolved.origin
    this.#options = options
    this.withCredentials = options.withCredentials ?? false
    this.#lastEventId = options.lastEventId ?? ''
    this.#env = createEnv({
      ...options.env,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.EventSource ? { EventSource: options.EventSource } : {}),
    })
    this.#ladder = (options.transports ?? DEFAULTS.transports).map((entry) => {
      const transport = typeof entry === 'string' ? transportsByName[entry] : entry
      if (!transport) throw new TypeError(`ResilientEventSource: unknown transport ${JSON.stringify(entry)}`)
      return transport
    })
    if (this.#ladder.length === 0) throw new TypeError('ResilientEventSource: `transports` is empty')
    this.#backoff = createBackoff(options.retry, this.#env.random)
    const dedupe = options.dedupe ?? DEFAULTS.dedupe
    this.#seen = dedupe === false ? undefined : createIdWindow(dedupe)
    this.#canaryExpected = options.canaryTimeout !== false
    this.#startToken = createStartToken(this.#env.random)
    this.#shared = options.shared ? (options.shared === true ? {} : options.shared) : undefined
    const remember = options.remember ?? true
    if (remember !== false) {
      const settings = remember === true ? {} : remember
      const storage = settings.storage === undefined ? this.#env.storage() : (settings.storage ?? undefined)
      this.#memory = createVerdictMemory(this.url, storage, settings.ttl ?? DEFAULTS.rememberTtl, this.#env.now)
      const verdict = this.#memory.recall()
      const index = verdict ? this.#ladder.findIndex((t) => t.name === verdict.transport) : -1
      if (verdict && index > 0) {
        this.#rung = index
        this.#pendingReason = 'remembered'
        this.#steppedDown = true
        this.#rememberedAs = verdict.transport
        this.#scheduleUpgrade(verdict.until - this.#env.now())
      }
    }
    this.#unsubscribeNetwork = this.#env.onNetworkChange((online) => this.#onNetworkChange(online))
    const signal = options.signal
    if (signal?.aborted) {
      this.close()
      return
    }
    signal?.addEventListener('abort', () => this.close(), { once: true })
    // A microtask lets listeners added right after construction see every event.
    if (this.#shared) queueMicrotask(() => void this.#joinShared())
    else queueMicrotask(() => this.#connect())
  }

  /** 0 connecting, 1 open, 2 closed. */
  get readyState(): ReadyState {
    return this.#readyState
  }

  /** The cursor: the id of the last event received (what a reconnect resumes after). */
  get lastEventId(): string {
    return this.#lastEventId
  }

  /** The transport in use (or being tried), `null` before the first attempt. */
  get transport(): TransportName | null {
    return this.#transport
  }

  /** @returns counters and delivery latency percentiles; see {@link StreamStats}. */
  stats(): StreamStats {
    const local = this.#stats.snapshot()
    const remote = this.#remoteStats
    // Shared: this tab counts what it delivered; the connection's counters are the coordinator's.
    return remote
      ? { ...local, reconnects: remote.reconnects, transportChanges: remote.transportChanges, bytes: remote.bytes, latency: remote.latency }
      : local
  }

  get onopen(): EventListener | null {
    return this.#handlers.open ?? null
  }
  set onopen(handler: EventListener | null) {
    this.#setHandler('open', handler)
  }
  get onmessage(): ((event: MessageEvent<string>) => void) | null {
    return (this.#handlers.message as ((event: MessageEvent<string>) => void) | undefined) ?? null
  }
  set onmessage(handler: ((event: MessageEvent<string>) => void) | null) {
    this.#setHandler('message', handler as EventListener | null)
  }
  get onerror(): ((event: StreamErrorEvent) => void) | null {
    return (this.#handlers.error as ((event: StreamErrorEvent) => void) | undefined) ?? null
  }
  set onerror(handler: ((event: StreamErrorEvent) => void) | null) {
    this.#setHandler('error', handler as EventListener | null)
  }

  /**
   * Like `EventTarget.addEventListener`, with typed events for the SDK's own types. A listener
   * that throws never breaks the stream: its exception is reported as an `error` event with
   * code `listener`.
   */
  override addEventListener<K extends keyof ResilientEventSourceEventMap>(
    type: K,
    listener: ((this: ResilientEventSource, event: ResilientEventSourceEventMap[K]) => unknown) | null,
    options?: boolean | AddEventListenerOptions,
  ): void
  override addEventListener(
    type: string,
    listener: ((this: ResilientEventSource, event: MessageEvent<string>) => unknown) | EventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | ((event: never) => unknown) | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (!listener) return
    const key = `${type}|${captureOf(options)}`
    let byType = this.#wrapped.get(listener)
    if (!byType) this.#wrapped.set(listener, (byType = new Map()))
    let wrapped = byType.get(key)
    if (!wrapped) {
      const target = listener as EventListenerOrEventListenerObject
      wrapped = (event: Event) => {
        try {
          if (typeof target === 'function') target.call(this, event)
          else target.handleEvent(event)
        } catch (error) {
          this.#reportListenerError(error, event)
        }
      }
      byType.set(key, wrapped)
      if (!OWN_TYPES.has(type)) {
        const count = this.#listenedTypes.get(type) ?? 0
        this.#listenedTypes.set(type, count + 1)
        if (count === 0) {
          this.#attempt?.handle?.addEventType?.(type)
          this.#link?.addEventType(type)
        }
      }
    }
    super.addEventListener(type, wrapped, options)
  }

  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | ((event: never) => unknown) | null,
    options?: boolean | EventListenerOptions,
  ): void {
    if (!listener) return
    const key = `${type}|${captureOf(options)}`
    const byType = this.#wrapped.get(listener)
    const wrapped = byType?.get(key)
    if (!wrapped) return
    byType?.delete(key)
    super.removeEventListener(type, wrapped, options)
    const count = this.#listenedTypes.get(type)
    if (count !== undefined) {
      if (count <= 1) this.#listenedTypes.delete(type)
      else this.#listenedTypes.set(type, count - 1)
    }
  }

  /**
   * Every app event (all types), in order, until `close()`. Leaving the loop closes the stream;
   * a stream that fails for good throws its `StreamError`.
   * @example
   * ```ts
   * for await (const event of new ResilientEventSource('/events')) console.log(event.type, event.data)
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<MessageEvent<string>> {
    const queue: MessageEvent<string>[] = []
    this.#queues.add(queue)
    const iterator: AsyncIterableIterator<MessageEvent<string>> = {
      next: () => {
        const event = queue.shift()
        if (event) return Promise.resolve({ value: event, done: false })
        if (this.#iterationError) return Promise.reject(this.#iterationError)
        if (this.#readyState === 2) return Promise.resolve({ value: undefined, done: true })
        return new Promise((resolve, reject) => {
          const waiter: Waiter = {
            queue,
            resolve: (result) => {
              this.#waiters.delete(waiter)
              resolve(result)
            },
            reject: (error) => {
              this.#waiters.delete(waiter)
              reject(error)
            },
          }
          this.#waiters.add(waiter)
        })
      },
      return: () => {
        this.#queues.delete(queue)
        this.close()
        return Promise.resolve({ value: undefined, done: true })
      },
      [Symbol.asyncIterator]: () => iterator,
    }
    return iterator
  }

  /**
   * Connects again now, resetting backoff and the credential refresh: call it after the app
   * fixed what a fatal error reported (e.g. the user logged in again). No effect after `close()`.
   */
  reconnect(): void {
    if (this.#closedByApp || this.#shared) return
    this.#failures = 0
    this.#authRetried = false
    this.#fellBack = false
    this.#endAttempt()
    this.#env.clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
    if (this.#readyState === 2) {
      // The stream had given up: its online/offline subscription went with it.
      this.#unsubscribeNetwork = this.#env.onNetworkChange((online) => this.#onNetworkChange(online))
    }
    this.#readyState = 0
    this.#iterationError = undefined
    this.#connect()
  }

  /** Closes the stream for good. Dispatches nothing, like native `EventSource.close()`. */
  close(): void {
    this.#closedByApp = true
    this.#shutdown()
    this.#finishIterators()
  }

  // ---- sharing one connection between tabs ------------------------------------------------

  async #joinShared(): Promise<void> {
    const shared = this.#shared
    if (!shared) return
    const { openSharedLink, sharedKey } = await import('./multiplexer/index')
    if (this.#readyState === 2) return
    const options = this.#options
    const wire: SharedStreamOptions = {
      withCredentials: this.withCredentials,
      transports: this.#ladder.map((transport) => transport.name),
      canaryTimeout: options.canaryTimeout ?? DEFAULTS.canaryTimeout,
      ping: options.ping,
      wait: options.wait,
      protocolQuery: options.protocolQuery ?? true,
      dedupe: options.dedupe ?? DEFAULTS.dedupe,
      maxEventSize: options.maxEventSize ?? DEFAULTS.maxEventSize,
      retry: typeof options.retry === 'function' ? undefined : options.retry,
      remember: typeof options.remember === 'object' ? { ttl: options.remember.ttl } : (options.remember ?? true),
      hasHeaders: options.headers !== undefined,
    }
    const resolveHeaders =
      options.headers === undefined
        ? undefined
        : (refresh: boolean): Promise<Record<string, string>> => {
            this.#refreshHeaders = refresh
            return this.#resolveHeaders()
          }
    this.#link = openSharedLink(
      {
        url: this.url,
        key: sharedKey(this.url, wire, shared.name),
        options: wire,
        lastEventId: this.#lastEventId,
        eventTypes: [...this.#listenedTypes.keys()],
        resolveHeaders,
      },
      this.#sharedSink(),
      shared,
    )
  }

  #sharedSink(): SharedLinkSink {
    return {
      message: (message) => {
        if (this.#readyState === 2) return
        if (this.#isRepeat(message.id)) return
        this.#lastEventId = message.lastEventId
        this.#deliver(message.type, message.data)
      },
      state: ({ readyState, transport, stats }) => {
        if (this.#readyState === 2) return
        if (stats) this.#remoteStats = stats
        this.#transport = transport
        if (readyState === 2) {
          this.#shutdown()
          this.#finishIterators()
        } else if (readyState === 1 && this.#readyState === 0) {
          this.#readyState = 1
          this.#dispatch(new Event('open'))
        } else {
          this.#readyState = readyState
        }
      },
      transportChange: (transport, previous, reason) => {
        if (this.#readyState === 2) return
        this.#transport = transport
        this.#dispatch(new TransportChangeEvent(transport, previous, reason))
      },
      error: (like) => {
        if (this.#readyState === 2) return
        const error = StreamError.from(like)
        if (!error.retryable) this.#iterationError = error
        this.#dispatch(new StreamErrorEvent(error))
      },
      gap: (gap) => {
        if (this.#readyState === 2) return
        this.#stats.gaps += 1
        this.#dispatch(new GapEvent(gap))
      },
    }
  }

  /** Hands one app event to listeners and iterators. */
  #deliver(type: string, data: string): void {
    this.#stats.events += 1
    const event = new MessageEvent<string>(type, { data, lastEventId: this.#lastEventId, origin: this.#origin })
    for (const queue of this.#queues) queue.push(event)
    this.#flushWaiters()
    this.#dispatch(event)
  }

  // ---- connecting -------------------------------------------------------------------------

  #connect(): void {
    if (this.#readyState === 2 || this.#attempt) return
    this.#retryTimer = undefined
    if (!this.#env.isOnline()) {
      this.#waitingOnline = true
      return
    }
    if (this.#upgradePending && this.#rung > 0) {
      this.#upgradePending = false
      this.#steppedDown = false
      this.#rung = 0
      this.#pendingReason = 'upgrade'
    }
    void this.#start()
  }

  async #start(): Promise<void> {
    const placeholder = {} as Attempt
    this.#attempt = placeholder
    let headers: Record<string, string>
    try {
      headers = await this.#resolveHeaders()
    } catch (cause) {
      if (this.#attempt !== placeholder) return
      this.#attempt = undefined
      this.#retry(new StreamError('headers', 'the headers function threw or rejected', { retryable: true, cause }))
      return
    }
    if (this.#attempt !== placeholder) return
    const request = this.#request(headers)
    let transport: Transport | undefined
    while (this.#rung < this.#ladder.length) {
      transport = this.#ladder[this.#rung]
      if (transport?.isSupported(request, this.#env)) break
      transport = undefined
      this.#rung += 1
      this.#pendingReason ??= 'unsupported'
    }
    if (!transport) {
      this.#attempt = undefined
      this.#terminate(new StreamError('unsupported', 'no transport of the ladder can run here'))
      return
    }
    const attempt: Attempt = {
      transport,
      index: this.#rung,
      request,
      handle: undefined,
      responded: false,
      proven: false,
      ended: false,
      canaryTime: undefined,
      canaryTimer: undefined,
      canaryDeadline: 0,
      stallTimer: undefined,
      deadlineTimer: undefined,
      sentAt: this.#env.now(),
      offset: undefined,
    }
    this.#attempt = attempt
    if (this.#transport !== transport.name) {
      const previous = this.#transport
      const reason = this.#pendingReason ?? (previous === null ? 'initial' : 'unsupported')
      this.#transport = transport.name
      if (previous !== null) this.#stats.transportChanges += 1
      this.#dispatch(new TransportChangeEvent(transport.name, previous, reason))
    }
    this.#pendingReason = undefined
    if (this.#attempt !== attempt) return
    if (transport.mode === 'stream' && this.#canaryExpected) {
      const timeout = this.#options.canaryTimeout === false ? 0 : (this.#options.canaryTimeout ?? DEFAULTS.canaryTimeout)
      this.#armCanary(attempt, timeout)
    } else if (transport.mode === 'close') {
      // A held `close` response still ends (the server's `wait`), so its canary may arrive late
      // without anything being wrong; only a response that never ends is a failure.
      const ms = ((this.#options.wait ?? DEFAULTS.wait) + DEFAULTS.deadlineMargin) * 1000
      attempt.deadlineTimer = this.#env.setTimeout(() => {
        if (this.#attempt === attempt) this.#fail(attempt, new StreamError('timeout', `no end of the batch within ${ms} ms`, { retryable: true }))
      }, ms)
    }
    attempt.handle = transport.open(request, this.#sink(attempt), this.#env)
  }

  async #resolveHeaders(): Promise<Record<string, string>> {
    const option = this.#options.headers
    const refresh = this.#refreshHeaders
    this.#refreshHeaders = false
    if (option === undefined) return {}
    const init = typeof option === 'function' ? await option({ refresh }) : option
    const result: Record<string, string> = {}
    new Headers(init).forEach((value, name) => {
      result[name] = value
    })
    return result
  }

  #request(headers: Record<string, string>): ConnectRequest {
    const options = this.#options
    return {
      url: this.url,
      lastEventId: this.#lastEventId === '' ? undefined : this.#lastEventId,
      startToken: this.#lastEventId === '' ? this.#startToken : undefined,
      headers,
      hasCustomHeaders: options.headers !== undefined,
      method: options.method ?? DEFAULTS.method,
      body: options.body,
      withCredentials: this.withCredentials,
      maxEventSize: options.maxEventSize ?? DEFAULTS.maxEventSize,
      ping: options.ping,
      wait: options.wait,
      protocolQuery: options.protocolQuery ?? true,
      eventTypes: [...this.#listenedTypes.keys()],
    }
  }

  #sink(attempt: Attempt): TransportSink {
    const live = (): boolean => this.#attempt === attempt
    return {
      open: () => {
        if (live()) this.#onResponse(attempt)
      },
      message: (message) => {
        if (live()) this.#onMessage(attempt, message)
      },
      retryHint: (ms) => {
        if (live()) this.#backoff.setServerBase(ms)
      },
      received: (bytes) => {
        if (live()) this.#stats.bytes += bytes
      },
      warning: (error: StreamError) => {
        if (live()) this.#dispatch(new StreamErrorEvent(error))
      },
      error: (error) => {
        if (live()) this.#fail(attempt, error)
      },
      end: () => {
        if (live()) this.#onEnd(attempt)
      },
    }
  }

  // ---- what the transport reports ---------------------------------------------------------

  #onResponse(attempt: Attempt): void {
    attempt.responded = true
    if (attempt.transport.mode === 'close') return
    if (attempt.transport.mode === 'poll' || !this.#canaryExpected) {
      this.#prove(attempt)
      return
    }
    // Headers arrived: the canary is in the same flush, so it gets a shorter deadline.
    const remaining = attempt.canaryDeadline - this.#env.now()
    if (remaining > DEFAULTS.canaryAfterOpen) this.#armCanary(attempt, DEFAULTS.canaryAfterOpen)
  }

  #onMessage(attempt: Attempt, message: EventStreamMessage): void {
    this.#armStall(attempt)
    const { type } = message
    if (type.startsWith('_')) {
      this.#onReserved(attempt, message)
      return
    }
    const id = message.id
    const parts = id ? parseEventId(id) : undefined
    if (this.#isRepeat(id, parts)) return
    if (id !== undefined) this.#lastEventId = id
    attempt.delivered = true
    this.#failures = 0
    this.#rungFailures = 0
    if (!attempt.proven) this.#prove(attempt)
    if (parts && this.#companion) this.#stats.addLatency(Math.max(0, this.#env.now() - parts.ms + this.#skew))
    this.#deliver(type, message.data)
    // Judge the path only after delivering: the event is here, however late.
    if (parts && this.#attempt === attempt && attempt.canaryTime !== undefined && parts.ms > attempt.canaryTime) {
      this.#observeServerTime(attempt, parts.ms)
    }
  }

  /**
   * Whether `id` was delivered already: it is in the window, or (on a stream the server says is
   * ordered) at or before the cursor. A new id is recorded in the window.
   */
  #isRepeat(id: string | undefined, parts = id ? parseEventId(id) : undefined): boolean {
    const seen = this.#seen
    if (id === undefined || id === '' || !seen) return false
    const cursor = this.#ordered && parts && this.#lastEventId !== '' ? parseEventId(this.#lastEventId) : undefined
    if (seen.has(id) || (parts && cursor && compareIdParts(parts, cursor) <= 0)) {
      this.#stats.duplicates += 1
      return true
    }
    seen.add(id)
    return false
  }

  #onReserved(attempt: Attempt, message: EventStreamMessage): void {
    const data = parseJson(message.data)
    switch (message.type) {
      case '_canary': {
        this.#companion = true
        attempt.canaryTime = typeof data?.t === 'number' ? data.t : undefined
        if (attempt.canaryTime !== undefined) {
          attempt.offset = attempt.canaryTime - attempt.sentAt
          this.#skew = Math.abs(attempt.offset) > SKEW_NOISE_MS ? attempt.offset : 0
        }
        this.#ordered = data?.ordered === true
        if (this.#lastEventId === '' && typeof data?.cursor === 'string') this.#lastEventId = data.cursor
        this.#pingSeconds = typeof data?.ping === 'number' ? data.ping : this.#pingSeconds
        this.#prove(attempt)
        return
      }
      case '_ping':
        if (typeof data?.t === 'number') this.#observeServerTime(attempt, data.t)
        return
      case '_end':
        attempt.ended = true
        attempt.more = data?.more === true
        // A long-poll batch names the cursor even when it carried no event: adopt it so a start
        // token is needed no longer than necessary.
        if (this.#lastEventId === '' && message.lastEventId !== '') this.#lastEventId = message.lastEventId
        return
      case '_backoff':
        attempt.backoff = typeof data?.retryMs === 'number' ? data.retryMs : undefined
        return
      case '_gap': {
        if (message.id !== undefined) this.#lastEventId = message.id
        this.#stats.gaps += 1
        this.#dispatch(new GapEvent(toGapInfo(data)))
        return
      }
      default:
        return
    }
  }

  #onEnd(attempt: Attempt): void {
    if (!attempt.ended) {
      this.#fail(attempt, new StreamError('network', 'the response ended without the server’s _end', { retryable: true }))
      return
    }
    // A planned end (batch, rotation, drain): reconnect at once with the new cursor...
    if (!attempt.proven) this.#prove(attempt)
    this.#rungFailures = 0
    this.#endAttempt()
    const quick = this.#env.now() - attempt.sentAt < QUICK_EMPTY_MS
    if (attempt.transport.mode === 'stream' || attempt.delivered || attempt.more || !quick) {
      this.#connect()
      return
    }
    // ...unless an empty batch came back at once: a server or cache that does not hold requests
    // (`wait=0`, a CDN caching polls) must not turn into a hot loop.
    this.#retryTimer = this.#env.setTimeout(() => this.#connect(), MIN_DELAY + this.#env.random() * (QUICK_EMPTY_MS - MIN_DELAY))
  }

  #fail(attempt: Attempt, error: StreamError): void {
    this.#endAttempt()
    const status = error.code === 'http-status' ? error.status : undefined
    if (status === 401 || status === 403) {
      if (!this.#authRetried) {
        this.#authRetried = true
        this.#refreshHeaders = true
        this.#connect()
        return
      }
      this.#terminate(error)
      return
    }
    if (error.code === 'unsupported' || ((error.code === 'content-type' || error.code === 'parse') && !this.#fellBack)) {
      if (error.code !== 'unsupported') this.#fellBack = true
      if (attempt.index + 1 < this.#ladder.length) {
        this.#dispatch(new StreamErrorEvent(error))
        if (this.#readyState === 2) return
        this.#rung = attempt.index + 1
        this.#pendingReason = 'unsupported'
        this.#connect()
        return
      }
    }
    if (!error.retryable) {
      this.#terminate(error)
      return
    }
    const backoff = attempt.backoff
    const retryError =
      backoff !== undefined && error.retryAfter === undefined
        ? new StreamError(error.code, error.message, { retryable: true, retryAfter: backoff, cause: error })
        : error
    if (!attempt.proven && attempt.transport.mode !== 'poll' && this.#canaryExpected) {
      this.#rungFailures += 1
      // A `close` attempt that fails before its canary already cost up to `wait` seconds.
      const limit = attempt.transport.mode === 'close' ? 1 : FAILURES_BEFORE_PROBE
      if (this.#rungFailures >= limit && stepDownIndex(this.#ladder, attempt.index) >= 0) {
        this.#rungFailures = 0
        this.#probeThen(attempt, retryError)
        return
      }
    }
    this.#retry(retryError)
  }

  /** Asks the control probe whether the server is up: if so, this rung is blocked on the path. */
  #probeThen(attempt: Attempt, error: StreamError): void {
    const marker = {} as Attempt
    this.#attempt = marker
    void probe(attempt.request, this.#env).then((result) => {
      if (this.#attempt !== marker) return
      this.#attempt = undefined
      if (result === 'companion') this.#stepDown(attempt.index, 'buffered')
      else this.#retry(error)
    })
  }

  #retry(error: StreamError): void {
    if (this.#readyState === 2) return
    this.#failures += 1
    const delay = this.#backoff.delay(this.#failures, error)
    if (delay === false) {
      this.#terminate(error)
      return
    }
    this.#readyState = 0
    this.#stats.reconnects += 1
    this.#dispatch(new StreamErrorEvent(error))
    if (this.readyState === 2 || this.#attempt || this.#retryTimer !== undefined) return
    if (!this.#env.isOnline()) {
      this.#waitingOnline = true
      return
    }
    this.#retryTimer = this.#env.setTimeout(() => this.#connect(), delay)
  }

  // ---- the ladder -------------------------------------------------------------------------

  #armCanary(attempt: Attempt, ms: number): void {
    this.#env.clearTimeout(attempt.canaryTimer)
    attempt.canaryDeadline = this.#env.now() + ms
    attempt.canaryTimer = this.#env.setTimeout(() => this.#onCanaryTimeout(attempt), ms)
  }

  #onCanaryTimeout(attempt: Attempt): void {
    if (this.#attempt !== attempt || attempt.proven) return
    if (this.#companion && attempt.responded) {
      this.#stepDown(attempt.index, 'buffered')
      return
    }
    void probe(attempt.request, this.#env).then((result) => {
      if (this.#attempt !== attempt || attempt.proven) return
      if (result === 'companion') {
        this.#companion = true
        this.#stepDown(attempt.index, 'buffered')
      } else if (result === 'other') {
        // Not our companion: nothing to step down to; wait like native EventSource would.
        this.#canaryExpected = false
        if (attempt.responded) this.#prove(attempt)
      } else {
        this.#fail(attempt, new StreamError('timeout', 'no response from the server', { retryable: true }))
      }
    })
  }

  #stepDown(from: number, reason: TransportChangeReason): void {
    const target = stepDownIndex(this.#ladder, from)
    if (target < 0) {
      // Nowhere lower to go: keep the stream, late events are better than none.
      const attempt = this.#attempt
      if (attempt && attempt.index === from && !attempt.proven) this.#prove(attempt)
      this.#dispatch(new StreamErrorEvent(new StreamError('buffered', 'an intermediary holds the stream back; no lower transport is configured', { retryable: true })))
      return
    }
    this.#endAttempt()
    this.#rung = target
    this.#pendingReason = reason
    this.#steppedDown = true
    this.#scheduleUpgrade(this.#rememberTtl())
    this.#connect()
  }

  #rememberTtl(): number {
    const remember = this.#options.remember
    return typeof remember === 'object' ? (remember.ttl ?? DEFAULTS.rememberTtl) : DEFAULTS.rememberTtl
  }

  #scheduleUpgrade(ms: number): void {
    this.#env.clearTimeout(this.#upgradeTimer)
    this.#upgradeTimer = this.#env.setTimeout(() => {
      this.#upgradeTimer = undefined
      this.#upgradePending = true
    }, Math.max(0, ms))
  }

  /** The attempt delivered (canary, first event, or a completed poll): the path works. */
  #prove(attempt: Attempt): void {
    if (attempt.proven) return
    attempt.proven = true
    this.#env.clearTimeout(attempt.canaryTimer)
    this.#authRetried = false
    this.#fellBack = false
    this.#rungFailures = 0
    const name = attempt.transport.name
    const wanted = this.#steppedDown ? name : undefined
    if (this.#memory && wanted !== this.#rememberedAs) {
      if (wanted) this.#memory.remember(wanted)
      else this.#memory.forget()
      this.#rememberedAs = wanted
    }
    this.#env.clearTimeout(this.#healthyTimer)
    this.#healthyTimer = this.#env.setTimeout(() => {
      if (this.#attempt === attempt) this.#failures = 0
    }, DEFAULTS.healthyAfter)
    this.#armStall(attempt)
    if (this.#readyState === 0) {
      this.#readyState = 1
      this.#dispatch(new Event('open'))
    }
  }

  /** Steady state: no frame for 2 × ping + 5 s means the stream is dead though open. */
  #armStall(attempt: Attempt): void {
    if (attempt.transport.mode !== 'stream' || this.#pingSeconds === undefined || !this.#companion) return
    this.#env.clearTimeout(attempt.stallTimer)
    const ms = (2 * this.#pingSeconds + 5) * 1000
    attempt.stallTimer = this.#env.setTimeout(() => {
      if (this.#attempt === attempt) this.#fail(attempt, new StreamError('timeout', `no frame for ${ms} ms`, { retryable: true }))
    }, ms)
  }

  /**
   * A live frame (ping, or an event published after the canary) whose arrival lags its server
   * time by ≥ 10 s, clocks corrected by the canary, was held by an intermediary: step down.
   * The threshold shrinks with short heartbeats (half the ping interval, at least 2 s).
   */
  #observeServerTime(attempt: Attempt, serverTime: number): void {
    if (attempt.offset === undefined || attempt.transport.mode !== 'stream') return
    const lag = this.#env.now() - (serverTime - attempt.offset)
    const threshold = Math.max(2000, Math.min(HELD_MS, (this.#pingSeconds ?? Infinity) * 500))
    if (lag >= threshold) this.#stepDown(attempt.index, 'buffered')
  }

  // ---- network and teardown ---------------------------------------------------------------

  #onNetworkChange(online: boolean): void {
    if (this.#readyState === 2) return
    if (!online) {
      if (this.#retryTimer !== undefined) {
        this.#env.clearTimeout(this.#retryTimer)
        this.#retryTimer = undefined
        this.#waitingOnline = true
      }
      return
    }
    if (this.#steppedDown) this.#upgradePending = true
    if (this.#waitingOnline || this.#retryTimer !== undefined) {
      this.#env.clearTimeout(this.#retryTimer)
      this.#retryTimer = undefined
      this.#waitingOnline = false
      this.#failures = 0
      this.#connect()
    }
  }

  #endAttempt(): void {
    const attempt = this.#attempt
    this.#attempt = undefined
    if (!attempt?.transport) return
    this.#env.clearTimeout(attempt.canaryTimer)
    this.#env.clearTimeout(attempt.stallTimer)
    this.#env.clearTimeout(attempt.deadlineTimer)
    attempt.handle?.close()
  }

  #terminate(error: StreamError): void {
    this.#shutdown()
    this.#iterationError = error
    this.#dispatch(new StreamErrorEvent(error))
    this.#finishIterators()
  }

  #shutdown(): void {
    this.#readyState = 2
    this.#link?.close()
    this.#link = undefined
    this.#endAttempt()
    this.#env.clearTimeout(this.#retryTimer)
    this.#env.clearTimeout(this.#healthyTimer)
    this.#env.clearTimeout(this.#upgradeTimer)
    this.#retryTimer = undefined
    this.#unsubscribeNetwork()
  }

  // ---- dispatching ------------------------------------------------------------------------

  #dispatch(event: Event): void {
    this.dispatchEvent(event)
  }

  #reportListenerError(error: unknown, event: Event): void {
    if (event.type === 'error') {
      const report = (globalThis as { reportError?: (error: unknown) => void }).reportError
      if (report) report(error)
      else console.error(error)
      return
    }
    this.#dispatch(new StreamErrorEvent(new StreamError('listener', `a "${event.type}" listener threw`, { retryable: true, cause: error })))
  }

  #setHandler(type: 'open' | 'message' | 'error', handler: EventListener | null): void {
    const previous = this.#handlers[type]
    if (previous) this.removeEventListener(type, previous)
    if (handler) {
      this.#handlers[type] = handler
      this.addEventListener(type, handler)
    } else {
      delete this.#handlers[type]
    }
  }

  #flushWaiters(): void {
    for (const waiter of this.#waiters) {
      const event = waiter.queue.shift()
      if (event) waiter.resolve({ value: event, done: false })
    }
  }

  #finishIterators(): void {
    for (const waiter of [...this.#waiters]) {
      if (this.#iterationError) waiter.reject(this.#iterationError)
      else waiter.resolve({ value: undefined, done: true })
    }
  }
}

function captureOf(options: boolean | EventListenerOptions | undefined): boolean {
  return typeof options === 'boolean' ? options : (options?.capture ?? false)
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

function toGapInfo(data: Record<string, unknown> | undefined): GapInfo {
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : null)
  const reason = data?.reason
  return {
    requested: text(data?.requested) ?? '',
    oldest: text(data?.oldest),
    head: text(data?.head),
    reason: reason === 'expired' || reason === 'future' ? reason : 'unknown',
  }
}

/** 128 random bits, base64url: the protocol's start token (≥ 96 bits). */
function createStartToken(random: () => number): string {
  const bytes = new Uint8Array(16)
  const crypto = (globalThis as { crypto?: { getRandomValues?: (array: Uint8Array) => Uint8Array } }).crypto
  if (crypto?.getRandomValues) crypto.getRandomValues(bytes)
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256)
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
