import type { Env } from '../env'
import { createEventStreamParser } from '../parser'
import { readBody, runAttempt, sendRequest } from './http'
import { acceptResponse } from './response-status'
import type { ConnectRequest, TransportHandle, TransportMode, TransportSink } from './types'

/** The media type the streaming transports accept. */
export const EVENT_STREAM_TYPE = 'text/event-stream'

/**
 * One `text/event-stream` request over `fetch`, shared by the `fetch` (`mode=stream`) and
 * `sse-close` (`mode=close`) transports: status 200 and an event-stream content type ⇒
 * `sink.open()`, then every parsed event ⇒ `sink.message`, `retry:` ⇒ `sink.retryHint`, the end
 * of the body ⇒ `sink.end()`. An event over `maxEventSize` is dropped and reported through
 * `sink.warning`; the attempt goes on.
 *
 * @param request - the attempt's request
 * @param sink - the client's sink
 * @param env - the platform (`env.fetch()`)
 * @param mode - `stream` or `close`
 * @returns the handle; `close()` aborts the request and silences the sink
 */
export function streamResponse(request: ConnectRequest, sink: TransportSink, env: Env, mode: TransportMode): TransportHandle {
  return runAttempt(sink, async (attempt) => {
    const { sink } = attempt
    const response = await sendRequest(request, mode, EVENT_STREAM_TYPE, attempt, env)
    if (!acceptResponse(response, EVENT_STREAM_TYPE, attempt, env)) return
    sink.open()
    const parser = createEventStreamParser({
      onEvent: sink.message,
      onRetry: sink.retryHint,
      onError: sink.warning,
      maxEventSize: request.maxEventSize,
    })
    await readBody(response, attempt, parser.feed)
    if (!attempt.isActive()) return
    // Flushes the decoder; an event without its blank line is discarded, as the spec says.
    parser.end()
    sink.end()
  })
}

/**
 * Whether `fetch` with a streaming response body can run here.
 * @param env - the platform
 */
export const canStreamFetch = (env: Env): boolean =>
  typeof env.fetch() === 'function' && typeof ReadableStream === 'function' && typeof AbortController === 'function'
