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
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw new StreamError('parse', 'Long-poll response is not valid JSON', { cause })
  }
  if (!isRecord(value)) throw shapeError('the body is not an object')
  const { events, lastEventId, gap, more } = value
  if (!Array.isArray(events)) throw shapeError('`events` is not an array')
  const parsed = events.map((event: unknown, index): PollEvent => {
    if (!isRecord(event)) throw shapeError(`events[${index}] is not an object`)
    if (typeof event.data !== 'string') throw shapeError(`events[${index}].data is not a string`)
    return {
      id: optionalString(event.id, `events[${index}].id`),
      event: optionalString(event.event, `events[${index}].event`),
      data: event.data,
    }
  })
  if (gap !== undefined && gap !== null && !isRecord(gap)) throw shapeError('`gap` is not an object')
  if (more !== undefined && typeof more !== 'boolean') throw shapeError('`more` is not a boolean')
  return {
    events: parsed,
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
    parsePollBody(text)
    return true
  } catch {
    return false
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw shapeError(`${field} is not a string`)
  return value
}

function shapeError(detail: string): StreamError {
  return new StreamError('parse', `Long-poll response has the wrong shape: ${detail}`)
}
