import type { Env } from '../env'
import { StreamError } from '../errors'
import type { ConnectRequest, TransportHandle, TransportMode, TransportSink } from './types'
import { buildRequestUrl, type RequestUrlExtra } from './url'

/** One attempt in flight, as the fetch-based transports see it. */
export interface Attempt {
  /** Forwards to the real sink until the attempt is closed or reported `error`/`end`. */
  readonly sink: TransportSink
  /** Aborted by `close()`, `error` and `end`. */
  readonly signal: AbortSignal
  /** Whether the sink still listens. */
  isActive(): boolean
}

const SINK_METHODS = ['open', 'message', 'retryHint', 'received', 'warning', 'error', 'end'] as const

/**
 * Runs one attempt: wraps the sink so that nothing reaches it after `close()`, `error` or
 * `end`, and turns anything `run` throws into a `network` error (a `StreamError` as is).
 * @param sink - the client's sink
 * @param run - the attempt itself; started on a microtask so `open` never calls the sink
 * @param onStop - called once when the attempt stops for any reason (clears timers)
 * @returns the handle whose `close()` aborts the request silently
 */
export function runAttempt(
  sink: Partial<TransportSink>,
  run: (attempt: Attempt) => Promise<void>,
  onStop?: () => void,
): TransportHandle {
  const controller = new AbortController()
  let active = true
  const close = (): void => {
    if (active) {
      active = false
      onStop?.()
    }
    // Frees the connection (a failed status still has an unread body).
    controller.abort()
  }
  const guarded = {} as Record<string, (value?: unknown) => void>
  for (const method of SINK_METHODS) {
    guarded[method] = (value) => {
      if (!active) return
      if (method === 'error' || method === 'end') close()
      ;(sink[method] as ((value?: unknown) => void) | undefined)?.(value)
    }
  }
  const attempt: Attempt = { sink: guarded as unknown as TransportSink, signal: controller.signal, isActive: () => active }
  Promise.resolve()
    // Closed in the same tick as `open`: nothing is sent at all.
    .then(() => (active ? run(attempt) : undefined))
    .catch((cause: unknown) =>
      guarded.error!(
        cause instanceof StreamError
          ? cause
          : new StreamError('network', `request failed: ${(cause as Error)?.message ?? cause}`, { retryable: true, cause }),
      ),
    )
  return { close }
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
export function sendRequest(
  request: ConnectRequest,
  mode: TransportMode,
  accept: string,
  attempt: Attempt,
  env: Env,
  extra?: RequestUrlExtra,
): Promise<Response> {
  const { method, body, lastEventId } = request
  const fetch = env.fetch()
  if (!fetch) throw new StreamError('unsupported', 'no fetch')
  // fetch rejects this with a TypeError that would look like a retryable network failure.
  if (body != null && /^(GET|HEAD)$/i.test(method)) throw new StreamError('unsupported', method + ' with a body')
  return fetch(buildRequestUrl(request, mode, extra), {
    method,
    headers: mergeHeaders({ Accept: accept }, request.headers, lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }),
    body: body ?? null,
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
export function mergeHeaders(...records: ReadonlyArray<Readonly<Record<string, string>>>): Record<string, string> {
  const byLowerName = new Map<string, [string, string]>()
  for (const record of records) for (const name in record) byLowerName.set(name.toLowerCase(), [name, record[name]!])
  return Object.fromEntries(byLowerName.values())
}

/**
 * Reads a body chunk by chunk, counting bytes into `sink.received`; stops when the attempt
 * does. A read failure rejects (the attempt reports it as a `network` error).
 * @param response - a response whose body is unread
 * @param attempt - the attempt (for `received` and the abort check)
 * @param onChunk - called with every chunk
 */
export async function readBody(response: Response, attempt: Attempt, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  const deliver = (chunk: Uint8Array): void => {
    if (chunk.byteLength) attempt.sink.received(chunk.byteLength)
    onChunk(chunk)
  }
  const reader = response.body?.getReader()
  // Platforms without streaming bodies still hand over the whole text at the end.
  if (!reader) return deliver(new Uint8Array(await response.arrayBuffer()))
  for (let chunk; !(chunk = await reader.read()).done && attempt.isActive(); ) deliver(chunk.value)
}
