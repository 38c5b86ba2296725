/** A stateful splitter of event-stream bytes into event blocks. */
export interface EventSplitter {
  /** Feeds bytes; returns every event block completed by them (bytes up to and including the dispatching blank line). */
  push(chunk: Uint8Array): Buffer[]
  /** Returns (and forgets) the bytes of the unfinished block. */
  rest(): Buffer
}

/**
 * Splits an event-stream byte stream into event blocks: the bytes up to and including the blank
 * line that dispatches an event. Bytes are never altered, dropped or reordered; only the places
 * where the stream is cut are chosen, which is what a proxy that buffers per event needs.
 *
 * Line terminators are CRLF, LF or CR as in the WHATWG grammar; blank lines that end no content
 * stay attached to the following block. A comment-only block counts as a block.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @returns A stateful splitter.
 * @example
 * const splitter = createEventSplitter()
 * splitter.push(Buffer.from('data: a\n\ndata: b')) // [<'data: a\n\n'>]
 * splitter.rest() // <'data: b'>
 */
export declare function createEventSplitter(): EventSplitter
