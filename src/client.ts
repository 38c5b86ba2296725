import { createIdWindow, type IdWindow } from './dedupe'
import { compareIdParts, parseEventId } from './ids'
import { createEnv, type Env } from './env'
import { StreamError, type StreamErrorCode } from './errors'
import { GapEvent, StreamErrorEvent, TransportChangeEvent, type ResilientEventSourceEventMap, type TransportChangeReason } from './events'
import { createVerdictMemory, stepDownIndex, type VerdictMemory } from './ladder'
import {
  CANARY_AFTER_OPEN,
  DEADLINE_MARGIN,
  DEFAULT_CANARY_TIMEOUT,
  DEFAULT_DEDUPE,
  DEFAULT_MAX_EVENT_SIZE,
  DEFAULT_METHOD,
  DEFAULT_REMEMBER_TTL,
  DEFAULT_TRANSPORTS,
  DEFAULT_WAIT,
  HEALTHY_AFTER,
  type ResilientEventSourceOptions,
  within,
} from './options'
import type { EventStreamMessage } from './parser/types'
import { createBackoff, MAX_TIMER, MIN_DELAY, type Backoff } from './retry'
import { StatsRecorder, type StreamStats } from './stats'
import { probe, transportsByName } from './transports/index'
import type { ConnectRequest, Transport, TransportHandle, TransportName, TransportSink } from './transports/types'
import type { SharedLink, SharedLinkSink, SharedOptions, SharedStreamOptions } from './multiplexer/types'

/** 0 connecting, 1 open, 2 closed: the native `EventSource` values. */
export type ReadyState = 0 | 1 | 2

/** Event types the client dispatches itself; every other listened type is an app event. */
const OWN_TYPES = ['open', 'error', 'transportchange', 'gap']
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
  /** When the request was sent, by the client's clock. */
  readonly sentAt: number
  handle?: TransportHandle
  /**
   * The attempt's one timer: the canary deadline until the attempt is proven, then the stall
   * deadline (streams); the batch deadline for `close` (which has neither).
   */
  timer?: unknown
  /** When the canary deadline falls, by the client's clock. */
  canaryDeadline?: number
  /** The transport accepted the response (status, content type). */
  responded?: boolean
  /** The server's `_canary` arrived (or none is expected). */
  proven?: boolean
  /** A planned `_end` arrived: the response may end. */
  ended?: boolean
  canaryTime?: number
  /** Server clock minus client clock, from the canary (includes the request's one-way time). */
  offset?: number
  /** Server-requested wait from `_backoff`, in ms. */
  backoff?: number
  /** A new app event arrived on this attempt. */
  delivered?: boolean
  /** The server said more events are waiting (`_end {more: true}`). */
  more?: boolean
}

/** One `for await` loop: its own queue, and how to wake its pending `next()`. */
interface Iteration {
  readonly queue: MessageEvent<string>[]
  wake?: () => void
}

type Handler<E> = ((event: E) => void) | null

const retryable = (code: StreamErrorCode, message: string, cause?: unknown): StreamError =>
  new StreamError(code, message, { retryable: true, cause })

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
  /** Like native `onopen`: one handler, kept apart from `addEventListener` listeners. */
  declare onopen: Handler<Event>
  declare onmessage: Handler<MessageEvent<string>>
  declare onerror: Handler<StreamErrorEvent>

  static {
    for (const type of ['open', 'message', 'error'] as const) {
      Object.defineProperty(this.prototype, 'on' + type, {
        get(this: ResilientEventSource) {
          return this.#handlers[type] ?? null
        },
        set(this: ResilientEventSource, handler: EventListener | null) {
          const previous = this.#handlers[type]
          if (previous) this.removeEventListener(type, previous)
          this.#handlers[type] = handler ?? undefined
          if (handler) this.addEventListener(type, handler)
        },
      })
    }
  }

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
  readonly #rememberTtl: number
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
  readonly #iterations = new Set<Iteration>()
  #iterationError: StreamError | undefined
  readonly #listenedTypes = new Map<string, number>()
  /** Per listener, its wrapper per `type|capture`. */
  readonly #wrapped = new WeakMap<object, Record<string, EventListener>>()
  readonly #handlers: Partial<Record<string, EventListener>> = {}
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
    let resolved: URL
    try {
      resolved = new URL(String(url), (globalThis as { location?: { href?: string } }).location?.href)
    } catch (cause) {
      throw new SyntaxError('ResilientEventSource: invalid URL ' + url, { cause })
    }
    this.url = resolved.href
    this.#origin = resolved.origin
    this.#options = options
    this.withCredentials = !!options.withCredentials
    this.#lastEventId = `${options.lastEventId ?? ''}`
    // No header can carry a line break or NUL (a server's id never has one): refuse it here, not by retrying forever.
    if (/[\r\n\0]/.test(this.#lastEventId)) throw new TypeError('ResilientEventSource: invalid lastEventId')
    const env = (this.#env = createEnv({
      ...options.env,
      fetch: options.fetch ?? options.env?.fetch,
      EventSource: options.EventSource ?? options.env?.EventSource,
    }))
    const ladder = (this.#ladder = (options.transports ?? DEFAULT_TRANSPORTS).map((entry) =>
      typeof entry === 'string' ? transportsByName[entry] : entry,
    ))
    if (!ladder.length || !ladder.every((transport) => transport?.open)) throw new TypeError('ResilientEventSource: invalid transports ' + options.transports)
    this.#backoff = createBackoff(options.retry, env.random)
    const dedupe = options.dedupe ?? DEFAULT_DEDUPE
    if (dedupe !== false) this.#seen = createIdWindow(dedupe)
    this.#canaryExpected = options.canaryTimeout !== false
    this.#startToken = createStartToken(env.random)
    const shared = options.shared
    if (shared) this.#shared = shared === true ? {} : shared
    const remember = options.remember ?? true
    const { ttl = DEFAULT_REMEMBER_TTL, storage = env.storage() } = remember === true ? {} : remember || { storage: null }
    this.#rememberTtl = ttl
    if (remember) {
      const verdict = (this.#memory = createVerdictMemory(this.url, storage ?? undefined, ttl, env.now)).recall()
      const index = ladder.findIndex((transport) => transport.name === verdict?.transport)
      if (index > 0) {
        this.#rung = index
        this.#pendingReason = 'remembered'
        this.#steppedDown = true
        this.#rememberedAs = verdict!.transport
        this.#scheduleUpgrade(verdict!.until - env.now())
      }
    }
    this.#unsubscribeNetwork = this.#subscribeNetwork()
    const signal = options.signal
    if (signal?.aborted) {
      this.close()
      return
    }
    signal?.addEventListener('abort', () => this.close(), { once: true })
    // A microtask lets listeners added right after construction see every event.
    queueMicrotask(() => void (this.#shared ? this.#joinShared() : this.#connect()))
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
    const { events, duplicates, gaps } = local
    // Shared: this tab counts what it delivered; the connection's counters are the coordinator's.
    return this.#remoteStats ? { ...this.#remoteStats, events, duplicates, gaps } : local
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
    const target = listener as EventListenerOrEventListenerObject
    const wrappers = this.#wrapped.get(target) ?? {}
    this.#wrapped.set(target, wrappers)
    const key = keyOf(type, options)
    if (!wrappers[key]) {
      wrappers[key] = (event) => {
        try {
          if (typeof target === 'function') target.call(this, event)
          else target.handleEvent(event)
        } catch (error) {
          this.#reportListenerError(error, event)
        }
      }
      if (this.#countType(type, 1) === 1) {
        this.#attempt?.handle?.addEventType?.(type)
        this.#link?.addEventType(type)
      }
    }
    super.addEventListener(type, wrappers[key]!, options)
  }

  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | ((event: never) => unknown) | null,
    options?: boolean | EventListenerOptions,
  ): void {
    const wrappers = listener ? this.#wrapped.get(listener) : undefined
    const key = keyOf(type, options)
    const wrapped = wrappers?.[key]
    if (!wrapped) return
    delete wrappers[key]
    super.removeEventListener(type, wrapped, options)
    this.#countType(type, -1)
  }

  /** Counts listeners of an app event type. @returns how many there are now */
  #countType(type: string, delta: number): number {
    if (OWN_TYPES.includes(type)) return 0
    const count = (this.#listenedTypes.get(type) ?? 0) + delta
    if (count > 0) this.#listenedTypes.set(type, count)
    else this.#listenedTypes.delete(type)
    return count
  }

  /**
   * Every app event (all types), in order, until `close()`. Leaving the loop closes the stream;
   * a stream that fails for good throws its `StreamError`.
   * @example
   * ```ts
   * for await (const event of new ResilientEventSource('/events')) console.log(event.type, event.data)
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<MessageEvent<string>, void, undefined> {
    const iteration: Iteration = { queue: [] }
    this.#iterations.add(iteration)
    let ended = false
    try {
      for (;;) {
        const event = iteration.queue.shift()
        if (event) yield event
        else if ((ended = !!this.#iterationError)) throw this.#iterationError
        else if ((ended = this.#readyState === 2)) return
        else await new Promise<void>((resolve) => (iteration.wake = resolve))
      }
    } finally {
      this.#iterations.delete(iteration)
      // Leaving the loop early (`break`, `return`, a throw in its body) closes the stream.
      if (!ended) this.close()
    }
  }

  /**
   * Connects again now, resetting backoff and the credential refresh: call it after the app
   * fixed what a fatal error reported (e.g. the user logged in again). No effect after `close()`.
   */
  reconnect(): void {
    if (this.#closedByApp || this.#shared) return
    this.#failures = 0
    this.#authRetried = this.#fellBack = false
    this.#endAttempt()
    this.#env.clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
    // The stream had given up: its online/offline subscription went with it.
    if (this.#readyState === 2) this.#unsubscribeNetwork = this.#subscribeNetwork()
    this.#readyState = 0
    this.#iterationError = undefined
    this.#connect()
  }

  /** Closes the stream for good. Dispatches nothing, like native `EventSource.close()`. */
  close(): void {
    this.#closedByApp = true
    this.#shutdown()
    this.#wakeIterations()
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
      canaryTimeout: options.canaryTimeout ?? DEFAULT_CANARY_TIMEOUT,
      ping: options.ping,
      wait: options.wait,
      protocolQuery: options.protocolQuery ?? true,
      dedupe: options.dedupe ?? DEFAULT_DEDUPE,
      maxEventSize: options.maxEventSize ?? DEFAULT_MAX_EVENT_SIZE,
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
          this.#wakeIterations()
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
    for (const iteration of this.#iterations) iteration.queue.push(event)
    this.#wakeIterations()
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
      this.#upgradePending = this.#steppedDown = false
      this.#rung = 0
      this.#pendingReason = 'upgrade'
    }
    void this.#start()
  }

  async #start(): Promise<void> {
    const placeholder = {} as Attempt
    this.#attempt = placeholder
    let failure: StreamError | undefined
    const headers = await this.#resolveHeaders().catch((cause: unknown) => {
      failure = retryable('headers', 'the headers function failed', cause)
      return {}
    })
    if (this.#attempt !== placeholder) return
    this.#attempt = undefined
    if (failure) return this.#retry(failure)
    const request = this.#request(headers)
    let transport: Transport | undefined
    while ((transport = this.#ladder[this.#rung]) && !transport.isSupported(request, this.#env)) {
      this.#rung += 1
      this.#pendingReason ??= 'unsupported'
    }
    if (!transport) return this.#terminate(new StreamError('unsupported', 'no transport can run here'))
    const attempt: Attempt = { transport, index: this.#rung, request, sentAt: this.#env.now() }
    this.#attempt = attempt
    const previous = this.#transport
    if (previous !== transport.name) {
      this.#transport = transport.name
      if (previous) this.#stats.transportChanges += 1
      this.#dispatch(new TransportChangeEvent(transport.name, previous, this.#pendingReason ?? (previous ? 'unsupported' : 'initial')))
    }
    this.#pendingReason = undefined
    if (this.#attempt !== attempt) return
    if (transport.mode === 'stream' && this.#canaryExpected) {
      this.#armCanary(attempt, within(this.#options.canaryTimeout, 1, MAX_TIMER, DEFAULT_CANARY_TIMEOUT))
    } else if (transport.mode === 'close') {
      // A held `close` response still ends (the server's `wait`), so its canary may arrive late
      // without anything being wrong; only a response that never ends is a failure.
      const ms = ((request.wait ?? DEFAULT_WAIT) + DEADLINE_MARGIN) * 1000
      this.#armTimer(attempt, ms, () => this.#fail(attempt, retryable('timeout', `no end of the batch in ${ms} ms`)))
    }
    attempt.handle = transport.open(request, this.#sink(attempt), this.#env)
  }

  async #resolveHeaders(): Promise<Record<string, string>> {
    const option = this.#options.headers
    const refresh = this.#refreshHeaders
    this.#refreshHeaders = false
    return Object.fromEntries(new Headers(typeof option === 'function' ? await option({ refresh }) : option))
  }

  #request(headers: Record<string, string>): ConnectRequest {
    const options = this.#options
    const cursor = this.#lastEventId
    return {
      url: this.url,
      lastEventId: cursor || undefined,
      startToken: cursor ? undefined : this.#startToken,
      headers,
      hasCustomHeaders: options.headers !== undefined,
      method: options.method ?? DEFAULT_METHOD,
      body: options.body,
      withCredentials: this.withCredentials,
      maxEventSize: within(options.maxEventSize, 1, Infinity, DEFAULT_MAX_EVENT_SIZE),
      // The server clamps `ping` (5–30 s, junk ⇒ its default); `wait` also sets the client's deadlines.
      ping: options.ping,
      wait: within(options.wait, 0, DEFAULT_WAIT, undefined),
      protocolQuery: options.protocolQuery ?? true,
      eventTypes: [...this.#listenedTypes.keys()],
    }
  }

  #sink(attempt: Attempt): TransportSink {
    const live =
      <A extends unknown[]>(handler: (...args: A) => void) =>
      (...args: A): void => {
        if (this.#attempt === attempt) handler(...args)
      }
    return {
      open: live(() => this.#onResponse(attempt)),
      message: live((message: EventStreamMessage) => this.#onMessage(attempt, message)),
      retryHint: live((ms: number) => this.#backoff.setServerBase(ms)),
      received: live((bytes: number) => void (this.#stats.bytes += bytes)),
      warning: live((error: StreamError) => this.#dispatch(new StreamErrorEvent(error))),
      error: live((error: StreamError) => this.#fail(attempt, error)),
      end: live(() => this.#onEnd(attempt)),
    }
  }

  // ---- what the transport reports ---------------------------------------------------------

  #onResponse(attempt: Attempt): void {
    attempt.responded = true
    const { mode } = attempt.transport
    if (mode === 'close') return
    if (mode === 'poll' || !this.#canaryExpected) return this.#prove(attempt)
    // Headers arrived: the canary is in the same flush, so it gets a shorter deadline.
    if (attempt.canaryDeadline! - this.#env.now() > CANARY_AFTER_OPEN) this.#armCanary(attempt, CANARY_AFTER_OPEN)
  }

  #onMessage(attempt: Attempt, message: EventStreamMessage): void {
    const { type, id } = message
    if (attempt.proven) this.#armStall(attempt)
    if (type[0] === '_') return this.#onReserved(attempt, message)
    const parts = id ? parseEventId(id) : undefined
    if (this.#isRepeat(id, parts)) return
    if (id !== undefined) this.#lastEventId = id
    attempt.delivered = true
    this.#failures = this.#rungFailures = 0
    this.#prove(attempt)
    if (parts && this.#companion) this.#stats.addLatency(Math.max(0, this.#env.now() - parts.ms + this.#skew))
    this.#deliver(type, message.data)
    // Judge the path only after delivering: the event is here, however late.
    if (parts && this.#attempt === attempt && parts.ms > attempt.canaryTime!) this.#observeServerTime(attempt, parts.ms)
  }

  /**
   * Whether `id` was delivered already: it is in the window, or (on a stream the server says is
   * ordered) at or before the cursor. A new id is recorded in the window.
   */
  #isRepeat(id: string | undefined, parts = id ? parseEventId(id) : undefined): boolean {
    const seen = this.#seen
    if (!id || !seen) return false
    const cursor = this.#ordered && parts && this.#lastEventId ? parseEventId(this.#lastEventId) : undefined
    if (seen.has(id) || (cursor && compareIdParts(parts!, cursor) <= 0)) {
      this.#stats.duplicates += 1
      return true
    }
    seen.add(id)
    return false
  }

  #onReserved(attempt: Attempt, message: EventStreamMessage): void {
    let data: Record<string, unknown> = {}
    try {
      data = Object(JSON.parse(message.data))
    } catch {
      // an unreadable reserved event carries nothing
    }
    const number = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined)
    const text = (value: unknown): string | null => (typeof value === 'string' ? value : null)
    switch (message.type) {
      case '_canary': {
        this.#companion = true
        const time = (attempt.canaryTime = number(data.t))
        if (time !== undefined) {
          const offset = (attempt.offset = time - attempt.sentAt)
          this.#skew = Math.abs(offset) > SKEW_NOISE_MS ? offset : 0
        }
        this.#ordered = data.ordered === true
        this.#lastEventId ||= text(data.cursor) ?? ''
        this.#pingSeconds = number(data.ping) ?? this.#pingSeconds
        return this.#prove(attempt)
      }
      case '_ping': {
        const time = number(data.t)
        if (time !== undefined) this.#observeServerTime(attempt, time)
        return
      }
      case '_end':
        attempt.ended = true
        attempt.more = data.more === true
        // A long-poll batch names the cursor even when it carried no event: adopt it so a start
        // token is needed no longer than necessary.
        this.#lastEventId ||= message.lastEventId
        return
      case '_backoff':
        attempt.backoff = number(data.retryMs)
        return
      case '_gap': {
        if (message.id !== undefined) this.#lastEventId = message.id
        this.#stats.gaps += 1
        const reason = data.reason
        this.#dispatch(
          new GapEvent({
            requested: text(data.requested) ?? '',
            oldest: text(data.oldest),
            head: text(data.head),
            reason: reason === 'expired' || reason === 'future' ? reason : 'unknown',
          }),
        )
      }
    }
  }

  #onEnd(attempt: Attempt): void {
    if (!attempt.ended) return this.#fail(attempt, retryable('network', 'the response ended without _end'))
    // A planned end (batch, rotation, drain): reconnect at once with the new cursor...
    this.#prove(attempt)
    this.#rungFailures = 0
    this.#endAttempt()
    const quick = this.#env.now() - attempt.sentAt < QUICK_EMPTY_MS
    if (attempt.transport.mode === 'stream' || attempt.delivered || attempt.more || !quick) return this.#connect()
    // ...unless an empty batch came back at once: a server or cache that does not hold requests
    // (`wait=0`, a CDN caching polls) must not turn into a hot loop.
    this.#retryTimer = this.#env.setTimeout(() => this.#connect(), MIN_DELAY + this.#env.random() * (QUICK_EMPTY_MS - MIN_DELAY))
  }

  #fail(attempt: Attempt, error: StreamError): void {
    this.#endAttempt()
    const { code, status } = error
    const { mode } = attempt.transport
    if (code === 'http-status' && (status === 401 || status === 403)) {
      if (this.#authRetried) return this.#terminate(error)
      this.#authRetried = this.#refreshHeaders = true
      return this.#connect()
    }
    const next = attempt.index + 1
    if (code === 'unsupported' || ((code === 'content-type' || code === 'parse') && !this.#fellBack)) {
      if (code !== 'unsupported') this.#fellBack = true
      if (next < this.#ladder.length) {
        this.#dispatch(new StreamErrorEvent(error))
        if (this.readyState === 2) return
        this.#rung = next
        this.#pendingReason = 'unsupported'
        return this.#connect()
      }
    }
    if (!error.retryable) return this.#terminate(error)
    const backoff = attempt.backoff
    const retryError =
      backoff !== undefined && error.retryAfter === undefined
        ? new StreamError(code, error.message, { retryable: true, retryAfter: backoff, cause: error })
        : error
    // A `close` attempt that fails before its canary already cost up to `wait` seconds.
    if (
      !attempt.proven &&
      mode !== 'poll' &&
      this.#canaryExpected &&
      ++this.#rungFailures >= (mode === 'close' ? 1 : FAILURES_BEFORE_PROBE) &&
      stepDownIndex(this.#ladder, attempt.index) >= 0
    ) {
      this.#rungFailures = 0
      return this.#probeThen(attempt, retryError)
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
      if (result === 'companion') this.#stepDown(attempt.index)
      else this.#retry(error)
    })
  }

  #retry(error: StreamError): void {
    if (this.#readyState === 2) return
    let delay: number | false
    try {
      delay = this.#backoff.delay(++this.#failures, error)
    } catch (cause) {
      return this.#terminate(new StreamError(error.code, 'the retry function threw', { cause }))
    }
    if (delay === false) return this.#terminate(error)
    this.#readyState = 0
    this.#stats.reconnects += 1
    this.#dispatch(new StreamErrorEvent(error))
    if (this.readyState === 2 || this.#attempt || this.#retryTimer !== undefined) return
    if (!this.#env.isOnline()) this.#waitingOnline = true
    else this.#retryTimer = this.#env.setTimeout(() => this.#connect(), delay)
  }

  // ---- the ladder -------------------------------------------------------------------------

  /** Sets the attempt's one timer; `fire` runs only while the attempt is current. */
  #armTimer(attempt: Attempt, ms: number, fire: () => void): void {
    this.#env.clearTimeout(attempt.timer)
    attempt.timer = this.#env.setTimeout(() => this.#attempt === attempt && fire(), ms)
  }

  #armCanary(attempt: Attempt, ms: number): void {
    attempt.canaryDeadline = this.#env.now() + ms
    this.#armTimer(attempt, ms, () => this.#onCanaryTimeout(attempt))
  }

  #onCanaryTimeout(attempt: Attempt): void {
    if (attempt.proven) return
    if (this.#companion && attempt.responded) return this.#stepDown(attempt.index)
    void probe(attempt.request, this.#env).then((result) => {
      if (this.#attempt !== attempt || attempt.proven) return
      if (result === 'companion') {
        this.#companion = true
        this.#stepDown(attempt.index)
      } else if (result === 'other') {
        // Not our companion: nothing to step down to; wait like native EventSource would.
        this.#canaryExpected = false
        if (attempt.responded) this.#prove(attempt)
      } else {
        this.#fail(attempt, retryable('timeout', 'no response from the server'))
      }
    })
  }

  /** The path holds this rung's stream back: step down (reason `buffered`). */
  #stepDown(from: number): void {
    const target = stepDownIndex(this.#ladder, from)
    if (target < 0) {
      // Nowhere lower to go: keep the stream, late events are better than none.
      const attempt = this.#attempt
      if (attempt?.index === from) this.#prove(attempt)
      this.#dispatch(new StreamErrorEvent(retryable('buffered', 'an intermediary holds the stream back; no lower transport')))
      return
    }
    this.#endAttempt()
    this.#rung = target
    this.#pendingReason = 'buffered'
    this.#steppedDown = true
    this.#scheduleUpgrade(this.#rememberTtl)
    this.#connect()
  }

  #scheduleUpgrade(ms: number): void {
    this.#env.clearTimeout(this.#upgradeTimer)
    this.#upgradeTimer = this.#env.setTimeout(() => (this.#upgradePending = true), within(ms, 0, MAX_TIMER, 0))
  }

  /** The attempt delivered (canary, first event, or a completed poll): the path works. */
  #prove(attempt: Attempt): void {
    if (attempt.proven) return
    attempt.proven = true
    this.#authRetried = this.#fellBack = false
    this.#rungFailures = 0
    const wanted = this.#steppedDown ? attempt.transport.name : undefined
    if (this.#memory && wanted !== this.#rememberedAs) {
      if (wanted) this.#memory.remember(wanted)
      else this.#memory.forget()
      this.#rememberedAs = wanted
    }
    this.#env.clearTimeout(this.#healthyTimer)
    this.#healthyTimer = this.#env.setTimeout(() => this.#attempt === attempt && (this.#failures = 0), HEALTHY_AFTER)
    this.#armStall(attempt)
    if (this.#readyState === 0) {
      this.#readyState = 1
      this.#dispatch(new Event('open'))
    }
  }

  /**
   * Steady state of a stream: its canary deadline is over, and no frame for 2 × ping + 5 s
   * means the stream is dead though open.
   */
  #armStall(attempt: Attempt): void {
    if (attempt.transport.mode !== 'stream') return
    this.#env.clearTimeout(attempt.timer)
    const ping = this.#pingSeconds
    if (ping === undefined || !this.#companion) return
    const ms = (2 * ping + 5) * 1000
    this.#armTimer(attempt, ms, () => this.#fail(attempt, retryable('timeout', `no frame in ${ms} ms`)))
  }

  /**
   * A live frame (ping, or an event published after the canary) whose arrival lags its server
   * time by ≥ 10 s, clocks corrected by the canary, was held by an intermediary: step down.
   * The threshold shrinks with short heartbeats (half the ping interval, at least 2 s).
   */
  #observeServerTime(attempt: Attempt, serverTime: number): void {
    if (attempt.offset === undefined || attempt.transport.mode !== 'stream') return
    const lag = this.#env.now() - (serverTime - attempt.offset)
    if (lag >= Math.max(2000, Math.min(HELD_MS, (this.#pingSeconds ?? Infinity) * 500))) this.#stepDown(attempt.index)
  }

  // ---- network and teardown ---------------------------------------------------------------

  #subscribeNetwork(): () => void {
    return this.#env.onNetworkChange((online) => {
      if (this.#readyState === 2) return
      const attempt = this.#attempt
      const upgrade = online && this.#steppedDown
      // A held `close`/`poll` attempt that delivered nothing is dropped so the upgrade happens now,
      // not when the server ends the batch (the cursor is unchanged, so nothing is lost).
      const held = upgrade && attempt?.handle && attempt.transport.mode != 'stream' && !attempt.delivered
      if (upgrade) this.#upgradePending = true
      if (held) this.#endAttempt()
      const waiting = held || this.#waitingOnline || this.#retryTimer !== undefined
      if (online ? !waiting : this.#retryTimer === undefined) return
      this.#env.clearTimeout(this.#retryTimer)
      this.#retryTimer = undefined
      this.#waitingOnline = !online
      if (online) {
        this.#failures = 0
        this.#connect()
      }
    })
  }

  #endAttempt(): void {
    const attempt = this.#attempt
    this.#attempt = undefined
    this.#env.clearTimeout(attempt?.timer)
    attempt?.handle?.close()
  }

  #terminate(error: StreamError): void {
    this.#shutdown()
    this.#iterationError = error
    this.#dispatch(new StreamErrorEvent(error))
    this.#wakeIterations()
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
    if (event.type !== 'error') {
      this.#dispatch(new StreamErrorEvent(retryable('listener', `a "${event.type}" listener threw`, error)))
    } else if (typeof reportError === 'function') reportError(error)
    else console.error(error)
  }

  #wakeIterations(): void {
    for (const iteration of this.#iterations) iteration.wake?.()
  }
}

function keyOf(type: string, options: boolean | EventListenerOptions | undefined): string {
  return type + (typeof options === 'boolean' ? options : !!options?.capture)
}

/** 128 random bits, base64url: the protocol's start token (≥ 96 bits). */
function createStartToken(random: () => number): string {
  const bytes = new Uint8Array(16)
  if (typeof crypto === 'object' && crypto.getRandomValues) crypto.getRandomValues(bytes)
  else for (let i = 0; i < 16; i++) bytes[i] = random() * 256
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, (char) => (char === '+' ? '-' : char === '/' ? '_' : ''))
}
