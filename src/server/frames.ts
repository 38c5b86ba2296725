import type { StoredEvent } from './store'

/** Names of the protocol's own events; apps cannot publish names starting with `_`. */
export type ReservedEventName = '_canary' | '_ping' | '_gap' | '_end' | '_backoff'

/** Why a response ends on purpose (`_end` data). */
export type EndReason = 'batch' | 'rotate' | 'drain'

/** Why a cursor cannot be resumed (`_gap` data). */
export type GapReason = 'expired' | 'unknown' | 'future'

/** `_canary` data: the first frame of every `stream`/`close` response. */
export interface CanaryData {
  /** Protocol version. */
  readonly v: 1
  readonly mode: 'stream' | 'close'
  /** Server time in ms when the frame was written. */
  readonly t: number
  /** Heartbeat interval of this response, in seconds. */
  readonly ping: number
  /** Newest id in the log (`"0-0"` when empty); `null` on an overload answer (log not read). */
  readonly head: string | null
  /** Oldest retained id, `null` when nothing is retained (or on an overload answer). */
  readonly oldest: string | null
  /**
   * Where delivery of this response starts (the cursor, a start token's position, or the head).
   * A client without a cursor adopts it, so a later reconnect resumes from here even after its
   * start token expired.
   */
  readonly cursor: string
  /** Events of this response arrive in increasing id order. */
  readonly ordered: true
}

/** `_ping` data. */
export interface PingData {
  /** Server time in ms when the frame was written. */
  readonly t: number
  /** 1 for the first ping of a response, then 2, 3, … */
  readonly n: number
}

/** `_gap` data, and the `gap` member of a poll response. */
export interface GapData {
  /** The cursor the client asked for (as sent, cut to 256 characters). */
  readonly requested: string
  readonly oldest: string | null
  readonly head: string
  readonly reason: GapReason
  /** The cursor delivery continues from (also the `_gap` event's `id:`). */
  readonly cursor: string
}

/** `_backoff` data: the server is overloaded; wait `retryMs` (plus jitter) before reconnecting. */
export interface BackoffData {
  readonly retryMs: number
  readonly reason: 'overload'
}

/** `_end` data. */
export interface EndData {
  readonly reason: EndReason
}

const LINE_BREAK = /\r\n|\r|\n/

/**
 * Writes `data:` lines: one per line of `data`, split on CR LF, CR or LF, so no line break
 * inside the data can end a field early or start a new one.
 */
function dataLines(data: string): string {
  let out = ''
  for (const line of data.split(LINE_BREAK)) out += `data: ${line}\n`
  return out
}

/**
 * Serialises an app event. The caller guarantees `id` and `event` hold no CR, LF or NUL
 * (`publish` rejects them), so they cannot corrupt the frame.
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export function formatEventFrame(event: StoredEvent): string {
  // Live events reach every open stream as the same object: serialise once, not once per client.
  let frame = frameCache.get(event)
  if (frame === undefined) {
    const name = event.event === 'message' ? '' : `event: ${event.event}\n`
    frame = `id: ${event.id}\n${name}${dataLines(event.data)}\n`
    frameCache.set(event, frame)
  }
  return frame
}

const frameCache = new WeakMap<StoredEvent, string>()

/**
 * Serialises a reserved event with JSON data, and an `id:` only for `_gap`.
 */
export function formatReservedFrame(name: ReservedEventName, data: object, id?: string): string {
  const idLine = id === undefined ? '' : `id: ${id}\n`
  return `${idLine}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`
}

/** A `retry:` field, in whole ms. */
export function formatRetryFrame(ms: number): string {
  return `retry: ${Math.max(0, Math.round(ms))}\n\n`
}
