import type { EnvOptions, EventSourceConstructorLike, FetchLike, StorageLike } from './env'
import type { SharedOptions } from './multiplexer/types'
import type { RetryOption } from './retry'
import type { Transport, TransportName } from './transports/types'

/** Why the headers function is being called. */
export interface HeadersContext {
  /** `true` after the server answered 401/403: return fresh credentials. */
  readonly refresh: boolean
}

/** Static headers, or a function called before every (re)connect. */
export type HeadersOption =
  | HeadersInit
  | ((context: HeadersContext) => HeadersInit | Promise<HeadersInit>)

/** Where the ladder remembers the transport that worked, per origin + path. */
export interface RememberOptions {
  /**
   * How long a verdict holds, in ms; then the client probes upward again.
   * @defaultValue 3600000 (1 hour)
   */
  ttl?: number
  /**
   * Storage to keep verdicts in; `null` keeps them in memory only.
   * @defaultValue globalThis.localStorage
   */
  storage?: StorageLike | null
}

/** Options of `new ResilientEventSource(url, options)`. */
export interface ResilientEventSourceOptions {
  /** Request headers, or a (sync or async) function called on every (re)connect. */
  headers?: HeadersOption
  /** @defaultValue 'GET' */
  method?: string
  /** Request body (for POST streams, as LLM APIs use). */
  body?: BodyInit | null
  /** Send cookies cross-origin. @defaultValue false */
  withCredentials?: boolean
  /** Initial cursor: the first request resumes after this id. */
  lastEventId?: string
  /** Backoff settings, a policy function, or `false`. @defaultValue full jitter, 1 s base, 30 s cap */
  retry?: RetryOption
  /** Size of the window of delivered ids used to drop repeats; `false` turns de-dup off. @defaultValue 1024 */
  dedupe?: number | false
  /** Largest event kept, in UTF-16 code units; larger ones are dropped with a `too-large` error. @defaultValue 1048576 */
  maxEventSize?: number
  /**
   * How long a streaming attempt may take to deliver the server's `_canary` before the path
   * is suspected of buffering (2 s once the response headers arrived); `false` never steps down.
   * @defaultValue 5000
   */
  canaryTimeout?: number | false
  /**
   * The ladder, in order: names or transport objects (objects let bundlers drop the rest).
   * @defaultValue ['eventsource', 'fetch', 'sse-close', 'long-poll']
   */
  transports?: readonly (TransportName | Transport)[]
  /** Heartbeat interval to ask the server for, in seconds (server clamps 5–30). */
  ping?: number
  /** Seconds a `sse-close`/`long-poll` request may be held by the server (server clamps 0–25). */
  wait?: number
  /**
   * Add the protocol's query parameters (`mode`, `lastEventId`, `start`, …) to the URL. Turn off
   * for servers that reject unknown parameters.
   * @defaultValue true
   */
  protocolQuery?: boolean
  /** Remember the transport that worked (localStorage, 1 h); `false` to start at the top every time. @defaultValue true */
  remember?: boolean | RememberOptions
  /**
   * Share one connection between all tabs of this origin that open the same endpoint with the
   * same wire options: through the app-hosted worker at `workerUrl` (SharedWorker), else a
   * Web Locks leader tab + BroadcastChannel, else one connection per tab. Functions cannot
   * cross tabs: `headers` is asked from a live tab; `retry` must be an object; `fetch`,
   * `EventSource` and `env` apply only without sharing.
   * @defaultValue false
   */
  shared?: boolean | SharedOptions
  /** Closes the stream when aborted. */
  signal?: AbortSignal
  /** `fetch` to use instead of the global one. */
  fetch?: FetchLike
  /** `EventSource` constructor to use instead of the global one. */
  EventSource?: EventSourceConstructorLike
  /** Platform overrides (timers, clock, randomness): for tests and unusual hosts. */
  env?: EnvOptions
}

// Defaults, in one place: separate constants, so bundlers inline them.
/**
 * A numeric option from plain JavaScript: `value` up to `max` when it is a number (or numeric
 * string) ≥ `min`; otherwise (NaN, below `min`, junk) `fallback`.
 */
export const within = <T>(value: unknown, min: number, max: number, fallback: T): number | T =>
  (value as number) >= min ? Math.min(+(value as number), max) : fallback

export const DEFAULT_METHOD = 'GET'
export const DEFAULT_DEDUPE = 1024
export const DEFAULT_MAX_EVENT_SIZE = 1024 * 1024
export const DEFAULT_CANARY_TIMEOUT = 5000
/** The canary deadline once response headers arrived. */
export const CANARY_AFTER_OPEN = 2000
export const DEFAULT_REMEMBER_TTL = 60 * 60_000
/** A connection proven this long resets the failure count. */
export const HEALTHY_AFTER = 30_000
/** The server's default `wait`, in s. */
export const DEFAULT_WAIT = 25
/** Seconds past `wait` after which a held `close` response counts as lost. */
export const DEADLINE_MARGIN = 10
export const DEFAULT_TRANSPORTS = ['eventsource', 'fetch', 'sse-close', 'long-poll'] as const
