import type { Env } from '../env'
import { StreamError } from '../errors'
import type { ConnectRequest, TransportHandle, TransportMode, TransportSink } from './types'
import { buildRequestUrl, type RequestUrlExtra } from './url'

/** One attempt in flight, as the fetch-based transports see it. */
export interface Attempt {
  /** Forwards to the real sink until the attempt is closed or reported `error`/`end`. */
  readonly sink: TransportSink
  /** Aborted by `close()` (and by the long-poll deadline). */
  readonly signal: AbortSignal
  /** Whether the sink still listens. */
  isActive(): boolean
  /** Aborts the request and stops the sink; the same as the handle's `close()`. */
  abort(): void
}

/**
 * Runs one attempt: wraps the sink so that nothing reaches it after `close()`, `error` or
 * `end`, and turns anything `run` throws into a `network` error.
 * @param sink - the client's sink
 * @param run - the attempt itself; started on a microtask so `open` never calls the sink
 * @param onStop - called once when the attempt stops for any reason (clears timers)
 * @returns the handle whose `close()` aborts the request silently
 */
export function runAttempt(
  sink: TransportSink,
  run: (attempt: Attempt) => Promise<void>,
  onStop?: () => void,
): TransportHandle {
  const controller = new AbortController()
  let active = true
  const stop = (): void => {
    if (!active) return
    active = false
    onStop?.()
  }
  const guarded: TransportSink = {
    open: () => active && sink.open(),
    message: (message) => active && sink.message(message),
    retryHint: (ms) => active && sink.retryHint(ms),
    received: (bytes) => active && sink.received(bytes),
    warning: (error) => active && sink.warning?.(error),
    error: (error) => {
      if (!active) return
      stop()
      // Frees the connection (a failed status still has an unread body).
      controller.abort()
      sink.error(error)
    },
    end: () => {
      if (!active) return
      stop()
      sink.end()
    },
  }
  const abort = (): void => {
    stop()
    controller.abort()
  }
  const attempt: Attempt = {
    sink: guarded,
    signal: controller.signal,
    isActive: () => active,
    abort,
  }
  Promise.resolve()
    // Closed in the same tick as `open`: nothing is sent at all.
    .then(() => (active ? run(attempt) : undefined))
    .catch((cause: unknown) => {
      guarded.error(
        cause instanceof StreamError
          ? cause
          : new StreamError('network', `Request failed: ${describe(cause)}`, {
              retryable: true,
              cause,
            }),
      )
    })
  return { close: abort }
}

/**
 * Sends the request of one attempt through `env.fetch()`.
 * @param request - the attempt's request
 * @param mode - the rendering to ask for
 * @param accept - the `Accept` header (the app's own headers may replace it)
 * @param attempt - supplies the abort signal
 * @param env - the platform
 * @param extra - more query parameters (`wait`)
 * @returns the response; rejects like `fetch` does
 */
export async function sendRequest(
  request: ConnectRequest,
  mode: TransportMode,
  accept: string,
  attempt: Attempt,
  env: Env,
  extra?: RequestUrlExtra,
): Promise<Response> {
  const fetch = env.fetch()
  if (!fetch) throw new StreamError('unsupported', 'fetch is not available')
  // fetch rejects this with a TypeError that would look like a retryable network failure.
  if (request.body != null && /^(GET|HEAD)$/i.test(request.method)) {
    throw new StreamError('unsupported', `A ${request.method} request cannot have a body`)
  }
  const cursor: Record<string, string> =
    request.lastEventId === undefined ? {} : { 'Last-Event-ID': request.lastEventId }
  return fetch(buildRequestUrl(request, mode, extra), {
    method: request.method,
    headers: mergeHeaders({ Accept: accept }, request.headers, cursor),
    body: request.body ?? null,
    credentials: request.withCredentials ? 'include' : 'same-origin',
    cache: 'no-store',
    signal: attempt.signal,
  })
}

/**
 * Merges header records case-insensitively; a later record wins (`accept` replaces `Accept`).
 * @param records - header records, lowest priority first
 * @returns one record
 */
export function mergeHeaders(
  ...records: ReadonlyArray<Readonly<Record<string, string>>>
): Record<string, string> {
  const byLowerName = new Map<string, [string, string]>()
  for (const record of records) {
    for (const [name, value] of Object.entries(record)) byLowerName.set(name.toLowerCase(), [name, value])
  }
  return Object.fromEntries(byLowerName.values())
}

/**
 * Reads a body chunk by chunk, counting bytes into `sink.received`. A read failure that is not
 * our own abort rejects with a `network` error.
 * @param response - a response whose body is unread
 * @param attempt - the attempt (for `received` and the abort check)
 * @param onChunk - called with every chunk
 */
export async function readBody(
  response: Response,
  attempt: Attempt,
  onChunk: (chunk: Uint8Array) => void,
): Promise<void> {
  const body = response.body
  if (!body) {
    // Platforms without streaming bodies still hand over the whole text at the end.
    const bytes = new Uint8Array(await readFailure(response.arrayBuffer()))
    if (bytes.byteLength > 0) attempt.sink.received(bytes.byteLength)
    onChunk(bytes)
    return
  }
  const reader = body.getReader()
  for (;;) {
    const chunk = await readFailure(reader.read())
    if (chunk.done || !attempt.isActive()) return
    attempt.sink.received(chunk.value.byteLength)
    onChunk(chunk.value)
  }
}

async function readFailure<T>(read: Promise<T>): Promise<T> {
  try {
    return await read
  } catch (cause) {
    throw new StreamError('network', `Response body broke off: ${describe(cause)}`, {
      retryable: true,
      cause,
    })
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause)
}
