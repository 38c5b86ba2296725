import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A tiny scripted HTTP server for network tests: listens on 127.0.0.1, port 0, and hands every
 * request to a handler you write with the {@link ScriptReply} helpers. Every request is recorded.
 *
 * @example
 * ```ts
 * const server = await startScriptServer(async (request, reply) => {
 *   reply.head(200, { 'Content-Type': 'text/event-stream' })
 *   reply.write(sseFrame({ id: '1', data: 'a' }))
 *   await reply.wait(20)
 *   reply.write('data: sp'), reply.write('lit\n\n')
 *   await reply.untilClosed() // hold open until the client goes away
 * })
 * await fetch(`${server.url}/events?x=1`)
 * server.requests[0]?.query.get('x') // '1'
 * await server.close()
 * ```
 */
export async function startScriptServer(handler: ScriptHandler): Promise<ScriptServer> {
  const requests: RecordedRequest[] = []
  let current = handler
  const server = createServer((incoming, response) => {
    const bodyParts: Buffer[] = []
    incoming.on('data', (part: Buffer) => bodyParts.push(part))
    incoming.on('end', () => {
      const url = incoming.url ?? '/'
      let resolveClosed!: (outcome: CloseOutcome) => void
      const closed = new Promise<CloseOutcome>((resolve) => (resolveClosed = resolve))
      response.on('close', () => resolveClosed({ completed: response.writableFinished }))
      const recorded: RecordedRequest = {
        method: incoming.method ?? 'GET',
        url,
        path: url.split('?')[0]!,
        query: new URL(url, 'http://127.0.0.1').searchParams,
        headers: incoming.headers,
        body: Buffer.concat(bodyParts).toString('utf8'),
        index: requests.length,
        closed,
      }
      requests.push(recorded)
      const reply = createReply(response, closed)
      Promise.resolve()
        .then(() => current(recorded, reply))
        .catch((error: unknown) => {
          if (!response.headersSent) response.writeHead(500).end(String(error))
          else response.destroy()
        })
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setHandler: (next) => {
      current = next
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** How a request's connection ended, as the server saw it. */
export interface CloseOutcome {
  /** `true` when the response was ended by the script; `false` when the client went away first or the socket was destroyed. */
  completed: boolean
}

/** One request the server received. */
export interface RecordedRequest {
  readonly method: string
  /** Path and query, exactly as sent. */
  readonly url: string
  readonly path: string
  readonly query: URLSearchParams
  /** Lower-cased header names, as Node gives them. */
  readonly headers: IncomingHttpHeaders
  readonly body: string
  /** 0 for the first request the server received. */
  readonly index: number
  /** Settles when the response's connection closes, for whatever reason. */
  readonly closed: Promise<CloseOutcome>
}

/** The helpers a script answers with. */
export interface ScriptReply {
  /** Sends status and headers now (flushes them). */
  head(status: number, headers?: Record<string, string | number>): void
  /** Writes one chunk, flushed at once (text is UTF-8; pass bytes to split characters). */
  write(chunk: string | Uint8Array): void
  /** Ends the response, optionally with a last chunk. */
  end(chunk?: string | Uint8Array): void
  /** Destroys the socket: the client sees the connection break. */
  destroy(): void
  /** Resolves after `ms` milliseconds (or earlier when the client goes away). */
  wait(ms: number): Promise<void>
  /** Resolves when the client closes the connection (use to hold a response open). */
  untilClosed(): Promise<CloseOutcome>
  /** Whether the connection is closed already. */
  isClosed(): boolean
  /** The raw Node response, for anything the helpers do not cover. */
  readonly raw: ServerResponse
}

/** Answers one request. Throwing before the head is sent answers 500. */
export type ScriptHandler = (request: RecordedRequest, reply: ScriptReply) => void | Promise<void>

/** A running script server. */
export interface ScriptServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string
  /** Every request received so far, in arrival order. */
  readonly requests: RecordedRequest[]
  /** Replaces the handler for the requests that follow. */
  setHandler(handler: ScriptHandler): void
  /** Destroys open connections and stops listening. */
  close(): Promise<void>
}

/** One SSE frame for {@link sseFrame}. */
export interface SseFrameFields {
  id?: string
  event?: string
  data?: string
  retry?: number
}

/**
 * Renders one SSE frame (`data` with newlines becomes several `data:` lines), ending in a
 * blank line.
 * @param fields - the frame's fields
 * @returns the frame text
 */
export function sseFrame(fields: SseFrameFields): string {
  let text = ''
  if (fields.event !== undefined) text += `event: ${fields.event}\n`
  if (fields.id !== undefined) text += `id: ${fields.id}\n`
  if (fields.retry !== undefined) text += `retry: ${fields.retry}\n`
  if (fields.data !== undefined) for (const line of fields.data.split('\n')) text += `data: ${line}\n`
  return `${text}\n`
}

function createReply(response: ServerResponse, closed: Promise<CloseOutcome>): ScriptReply {
  let isClosed = false
  void closed.then(() => (isClosed = true))
  return {
    raw: response,
    head: (status, headers = {}) => {
      response.writeHead(status, headers)
      response.flushHeaders()
    },
    write: (chunk) => {
      if (!isClosed) response.write(chunk)
    },
    end: (chunk) => {
      if (!isClosed) response.end(chunk)
    },
    destroy: () => {
      response.socket?.destroy()
      response.destroy()
    },
    wait: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms)
        void closed.then(() => {
          clearTimeout(timer)
          resolve()
        })
      }),
    untilClosed: () => closed,
    isClosed: () => isClosed,
  }
}
