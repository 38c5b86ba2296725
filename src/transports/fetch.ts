import type { Env } from '../env'
import { canStreamFetch, streamResponse } from './stream-response'
import type { ConnectRequest, Transport, TransportHandle, TransportSink } from './types'

/**
 * The `fetch` rung: one long-lived `text/event-stream` response (`mode=stream`) read through
 * the SSE parser. Sends the app's headers, the cursor as `Last-Event-ID` (and in the query),
 * any method and body.
 *
 * Errors: a status other than 200 ⇒ `http-status` (5xx, 429, 408 retryable; `retryAfter` from
 * `Retry-After`); another content type ⇒ `content-type`; a failed request or a body that
 * breaks off ⇒ `network` (retryable). Events that arrived before a failure are delivered first.
 *
 * @example
 * ```ts
 * const handle = fetchTransport.open(request, sink, createEnv())
 * handle.close()
 * ```
 */
export const fetchTransport: Transport = {
  name: 'fetch',
  mode: 'stream',
  isSupported: (_request: ConnectRequest, env: Env): boolean => canStreamFetch(env),
  open: (request: ConnectRequest, sink: TransportSink, env: Env): TransportHandle =>
    streamResponse(request, sink, env, 'stream'),
}
