import { StreamError } from '../errors'

/** One event of a long-poll batch. */
export interface PollEvent {
  readonly id: string | undefined
  /** The event type; `undefined` means `message`. */
  readonly event: string | undefined
  readonly data: string
}

/** The `gap` of a long-poll batch: the requested cursor could not be resumed. */
export interface PollGap {
  readonly requested?: unknown
  readonly oldest?: unknown
  readonly head?: unknown
  readonly reason?: unknown
  /** Optional: the cursor delivery continues from, when the server says so. */
  readonly cursor?: unknown
  readonly [field: string]: unknown
}

/** A validated long-poll response body. */
export interface PollBatch {
  readonly events: readonly PollEvent[]
  /** The cursor after this batch; `undefined` when the server sent none (null or absent). */
  readonly lastEventId: string | undefined
  readonly gap: PollGap | undefined
  /** `true`: more events are pending, poll again at once. */
  readonly more: boolean
}

/**
 * Reads a `mode=poll` response body: `{"events":[{"id","event","data"}], "lastEventId",
 * "gap", "more"}`. `id`, `event`, `lastEventId` and `gap` may be `null` or absent, `more`
 * absent (⇒ `false`); `events` and every `data` string are required.
 * @param text - the response body
 * @returns the batch
 * @throws a `parse` {@link StreamError} (not retryable) for invalid JSON or a wrong shape
 */
export function parsePollBody(text: string): PollBatch {
  let value: Record<string, unknown>
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw new StreamError('parse', 'long-poll body is not valid JSON', { cause })
  }
  check(isRecord(value), 'the body')
  const { events, lastEventId, gap, more } = value
  check(Array.isArray(events), '`events`')
  check(gap == null || isRecord(gap), '`gap`')
  check(more === undefined || typeof more == 'boolean', '`more`')
  return {
    events: events.map((event: unknown, index): PollEvent => {
      const field = `events[${index}]`
      check(isRecord(event), field)
      check(typeof event.data == 'string', field + '.data')
      return { id: optionalString(event.id, field + '.id'), event: optionalString(event.event, field + '.event'), data: event.data }
    }),
    lastEventId: optionalString(lastEventId, 'lastEventId'),
    gap: gap ?? undefined,
    more: more ?? false,
  }
}

/**
 * Whether a text is a well-formed long-poll body (what the companion answers).
 * @param text - a response body
 */
export function isPollBody(text: string): boolean {
  try {
    return !!parsePollBody(text)
  } catch {
    return false
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value == 'object' && !Array.isArray(value)

function optionalString(value: unknown, field: string): string | undefined {
  check(value == null || typeof value == 'string', field)
  return value ?? undefined
}

function check(condition: boolean, field: string): asserts condition {
  if (!condition) throw new StreamError('parse', 'bad long-poll body at ' + field)
}
