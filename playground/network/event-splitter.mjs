// @ts-check

const CR = 0x0d
const LF = 0x0a

/**
 * @typedef {object} EventSplitter
 * @property {(chunk: Uint8Array) => Buffer[]} push Feeds bytes; returns every event block completed by them.
 * @property {() => Buffer} rest Returns (and forgets) the bytes of the unfinished block.
 */

/**
 * Splits an event-stream byte stream into event blocks: the bytes up to and including the blank
 * line that dispatches an event. Bytes are never altered, dropped or reordered; only the places
 * where the stream is cut are chosen, which is what a proxy that buffers per event needs.
 *
 * Line terminators are CRLF, LF or CR as in the WHATWG grammar; blank lines that end no content
 * stay attached to the following block. A comment-only block counts as a block.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @returns {EventSplitter} A stateful splitter.
 * @example
 * const splitter = createEventSplitter()
 * splitter.push(Buffer.from('data: a\n\ndata: b')) // [<'data: a\n\n'>]
 * splitter.rest() // <'data: b'>
 */
export function createEventSplitter() {
  /** @type {Buffer[]} */
  let pending = []
  let lineHasContent = false
  let blockHasContent = false
  let lastWasCR = false

  return {
    push(chunk) {
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      /** @type {number[]} */
      const cuts = []
      for (let index = 0; index < bytes.length; index++) {
        const byte = bytes[index]
        if (byte === LF && lastWasCR) {
          // Second half of a CRLF: the terminator was handled at the CR; keep the LF in the
          // block that the CR ended when both are in this chunk.
          lastWasCR = false
          if (cuts.length > 0 && cuts[cuts.length - 1] === index) cuts[cuts.length - 1] = index + 1
          continue
        }
        lastWasCR = byte === CR
        if (byte === CR || byte === LF) {
          if (!lineHasContent && blockHasContent) {
            cuts.push(index + 1)
            blockHasContent = false
          }
          lineHasContent = false
        } else {
          lineHasContent = true
          blockHasContent = true
        }
      }
      /** @type {Buffer[]} */
      const blocks = []
      let start = 0
      for (const cut of cuts) {
        pending.push(bytes.subarray(start, cut))
        blocks.push(Buffer.concat(pending))
        pending = []
        start = cut
      }
      if (start < bytes.length) pending.push(Buffer.from(bytes.subarray(start)))
      return blocks
    },
    rest() {
      const rest = Buffer.concat(pending)
      pending = []
      return rest
    },
  }
}
