// Event ids of the protocol, `<ms>-<seq>`: shared by the client (de-dup, latency) and the companion.

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
  const [, ms, seq] = ID_PATTERN.exec(id)?.map(Number) ?? []
  return Number.isSafeInteger(ms) && Number.isSafeInteger(seq) ? { ms: ms!, seq: seq! } : undefined
}

/**
 * Orders two parsed ids.
 * @returns a negative number, zero or a positive number as `a` is before, equal to or after `b`
 */
export function compareIdParts(a: EventIdParts, b: EventIdParts): number {
  return a.ms - b.ms || a.seq - b.seq
}
