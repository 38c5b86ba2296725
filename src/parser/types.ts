import type { StreamError } from '../errors'

/**
 * One dispatched event, as the WHATWG "Interpreting an event stream" steps define it.
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export interface EventStreamMessage {
  /** The `event:` field, `"message"` when absent or empty. */
  type: string
  /** The `data:` lines joined with `\n`. */
  data: string
  /** The `id:` field of this event's own block, `undefined` when the block had none. */
  id: string | undefined
  /** The stream's last event ID at dispatch time (carried over from earlier blocks). */
  lastEventId: string
}

/** Options of {@link createEventStreamParser}. */
export interface EventStreamParserOptions {
  /** Called once per dispatched event. */
  onEvent: (message: EventStreamMessage) => void
  /** Called with the `retry:` field's value in ms (ASCII digits only). */
  onRetry?: (ms: number) => void
  /** Called with a comment line's text (after the leading `:`). */
  onComment?: (comment: string) => void
  /** Called with a `too-large` {@link StreamError} when an event exceeds `maxEventSize`. */
  onError?: (error: StreamError) => void
  /**
   * Largest event, in UTF-16 code units of its fields, that is kept; larger ones are dropped.
   * @defaultValue 1048576 (1 MiB)
   */
  maxEventSize?: number
}

/** A push parser: feed it chunks, it calls back with events. */
export interface EventStreamParser {
  /** Feeds bytes (decoded as UTF-8, streaming-safe) or already-decoded text. */
  feed(chunk: Uint8Array | string): void
  /** The stream ended: flushes the decoder; a pending event without a blank line is discarded. */
  end(): void
  /** Forgets all state (pending event, last event ID, decoder, BOM) to start a new stream. */
  reset(): void
}
