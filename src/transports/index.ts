import { eventSourceTransport } from './eventsource'
import { fetchTransport } from './fetch'
import { longPollTransport } from './long-poll'
import { sseCloseTransport } from './sse-close'
import type { Transport, TransportName } from './types'

export { eventSourceTransport } from './eventsource'
export { fetchTransport } from './fetch'
export { sseCloseTransport } from './sse-close'
export { longPollTransport, probe, batchMessages, DEFAULT_POLL_WAIT } from './long-poll'
export { parsePollBody, isPollBody } from './poll-body'
export type { PollBatch, PollEvent, PollGap } from './poll-body'
export { buildRequestUrl } from './url'
export type { RequestUrlExtra } from './url'
export {
  isRetryableStatus,
  parseRetryAfter,
  statusError,
  contentTypeEssence,
} from './response-status'
export { mergeHeaders } from './http'
export type {
  ConnectRequest,
  Transport,
  TransportHandle,
  TransportMode,
  TransportName,
  TransportSink,
} from './types'

/**
 * The four transports in ladder order: `eventsource` → `fetch` → `sse-close` → `long-poll`.
 * Pass your own array to the client to reorder or drop rungs (unused ones tree-shake).
 */
export const defaultTransports: readonly Transport[] = [
  eventSourceTransport,
  fetchTransport,
  sseCloseTransport,
  longPollTransport,
]

/** The four transports by name. */
export const transportsByName: Readonly<Record<TransportName, Transport>> = {
  eventsource: eventSourceTransport,
  fetch: fetchTransport,
  'sse-close': sseCloseTransport,
  'long-poll': longPollTransport,
}
