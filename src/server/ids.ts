import { type EventIdParts, compareIdParts, parseEventId } from '../ids'

export { type EventIdParts, ZERO_ID, compareIdParts, parseEventId } from '../ids'

/**
 * @param id - anything
 * @returns whether `id` is a well-formed `<ms>-<seq>` id
 */
export function isEventId(id: unknown): id is string {
  return typeof id === 'string' && parseEventId(id) !== undefined
}

/**
 * Formats id parts.
 * @param parts - milliseconds and sequence number
 * @returns `<ms>-<seq>`
 */
export function formatEventId(parts: EventIdParts): string {
  return `${parts.ms}-${parts.seq}`
}

/**
 * Orders two `<ms>-<seq>` ids numerically (not as strings: `"10-0"` is after `"9-0"`).
 * Stores use it to compare cursors.
 * @param a - a well-formed id
 * @param b - a well-formed id
 * @returns a negative number, zero or a positive number as `a` is before, equal to or after `b`
 * @throws TypeError when either id is malformed (check with {@link isEventId} first)
 */
export function compareEventIds(a: string, b: string): number {
  return compareIdParts(wellFormedIdParts(a), wellFormedIdParts(b))
}

/**
 * @param id - an id the hub or a store produced
 * @returns its parts
 * @throws TypeError when it is malformed (check untrusted ids with {@link isEventId} first)
 */
export function wellFormedIdParts(id: string): EventIdParts {
  const parts = parseEventId(id)
  if (parts === undefined) throw new TypeError(`Malformed event id ${JSON.stringify(id)}`)
  return parts
}

/**
 * The next id after `last` at time `now`: `now-0` when the clock moved on, else `last.ms-(seq+1)`.
 * The id never goes backwards, even when the clock does.
 * @param last - the newest id so far
 * @param now - the current time in ms
 * @returns the next id's parts
 */
export function nextIdParts(last: EventIdParts, now: number): EventIdParts {
  const ms = Math.floor(now)
  return ms > last.ms ? { ms, seq: 0 } : { ms: last.ms, seq: last.seq + 1 }
}
