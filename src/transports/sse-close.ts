import type { Env } from '../env'
import { canStreamFetch, streamResponse } from './stream-response'
import type { ConnectRequest, Transport, TransportHandle, TransportSink } from './types'

/**
 * The `sse-close` rung: a `text/event-stream` request with `mode=close`, which the companion
 * answers with one batch (`_canary`, `retry:`, events, `_end`) and then ends, so buffering
 * proxies pass it on as a whole. Behaves exactly like {@link fetchTransport} otherwise; it
 * reports what it sees and `end()`s: the client decides that an end without `_end` is a failure.
 */
export const sseCloseTransport: Transport = {
  name: 'sse-close',
  mode: 'close',
  isSupported: (_request: ConnectRequest, env: Env): boolean => canStreamFetch(env),
  open: (request: ConnectRequest, sink: TransportSink, env: Env): TransportHandle =>
    streamResponse(request, sink, env, 'close'),
}
