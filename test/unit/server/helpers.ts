import { type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http'
import { type AddressInfo, type Socket, connect } from 'node:net'
import { createParser } from 'eventsource-parser'
import { type EventHub, type EventHubOptions, createEventHub } from '../../../src/server'

/** One parsed SSE event; `event` defaults to `message` like a browser. */
export interface ParsedEvent {
  event: string
  id: string | undefined
  data: string
}

export interface TestServer {
  hub: EventHub
  server: Server
  /** `http://127.0.0.1:<port>/events` */
  url: string
  /** The hub's `res.write` calls per response, in request order. */
  writes: number[]
  close(): Promise<void>
}

/** A real node:http server on 127.0.0.1, port 0, serving the hub on every path. */
export function startHub(options: EventHubOptions = {}): Promise<TestServer> {
  const hub = createEventHub(options)
  return serve(hub, (req, res) => hub.handle(req, res))
}

/**
 * A real node:http server on 127.0.0.1, port 0, answering every request with `handle` (a hub's,
 * a topic hub's) and counting each response's `res.write` calls; `close()` closes `hub`.
 */
export async function serve(hub: EventHub, handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<TestServer> {
  const writes: number[] = []
  const server = createServer((req, res) => {
    const index = writes.push(0) - 1
    const write = res.write.bind(res) as (...args: unknown[]) => boolean
    res.write = ((...args: unknown[]) => {
      writes[index]! += 1
      return write(...args)
    }) as ServerResponse['write']
    void handle(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    hub,
    server,
    writes,
    url: `http://127.0.0.1:${port}/events`,
    async close() {
      await hub.close({ timeout: 1000 })
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export interface OpenStream {
  status: number
  headers: IncomingHttpHeaders
  /** The first body chunk as received. */
  firstChunk: string
  /** Everything received so far. */
  raw: string
  /** Body chunks received so far (each socket read the client saw). */
  chunks: number
  events: ParsedEvent[]
  /** When each of `events` arrived (`performance.now()`). */
  arrivals: number[]
  retries: number[]
  /** Resolves when the response ends (or the socket closes). */
  ended: Promise<void>
  /** Resolves once `predicate(events)` holds; rejects after `timeout` ms. */
  waitFor(predicate: (events: ParsedEvent[]) => boolean, timeout?: number): Promise<ParsedEvent[]>
  /** Destroys the request (a client going away). */
  abort(): void
}

/** Opens a GET and parses its body as an event stream as it arrives. */
export function openStream(url: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: { Accept: 'text/event-stream', ...headers } })
    req.on('error', () => {})
    req.on('response', (res: IncomingMessage) => {
      const events: ParsedEvent[] = []
      const arrivals: number[] = []
      const retries: number[] = []
      const waiters = new Set<() => void>()
      const notify = (): void => {
        for (const waiter of waiters) waiter()
      }
      const parser = createParser({
        onEvent: (message) => {
          events.push({ event: message.event ?? 'message', id: message.id, data: message.data })
          arrivals.push(performance.now())
          notify()
        },
        onRetry: (ms) => retries.push(ms),
      })
      let endedResolve!: () => void
      const ended = new Promise<void>((done) => {
        endedResolve = done
      })
      let isEnded = false
      const stream: OpenStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        firstChunk: '',
        raw: '',
        chunks: 0,
        events,
        arrivals,
        retries,
        ended,
        waitFor(predicate, timeout = 5000) {
          return new Promise((done, fail) => {
            const check = (): void => {
              if (predicate(events)) {
                cleanup()
                done(events)
              } else if (isEnded) {
                cleanup()
                fail(new Error(`stream ended before condition; got ${JSON.stringify(events).slice(0, 2000)}`))
              }
            }
            const timer = setTimeout(() => {
              cleanup()
              fail(new Error(`timeout; got ${JSON.stringify(events).slice(0, 2000)}`))
            }, timeout)
            const cleanup = (): void => {
              clearTimeout(timer)
              waiters.delete(check)
            }
            waiters.add(check)
            check()
          })
        },
        abort() {
          req.destroy()
        },
      }
      res.setEncoding('utf8')
      let first = true
      res.on('data', (chunk: string) => {
        if (first) {
          stream.firstChunk = chunk
          first = false
        }
        stream.raw += chunk
        stream.chunks += 1
        parser.feed(chunk)
      })
      const end = (): void => {
        if (isEnded) return
        isEnded = true
        endedResolve()
        notify()
      }
      res.on('end', end)
      res.on('close', end)
      res.on('error', end)
      resolve(stream)
    })
    req.on('error', reject)
    req.end()
  })
}

export interface FullResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** Sends a request and reads the whole body. */
export function fetchText(url: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<FullResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers ?? {} })
    req.on('error', reject)
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      res.on('error', reject)
    })
    req.end()
  })
}

/** Parses a complete event-stream body. */
export function parseEvents(body: string): { events: ParsedEvent[]; retries: number[] } {
  const events: ParsedEvent[] = []
  const retries: number[] = []
  const parser = createParser({
    onEvent: (message) => events.push({ event: message.event ?? 'message', id: message.id, data: message.data }),
    onRetry: (ms) => retries.push(ms),
  })
  parser.feed(body)
  return { events, retries }
}

/** App events only (no reserved `_` events). */
export function appEvents(events: readonly ParsedEvent[]): ParsedEvent[] {
  return events.filter((event) => !event.event.startsWith('_'))
}

/** Polls `check` every 10 ms until it holds; rejects after `timeout` ms. */
export async function eventually(check: () => boolean, timeout = 3000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Builds a URL with query parameters. */
export function withQuery(url: string, params: Record<string, string | number>): string {
  const target = new URL(url)
  for (const [key, value] of Object.entries(params)) target.searchParams.set(key, String(value))
  return target.toString()
}

/**
 * A raw socket that requests a stream and never reads: the hub's writes fill the kernel's and
 * Node's buffers (for stall and `maxBuffered` tests). Resolves once the hub holds the stream.
 */
export async function openStalledReader(server: TestServer): Promise<Socket> {
  const socket = connect(Number(new URL(server.url).port), '127.0.0.1')
  socket.on('error', () => {})
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  socket.pause()
  socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  await eventually(() => server.hub.stats().connections.stream === 1)
  return socket
}
