/** An event id split into its parts: `<ms>-<seq>`. */
export interface EventIdParts {
  /** Milliseconds since the epoch (the publish time in the memory store). */
  readonly ms: number
  /** Sequence number within `ms`, from 0. */
  readonly seq: number
}

/** The position before every event: reading after it replays everything retained. */
export const ZERO_ID = '0-0'

// At most 16 digits per part keeps both within Number.MAX_SAFE_INTEGER's magnitude; the
// explicit check below rejects the few 16-digit values above it.
const ID_PATTERN = /^(\d{1,16})-(\d{1,16})$/

/**
 * Parses an id of the form `<ms>-<seq>` (decimal, no sign, no spaces).
 * @param id - the candidate id
 * @returns its parts, or `undefined` when it is malformed or out of range
 */
export function parseEventId(id: string): EventIdParts | undefined {
  const match = ID_PATTERN.exec(id)
  if (match === null) return undefined
  const ms = Number(match[1])
  const seq = Number(match[2])
  if (!Number.isSafeInteger(ms) || !Number.isSafeInteger(seq)) return undefined
  return { ms, seq }
}

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
 * Orders two parsed ids.
 * @returns a negative number, zero or a positive number as `a` is before, equal to or after `b`
 */
export function compareIdParts(a: EventIdParts, b: EventIdParts): number {
  return a.ms === b.ms ? a.seq - b.seq : a.ms - b.ms
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
  const left = parseEventId(a)
  const right = parseEventId(b)
  if (left === undefined || right === undefined) {
    throw new TypeError(`Cannot compare malformed event ids ${JSON.stringify(a)}, ${JSON.stringify(b)}`)
  }
  return compareIdParts(left, right)
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
