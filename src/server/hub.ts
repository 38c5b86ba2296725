import type { IncomingMessage, ServerResponse } from 'node:http'
import type { BatchOptions, HubContext, TrackedConnection } from './context'
import { applyCors, applyPreflight, type CorsOptions } from './cors'
import { HubError } from './errors'
import { COMMON_HEADERS, sendError } from './http'
import { createMemoryStore } from './memory-store'
import { serveClose } from './modes/close'
import { sendOverload } from './modes/overload'
import { servePoll } from './modes/poll'
import { createChunkEncoder, serveStream } from './modes/stream'
import { type HubMode, isQueryProblem, parseHubRequest, type QueryLimits } from './query'
import { StartTokens } from './start-tokens'
import type { EventInput, EventStore, StoreListener } from './store'
import { validateEventInput } from './validate'

/** Retention of the default in-memory store. */
export interface RetentionOptions {
  /**
   * Most events retained.
   * @defaultValue 10000
   */
  maxEvents?: number
  /**
   * Longest time an event is retained, in ms.
   * @defaultValue 600000 (10 minutes)
   */
  maxAge?: number
}

/**
 * Options of {@link createEventHub}. Durations follow the query parameters: `ping`/`wait` in s.
 * A numeric option that is not a number (NaN, a string) takes its default; a number outside its
 * range is clamped (timers at most 2³¹ − 1 ms).
 */
export interface EventHubOptions {
  /**
   * The event log. Closed by `hub.close()` only when the hub created it.
   * @defaultValue an in-memory ring buffer (`createMemoryStore({ ...retention, now })`)
   */
  store?: EventStore
  /** Retention of the default store (ignored when `store` is given). */
  retention?: RetentionOptions
  /**
   * Heartbeat interval in seconds when the client asks for none; clients may ask for
   * `minPing`–30 with `?ping=`.
   * @defaultValue 15
   */
  ping?: number
  /**
   * Lowest heartbeat interval a client may ask for, in seconds (clamped to 0.05–30). Lower it
   * only in tests.
   * @defaultValue 5
   */
  minPing?: number
  /**
   * Longest hold of a `close`/`poll` request with nothing pending, in seconds; also the default.
   * Clients may ask for less with `?wait=` (0 answers at once).
   * @defaultValue 25
   */
  wait?: number
  /** Batch limits of `close` and `poll` responses. */
  batch?: BatchOptions
  /**
   * Streams end with `_end {reason:"rotate"}` after this many ms, ±10 % jitter, so long-lived
   * connections re-balance and never hit proxy lifetime limits. `0` (or a negative number, or
   * `Infinity`) disables rotation; other values are clamped to at least 100 ms.
   * @defaultValue 600000 (10 minutes)
   */
  rotateAfter?: number
  /**
   * Largest event accepted by `publish`: event name + data + id, in UTF-8 bytes.
   * @defaultValue 1048576 (1 MiB, the client parser's default limit)
   */
  maxEventSize?: number
  /**
   * A stream whose socket holds more unsent bytes than this is dropped; the client resumes from
   * its cursor. Replay waits for the socket instead.
   * @defaultValue 1048576 (1 MiB)
   */
  maxBuffered?: number
  /**
   * A stream whose socket accepted nothing for this long (ms) is dropped.
   * @defaultValue 30000
   */
  stallTimeout?: number
  /**
   * Write coalescing for `mode=stream`: live events are collected and written to each stream as
   * one chunk at most every this many ms (the first event starts the timer), instead of one
   * write per event and stream. Raises how many streams one process feeds at high event rates,
   * for up to this much added latency. Replay, heartbeats and `_end` are unaffected (pending
   * events leave before them). `0` writes each event at once.
   * @defaultValue 0
   */
  flushInterval?: number
  /**
   * Most open responses (all modes); beyond it `stream`/`close` get `_backoff` and `poll` 503.
   * @defaultValue Infinity
   */
  maxConnections?: number
  /**
   * The delay suggested to clients turned away by `maxConnections`, in ms (clients add jitter);
   * at least 1000.
   * @defaultValue 10000
   */
  overloadRetry?: number
  /**
   * Cross-origin access; without it no CORS headers are sent and preflights get 403.
   * `createEventHub` throws a `TypeError` when `origins` is not an array of strings or `'*'`.
   */
  cors?: CorsOptions
  /** Start tokens: how long one is remembered (ms) and how many at most. */
  startTokens?: { ttl?: number; maxEntries?: number }
  /**
   * Wall clock in ms: frame times `t`, token expiry and the default store's ids and ages.
   * Timers always use real time.
   * @defaultValue `Date.now`
   */
  now?: () => number
}

/** Options of {@link EventHub.close}. */
export interface CloseOptions {
  /**
   * Spread the streams' `_end {reason:"drain"}` uniformly over this many ms.
   * @defaultValue 0 (all at once)
   */
  spread?: number
  /**
   * After `spread`, destroy responses still open after this many ms (stalled sockets).
   * @defaultValue 10000
   */
  timeout?: number
}

/** Counters for monitoring and tests. */
export interface EventHubStats {
  /** Open responses per mode (held `close`/`poll` requests included). */
  readonly connections: Readonly<Record<HubMode, number>>
  /** Live-event listeners registered by open responses (0 when none is open). */
  readonly listeners: number
  /** Events published through this hub. */
  readonly published: number
  /** Start tokens remembered. */
  readonly startTokens: number
}

/** One event log served over `stream`, `close` and `poll`. */
export interface EventHub {
  /**
   * Answers one request (a `node:http` handler; also Express, Fastify `reply.hijack()` with
   * `request.raw`/`reply.raw`, Koa with `ctx.respond = false`). GET and OPTIONS only.
   * @returns a promise that settles when the response has ended; it never rejects
   */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>
  /**
   * Appends an event and delivers it to every open response.
   * @param event - `{ event?, data, id? }`; `data` must be a string
   * @returns the event's id
   * @throws HubError (as a rejection) `reserved-event`, `invalid-event`, `invalid-data`,
   *   `invalid-id`, `too-large` or `closed`
   */
  publish(event: EventInput): Promise<string>
  /**
   * Drains: every open stream gets `_end {reason:"drain"}`, held `close`/`poll` requests are
   * answered, new requests get 503 and `publish` rejects with `closed`; then the hub's own store
   * is closed. Call it before `server.close()` on shutdown.
   * @param options - see {@link CloseOptions}
   * @returns a promise that settles when every response has ended (or was destroyed)
   */
  close(options?: CloseOptions): Promise<void>
  /** @returns counters: open responses per mode, listeners, published events, start tokens */
  stats(): EventHubStats
}

/**
 * Creates the server companion: one event log, rendered as a long-lived event stream
 * (`mode=stream`), a batch that ends (`mode=close`) or a JSON long-poll (`mode=poll`).
 *
 * @param options - see {@link EventHubOptions}
 * @returns an {@link EventHub}
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { createEventHub } from 'resilient-sse/server'
 *
 * const hub = createEventHub({ cors: { origins: ['https://app.example'] } })
 * createServer((req, res) => {
 *   if (req.url?.startsWith('/events')) hub.handle(req, res)
 * }).listen(8080)
 * await hub.publish({ event: 'price', data: JSON.stringify({ eur: 42 }) })
 * ```
 */
export function createEventHub(options: EventHubOptions = {}): EventHub {
  // Numeric options from plain JavaScript (a NaN from parseInt, a string from process.env): a
  // non-number takes the default, a number is clamped into its range, so no value can make a
  // timer fire every tick. Only shapes that cannot mean anything throw (`cors`).
  const cors = checkCors(options.cors)
  const now = options.now ?? Date.now
  const ownsStore = options.store === undefined
  const store = options.store ?? createMemoryStore({ ...options.retention, now })
  const maxWait = finiteOr(options.wait, 25, 0, MAX_TIMER_MS / 1000)
  const minPing = finiteOr(options.minPing, 5, MIN_PING, 30)
  const limits: QueryLimits = {
    defaultWait: maxWait,
    maxWait,
    defaultPing: Math.max(minPing, finiteOr(options.ping, 15, minPing, 30)),
    minPing,
    maxPing: 30,
  }
  const maxEventSize = finiteOr(options.maxEventSize, 1_048_576, 1)
  const maxConnections = numberOr(options.maxConnections, Number.POSITIVE_INFINITY, 0)
  // Clients wait at least this long: `Retry-After` is whole seconds (≥ 1) anyway.
  const overloadRetry = finiteOr(options.overloadRetry, 10_000, 1000, MAX_TIMER_MS)
  const connections = new Set<TrackedConnection>()
  const listeners = new Set<StoreListener>()
  let unsubscribe: (() => void) | undefined
  let published = 0
  let closing: Promise<void> | undefined

  const context: HubContext = {
    store,
    startTokens: new StartTokens({
      ttl: numberOr(options.startTokens?.ttl, 600_000, 0),
      maxEntries: numberOr(options.startTokens?.maxEntries, 100_000, 1),
      now,
    }),
    now,
    random: Math.random,
    batch: {
      maxEvents: Math.floor(finiteOr(options.batch?.maxEvents, 100, 1)),
      maxBytes: finiteOr(options.batch?.maxBytes, 262_144, 1),
      burst: finiteOr(options.batch?.burst, 20, 0, MAX_TIMER_MS),
    },
    rotateAfter: rotation(options.rotateAfter),
    maxBuffered: finiteOr(options.maxBuffered, 1_048_576, 0),
    stallTimeout: finiteOr(options.stallTimeout, 30_000, 0, MAX_TIMER_MS),
    flushInterval: finiteOr(options.flushInterval, 0, 0, MAX_TIMER_MS),
    encodeChunk: createChunkEncoder(),
    replayPageSize: 500,
    listen(listener) {
      listeners.add(listener)
      // One store subscription for all responses, opened with the first and closed with the last.
      unsubscribe ??= store.subscribe((event) => {
        for (const each of listeners) each(event)
      })
      return () => {
        listeners.delete(listener)
        if (listeners.size === 0 && unsubscribe !== undefined) {
          unsubscribe()
          unsubscribe = undefined
        }
      }
    },
    track(connection) {
      connections.add(connection)
      return () => {
        connections.delete(connection)
      }
    },
    get closing() {
      return closing !== undefined
    },
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      for (const [name, value] of Object.entries(COMMON_HEADERS)) res.setHeader(name, value)
      const verdict = applyCors(req, res, cors)
      if (req.method === 'OPTIONS') {
        if (verdict === 'denied') return sendError(res, 403, 'origin-not-allowed', 'This Origin is not allowed')
        if (verdict === 'allowed' && cors !== undefined) applyPreflight(res, cors)
        res.writeHead(204, { Allow: 'GET, OPTIONS' })
        res.end()
        return
      }
      if (req.method !== 'GET') {
        return sendError(res, 405, 'method-not-allowed', 'Use GET', { Allow: 'GET, OPTIONS' })
      }
      if (closing !== undefined) {
        return sendError(res, 503, 'closing', 'The server is shutting down', { 'Retry-After': '1' })
      }
      const request = parseHubRequest(req, limits)
      if (isQueryProblem(request)) return sendError(res, 400, request.code, request.message)
      if (connections.size >= maxConnections) return sendOverload(context, res, request, overloadRetry)
      if (request.mode === 'stream') return await serveStream(context, req, res, request)
      if (request.mode === 'close') return await serveClose(context, req, res, request)
      return await servePoll(context, req, res, request)
    } catch {
      // The mode handlers answer store failures themselves; anything here is unexpected.
      if (!res.headersSent) sendError(res, 500, 'internal-error', 'The event hub failed to answer')
      else res.destroy()
    }
  }

  async function publish(event: EventInput): Promise<string> {
    if (closing !== undefined) throw new HubError('closed', 'The hub is closed')
    const input = validateEventInput(event, maxEventSize)
    const id = await store.append(input)
    published += 1
    return id
  }

  function close(closeOptions: CloseOptions = {}): Promise<void> {
    closing ??= (async () => {
      const open = [...connections]
      const spread = finiteOr(closeOptions.spread, 0, 0, MAX_TIMER_MS)
      const timers: ReturnType<typeof setTimeout>[] = []
      for (const connection of open) {
        // Held close/poll requests are answered at once; streams may be spread out so their
        // clients do not all reconnect (elsewhere) in the same instant.
        if (connection.mode !== 'stream' || spread === 0) connection.drain()
        else timers.push(setTimeout(() => connection.drain(), context.random() * spread))
      }
      const timeout = Math.min(MAX_TIMER_MS, spread + finiteOr(closeOptions.timeout, 10_000, 0))
      await Promise.race([
        Promise.all(open.map((connection) => connection.done)),
        new Promise<void>((resolve) => {
          timers.push(
            setTimeout(() => {
              for (const connection of connections) connection.destroy()
              resolve()
            }, timeout),
          )
        }),
      ])
      for (const timer of timers) clearTimeout(timer)
      if (unsubscribe !== undefined) {
        unsubscribe()
        unsubscribe = undefined
      }
      if (ownsStore) await store.close()
    })()
    return closing
  }

  function stats(): EventHubStats {
    const counts: Record<HubMode, number> = { stream: 0, close: 0, poll: 0 }
    for (const connection of connections) counts[connection.mode] += 1
    return { connections: counts, listeners: listeners.size, published, startTokens: context.startTokens.size }
  }

  return { handle, publish, close, stats }
}

/** Longest delay timers keep: Node fires a longer one after 1 ms (a tight loop when re-armed). */
const MAX_TIMER_MS = 2 ** 31 - 1
/** Lowest `minPing`, in s: the tests' 50 ms; below it heartbeats turn into a busy loop. */
const MIN_PING = 0.05
/** Shortest stream rotation, in ms: every rotation is a reconnect. */
const MIN_ROTATE = 100

/**
 * @returns `value` clamped to [min, max] when it is a finite number; `fallback` otherwise
 *   (NaN, ±Infinity, a string, null, undefined)
 */
function finiteOr(value: unknown, fallback: number, min: number, max = Number.POSITIVE_INFINITY): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback
}

/** Like {@link finiteOr}, with `Infinity` a value (no limit). */
function numberOr(value: unknown, fallback: number, min: number): number {
  return typeof value === 'number' && !Number.isNaN(value) ? Math.max(min, value) : fallback
}

/**
 * `rotateAfter`: `0`, a negative number or `Infinity` never rotates; a non-number takes the
 * default; otherwise 100 ms – 2³¹ − 1 ms less the 10 % jitter.
 */
function rotation(value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) return 600_000
  return value > 0 && Number.isFinite(value) ? Math.min(MAX_TIMER_MS / 1.1, Math.max(MIN_ROTATE, value)) : 0
}

/**
 * @returns the CORS options, with `maxAge` a whole number of seconds; `null` counts as none
 * @throws TypeError when `origins` is neither an array of strings nor `'*'`, or `allowHeaders`
 *   is not an array of strings (a string would match origins by substring)
 */
function checkCors(cors: CorsOptions | null | undefined): CorsOptions | undefined {
  if (cors == null) return undefined
  const strings = (value: unknown): boolean => Array.isArray(value) && value.every((item) => typeof item === 'string')
  if (typeof cors !== 'object') throw new TypeError(`createEventHub: cors must be an object, got ${typeof cors}`)
  if (cors.origins !== '*' && !strings(cors.origins)) {
    throw new TypeError(`createEventHub: cors.origins must be an array of origins or '*', got ${JSON.stringify(cors.origins)}`)
  }
  if (cors.allowHeaders !== undefined && !strings(cors.allowHeaders)) {
    throw new TypeError(`createEventHub: cors.allowHeaders must be an array of header names, got ${JSON.stringify(cors.allowHeaders)}`)
  }
  return { ...cors, maxAge: Math.floor(finiteOr(cors.maxAge, 600, 0)) }
}
