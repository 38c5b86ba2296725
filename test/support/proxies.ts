import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { listenOnLoopback } from './loopback-http.mjs'

export {
  NETWORK_MODES,
  createEventSplitter,
  createNetworkProxy,
  createRoundRobinProxy,
  createSeededRandom,
  randomIntBetween,
} from '../../playground/network/index.mjs'
export type {
  EventSplitter,
  NetworkMode,
  NetworkModeOptions,
  NetworkModeStats,
  NetworkProxy,
  NetworkProxyInit,
  NetworkProxyStats,
  RoundRobinProxyInit,
} from '../../playground/network/index.mjs'

/** What an upstream test server saw of one request. */
export interface UpstreamRequestLog {
  method: string
  /** Path and query as received. */
  url: string
  headers: http.IncomingHttpHeaders
  /** The request body, once fully read. */
  body: Promise<string>
  /** `performance.now()` of every body write the handler made through {@link UpstreamRequestLog.write}. */
  writes: number[]
  /** `performance.now()` when the handler ended the response, if it did. */
  endedAt?: number
  /** Settles when the response closes: `finished` if it ended normally, `client-closed` if the peer went away first. */
  closed: Promise<'finished' | 'client-closed'>
  /** Writes a body chunk and records its time. */
  write(chunk: string | Uint8Array): void
  /** Ends the response and records the time. */
  end(chunk?: string | Uint8Array): void
}

/** Handles one request of a {@link startUpstream} server. */
export type UpstreamHandler = (req: http.IncomingMessage, res: http.ServerResponse, log: UpstreamRequestLog) => void

/** A loopback upstream server for proxy and harness tests. */
export interface UpstreamServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  readonly port: number
  /** Every request received, in order. */
  readonly requests: UpstreamRequestLog[]
  /** Resolves with the next request received (or the `index`-th one, counting from 0). */
  request(index?: number): Promise<UpstreamRequestLog>
  /** Destroys open connections and stops listening. */
  close(): Promise<void>
}

/**
 * Starts a loopback node:http server on an OS-chosen port whose requests are logged with
 * timings in the same clock (`performance.now()`) as {@link timedRequest}, so tests can compare
 * what the upstream wrote with when it arrived through a proxy.
 *
 * @param handler - Called per request; write through `log.write`/`log.end` to get timings.
 * @returns The listening server.
 */
export async function startUpstream(handler: UpstreamHandler): Promise<UpstreamServer> {
  const requests: UpstreamRequestLog[] = []
  const waiters: Array<{ index: number; resolve: (log: UpstreamRequestLog) => void }> = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    const body = new Promise<string>((resolve) => {
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
      req.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')))
    })
    const closed = new Promise<'finished' | 'client-closed'>((resolve) => {
      res.on('close', () => resolve(res.writableFinished ? 'finished' : 'client-closed'))
    })
    const log: UpstreamRequestLog = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body,
      writes: [],
      closed,
      write(chunk) {
        if (res.destroyed) return
        log.writes.push(performance.now())
        res.write(chunk)
      },
      end(chunk) {
        if (res.destroyed) return
        log.endedAt = performance.now()
        res.end(chunk)
      },
    }
    requests.push(log)
    for (const waiter of [...waiters]) {
      if (waiter.index < requests.length) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(requests[waiter.index] as UpstreamRequestLog)
      }
    }
    handler(req, res, log)
  })
  const { url, port, close } = await listenOnLoopback(server)
  return {
    url,
    port,
    requests,
    request(index = requests.length) {
      const existing = requests[index]
      if (existing) return Promise.resolve(existing)
      return new Promise((resolve) => waiters.push({ index, resolve }))
    },
    close,
  }
}

/** Options of {@link sseHandler}. */
export interface SseHandlerOptions {
  /** Event blocks to write, each a complete block such as `data: 1\n\n`. */
  events: readonly string[]
  /** Delay between writes; the first event is written right after the headers. */
  intervalMs: number
  /**
   * End the response one interval after the last event; `false` keeps it open until the client leaves.
   * @defaultValue `true`
   */
  end?: boolean
  /** Extra response headers. */
  headers?: Record<string, string>
}

/**
 * An {@link UpstreamHandler} that answers `200 text/event-stream`, flushes the headers, then
 * writes the given event blocks one interval apart.
 *
 * @param options - Events, pacing, and whether to end.
 * @returns The handler.
 */
export function sseHandler(options: SseHandlerOptions): UpstreamHandler {
  return (_req, res, log) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      ...options.headers,
    })
    res.flushHeaders()
    let index = 0
    const tick = () => {
      if (res.destroyed) return
      const event = options.events[index]
      if (event !== undefined) {
        log.write(event)
        index++
        timer = setTimeout(tick, options.intervalMs)
      } else if (options.end !== false) {
        log.end()
      }
    }
    let timer = setTimeout(tick, 0)
    res.on('close', () => clearTimeout(timer))
  }
}

/** Numbered event blocks `id: 1\ndata: event 1\n\n`, … for tests. */
export function numberedEvents(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `id: ${index + 1}\ndata: event ${index + 1}\n\n`)
}

/** A body chunk as received by {@link timedRequest}. */
export interface TimedChunk {
  /** `performance.now()` when the chunk was read. */
  at: number
  text: string
  bytes: number
}

/** What {@link timedRequest} observed. */
export interface TimedResponse {
  /** `performance.now()` when the request was sent. */
  startedAt: number
  /** HTTP status, `0` if no response head arrived. */
  status: number
  headers: http.IncomingHttpHeaders
  /** `performance.now()` when the response head arrived. */
  headersAt?: number
  chunks: TimedChunk[]
  /** `performance.now()` of a complete end of the body. */
  endedAt?: number
  /** The error that ended the exchange early (reset, abort, cut body). */
  error?: Error
  /** `performance.now()` when the error (or the early close) was seen. */
  failedAt?: number
  /** The body received so far. */
  readonly text: string
}

/** Options of {@link timedRequest}. */
export interface TimedRequestOptions {
  method?: string
  headers?: Record<string, string>
  body?: string
  /** Aborts the request (the returned promise then resolves with `error` set). */
  signal?: AbortSignal
  /** Called for every chunk as it arrives, e.g. to abort after the first event. */
  onChunk?: (chunk: TimedChunk, response: TimedResponse) => void
}

/**
 * Sends one request over a fresh node:http connection and records when the head and every body
 * chunk arrived. Never rejects: network failures are reported in `error`.
 *
 * @param url - Absolute URL.
 * @param options - Method, headers, body, abort signal and a per-chunk callback.
 * @returns The observations once the body ended or the exchange failed.
 */
export function timedRequest(url: string, options: TimedRequestOptions = {}): Promise<TimedResponse> {
  const response: TimedResponse = {
    startedAt: performance.now(),
    status: 0,
    headers: {},
    chunks: [],
    get text() {
      return this.chunks.map((chunk) => chunk.text).join('')
    },
  }
  return new Promise((resolve) => {
    let settled = false
    const settle = (error?: Error) => {
      if (settled) return
      settled = true
      if (error) {
        response.error = error
        response.failedAt = performance.now()
      }
      resolve(response)
    }
    const request = http.request(url, {
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: false,
      signal: options.signal,
    })
    request.on('error', (error) => settle(error))
    request.on('response', (incoming) => {
      response.status = incoming.statusCode ?? 0
      response.headers = incoming.headers
      response.headersAt = performance.now()
      incoming.on('data', (data: Buffer) => {
        const chunk = { at: performance.now(), text: data.toString('utf8'), bytes: data.length }
        response.chunks.push(chunk)
        options.onChunk?.(chunk, response)
      })
      incoming.on('end', () => {
        response.endedAt = performance.now()
        settle()
      })
      incoming.on('error', (error) => settle(error))
      incoming.on('close', () => {
        if (!incoming.complete) settle(new Error('response closed before it was complete'))
      })
    })
    request.end(options.body)
  })
}

/** Bytes received (sum of chunk sizes) before the given `performance.now()` instant. */
export function bytesBefore(response: TimedResponse, instant: number): number {
  return response.chunks.filter((chunk) => chunk.at < instant).reduce((sum, chunk) => sum + chunk.bytes, 0)
}

/** `performance.now()` of the first chunk whose accumulated text contains `needle`. */
export function arrivalOf(response: TimedResponse, needle: string): number | undefined {
  let text = ''
  for (const chunk of response.chunks) {
    text += chunk.text
    if (text.includes(needle)) return chunk.at
  }
  return undefined
}
