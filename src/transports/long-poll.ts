import type { Env } from '../env'
import { StreamError } from '../errors'
import type { EventStreamMessage } from '../parser/types'
import { readBody, runAttempt, sendRequest } from './http'
import { acceptResponse } from './response-status'
import { parsePollBody, type PollBatch } from './poll-body'
import type { ConnectRequest, Transport, TransportHandle, TransportSink } from './types'

const JSON_TYPE = 'application/json'

/**
 * Seconds the server may hold a poll when nothing is pending, when the request sets no `wait`.
 * @defaultValue 25
 */
export const DEFAULT_POLL_WAIT = 25

/** Seconds on top of `wait` before the client gives up on a poll. */
const DEADLINE_MARGIN = 10

/**
 * The `long-poll` rung, the last resort: one `mode=poll` request answered with one JSON batch.
 * It works through any proxy that passes plain JSON.
 *
 * The request uses the app's method, body and headers, `Accept: application/json`, the cursor
 * as `Last-Event-ID` and in the query, and `wait` (default 25 s). It is aborted at `wait + 10` s
 * with a retryable `timeout` error. A 200 JSON batch is reported as: `open()`; a `_gap` message
 * when the batch has a gap; one message per event (`type` from `event`, default `message`);
 * a synthetic `_end` message with data `{"reason":"batch","more":<bool>}` whose `lastEventId`
 * is the batch's cursor; `end()`. Invalid JSON or a wrong shape ⇒ `parse` (not retryable);
 * statuses and content types as in {@link fetchTransport}.
 */
export const longPollTransport: Transport = {
  name: 'long-poll',
  mode: 'poll',
  isSupported: (_request: ConnectRequest, env: Env): boolean =>
    typeof env.fetch() === 'function' && typeof AbortController === 'function',
  open: (request: ConnectRequest, sink: TransportSink, env: Env): TransportHandle => {
    const wait = request.wait ?? DEFAULT_POLL_WAIT
    return poll(request, sink, env, wait, (wait + DEADLINE_MARGIN) * 1000)
  },
}

/** One poll, given up (retryable `timeout`, request aborted) after `ms`. */
function poll(request: ConnectRequest, sink: Partial<TransportSink>, env: Env, wait: number, ms: number): TransportHandle {
  let timer: unknown
  return runAttempt(
    sink,
    async (attempt) => {
      const { sink } = attempt
      timer = env.setTimeout(() => sink.error(new StreamError('timeout', `no long-poll answer in ${ms} ms`, { retryable: true })), ms)
      const response = await sendRequest(request, 'poll', JSON_TYPE, attempt, env, { wait })
      if (!acceptResponse(response, JSON_TYPE, attempt, env)) return
      // Streaming decode: a character split across chunks is joined, not replaced.
      const decoder = new TextDecoder()
      let text = ''
      await readBody(response, attempt, (chunk) => (text += decoder.decode(chunk, { stream: true })))
      const batch = parsePollBody(text + decoder.decode())
      if (!attempt.isActive()) return
      sink.open()
      for (const message of batchMessages(batch, request.lastEventId)) sink.message(message)
      sink.end()
    },
    () => env.clearTimeout(timer),
  )
}

/**
 * Turns a batch into the messages a stream would have carried.
 * @param batch - a validated batch
 * @param requested - the cursor the poll was sent with
 * @returns `_gap` (when there is a gap), the events, then `_end`
 */
export function batchMessages({ events, lastEventId, gap, more }: PollBatch, requested: string | undefined): EventStreamMessage[] {
  const messages: EventStreamMessage[] = []
  let cursor = requested ?? ''
  if (gap) {
    // The id is the cursor delivery continues from: the server's `gap.cursor` when it sends
    // one; with no events that is the batch's cursor; otherwise the events carry it themselves.
    const id = typeof gap.cursor === 'string' ? gap.cursor : events.length ? undefined : lastEventId
    cursor = id ?? cursor
    messages.push({ type: '_gap', data: JSON.stringify(gap), id, lastEventId: cursor })
  }
  for (const { id, event, data } of events) {
    if (id !== undefined) cursor = id
    messages.push({ type: event || 'message', data, id, lastEventId: cursor })
  }
  messages.push({
    type: '_end',
    data: JSON.stringify({ reason: 'batch', more }),
    id: undefined,
    lastEventId: lastEventId ?? events.at(-1)?.id ?? requested ?? '',
  })
  return messages
}

/**
 * Asks the endpoint whether a companion answers there, with a cheap `mode=poll&wait=0`
 * request. The client uses it when a streaming attempt produced nothing at all, to tell a
 * buffering proxy (`companion` or `other`: something answers) from a dead path.
 * @param request - the attempt's request (URL, headers, credentials, cursor)
 * @param env - the platform
 * @param timeoutMs - give up after this long
 * @defaultValue timeoutMs 10000
 * @returns `companion` for a valid poll batch, `other` for any other HTTP answer,
 *   `unreachable` when the request fails or times out
 */
export function probe(
  request: ConnectRequest,
  env: Env,
  timeoutMs = DEADLINE_MARGIN * 1000,
): Promise<'companion' | 'other' | 'unreachable'> {
  return new Promise((resolve) => {
    // The poll itself: a valid batch ends it; a status, content type or body of something else
    // fails it with one of the codes below; a failed request or the deadline with the others.
    poll(
      request,
      {
        end: () => resolve('companion'),
        error: ({ code }) => resolve(code === 'http-status' || code === 'content-type' || code === 'parse' ? 'other' : 'unreachable'),
      },
      env,
      0,
      timeoutMs,
    )
  })
}
