import { StreamError } from '../errors'
import type { EventStreamMessage, EventStreamParser, EventStreamParserOptions } from './types'

/**
 * Creates a push parser for `text/event-stream` bodies that follows the WHATWG "Interpreting an
 * event stream" steps exactly, whatever the chunk boundaries: one leading BOM stripped, CR, LF
 * and CRLF line ends (a CRLF split across two chunks counts once), invalid UTF-8 replaced by
 * U+FFFD, characters split across byte chunks decoded whole, events dispatched only on a blank
 * line (never at the end of the stream).
 *
 * Beyond the spec, every message also carries `id`, the `id:` field of its own block, and
 * memory stays bounded by `maxEventSize` (UTF-16 code units of the event's `data`, joined with
 * `\n`, plus its `event` and `id` values): a larger event is dropped with a `too-large`
 * {@link StreamError} through `onError` (its block's `id:` is not remembered either) and
 * parsing resumes after the next blank line, the rest of the block discarded as it arrives,
 * never buffered. A line longer than `maxEventSize + 7` (whatever its field, comments included)
 * counts as too large for its block, so no single line is ever buffered without bound either.
 *
 * A listener (`onEvent`, `onRetry`, `onComment`, `onError`) that throws makes `feed()` throw the
 * same error, with the parser's state intact: the unparsed rest of that chunk is kept and parsed
 * first by the next `feed()` or `end()`, so no later event is lost or corrupted. (A throw during
 * `end()` itself drops what was left of that stream.)
 *
 * After `end()` the parser is ready for the next stream (a reconnection): its BOM is stripped
 * again and the last event ID is kept; `reset()` also forgets the last event ID.
 *
 * Byte chunks are decoded once per chunk with a `TextDecoder` looked up on `globalThis` when first
 * needed (streaming across chunks that end inside a character). A string chunk is taken as the
 * stream's text before BOM removal: the parser strips one leading U+FEFF from it too.
 *
 * @param options - `onEvent` and the optional `onRetry`, `onComment`, `onError`, `maxEventSize`
 * @returns a parser to `feed()` chunks to, `end()` when the body ends, `reset()` for a new stream
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @example
 * ```ts
 * const parser = createEventStreamParser({ onEvent: (m) => console.log(m.type, m.data) })
 * for await (const chunk of response.body) parser.feed(chunk)
 * parser.end()
 * ```
 */
export function createEventStreamParser(options: EventStreamParserOptions): EventStreamParser {
  const { onEvent, onRetry, onComment, onError, maxEventSize = 1048576 } = options
  // "event: " is the longest prefix: a longer line cannot fit in an event (whatever its field).
  const lineLimit = maxEventSize + 7
  let decoder: TextDecoder | undefined
  let isStarted = false
  let isCrPending = false
  let isSkipping = false
  let partial = ''
  let rest = ''
  // The event block; `data` stays undefined until the block has a data field.
  let data: string | undefined
  let type = ''
  let id: string | undefined
  let lastEventId = ''

  const clearBlock = (): void => {
    data = id = undefined
    type = ''
  }

  const drop = (): void => {
    clearBlock()
    isSkipping = true
    onError?.(new StreamError('too-large', 'Event too large'))
  }

  // Handles the line text[start, end). What sits at `end` is a line break or nothing, so peeking
  // one past a field name never matches a colon or a space.
  const handleLine = (text: string, start: number, end: number): void => {
    if (start === end) {
      if (isSkipping) isSkipping = false
      else {
        if (id !== undefined) lastEventId = id
        if (data !== undefined) {
          const message: EventStreamMessage = { type: type || 'message', data, id, lastEventId }
          clearBlock()
          return onEvent(message)
        }
      }
      return clearBlock()
    }
    if (isSkipping) return
    if (end - start > lineLimit) return drop()
    // The usual fields are matched in place, without slicing their names ("data:" by hand, the
    // hottest: startsWith() is a builtin call, slower on lines this short). Otherwise the name ends
    // at the line's first colon, or at its end: search within the line only, as indexOf() would
    // run on through the whole chunk when the line has no colon.
    let field =
      text.charCodeAt(start) === 100 &&
      text.charCodeAt(start + 1) === 97 &&
      text.charCodeAt(start + 2) === 116 &&
      text.charCodeAt(start + 3) === 97 &&
      text.charCodeAt(start + 4) === 58
        ? 'data'
        : text.startsWith('id:', start)
          ? 'id'
          : text.startsWith('event:', start)
            ? 'event'
            : ''
    let colon = start + field.length
    if (!field) {
      while (colon < end && text.charCodeAt(colon) !== 58) colon++
      if (colon === start) return onComment?.(text.slice(start + 1, end))
      field = text.slice(start, colon)
    }
    // Without a colon, slice() starts past `end` and gives '': the empty value.
    const value = text.slice(text.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1, end)
    if (field === 'data') data = data === undefined ? value : data + '\n' + value
    else if (field === 'event') type = value
    else if (field === 'id') {
      if (!value.includes('\0')) id = value
    } else if (field === 'retry' && /^\d+$/.test(value)) onRetry?.(+value)
    if ((data?.length ?? 0) + type.length + (id?.length ?? 0) > maxEventSize) drop()
  }

  const scan = (text: string): void => {
    const length = text.length
    // The LF of a CRLF split across chunks.
    let position = isCrPending && text.charCodeAt(0) === 10 ? 1 : 0
    isCrPending = false
    let lf = text.indexOf('\n', position)
    let cr = text.indexOf('\r', position)
    try {
      while (lf >= 0 || cr >= 0) {
        const start = position
        let end = lf
        if (cr < 0 || (lf >= 0 && lf < cr)) {
          position = lf + 1
          // A blank line often follows: spare the search then.
          lf = text.charCodeAt(position) === 10 ? position : text.indexOf('\n', position)
        } else {
          end = cr
          position = cr + 1
          if (text.charCodeAt(position) === 10) lf = text.indexOf('\n', ++position)
          else if (position === length) isCrPending = true
          cr = text.indexOf('\r', position)
        }
        if (partial) {
          // join() builds a flat string: a rope here would make every string access below
          // polymorphic (and slower) for all later lines.
          const line = [partial, text.slice(start, end)].join('')
          partial = ''
          handleLine(line, 0, line.length)
        } else handleLine(text, start, end)
      }
    } catch (error) {
      // A listener threw: keep the unparsed rest for the next call, then let the error through.
      rest = text.slice(position)
      throw error
    }
    if (position < length) {
      partial += text.slice(position)
      // Stop buffering a line that cannot fit or is skipped: its block is dropped, its text
      // discarded as it comes; the placeholder keeps the line non-blank.
      if (isSkipping || partial.length > lineLimit) {
        partial = '-'
        if (!isSkipping) drop()
      }
    }
  }

  const consume = (text: string): void => {
    text = rest + text
    rest = ''
    if (!isStarted && text) {
      isStarted = true
      text = text.replace(/^\uFEFF/, '')
    }
    if (text) scan(text)
  }

  const clearStream = (): void => {
    isStarted = isCrPending = isSkipping = false
    partial = rest = ''
    clearBlock()
  }

  return {
    feed(chunk) {
      consume(
        typeof chunk === 'string'
          ? // An unfinished character before a string ends as U+FFFD.
            (decoder?.decode() ?? '') + chunk
          : (decoder ??= new globalThis.TextDecoder('utf-8', { ignoreBOM: true })).decode(chunk, { stream: true }),
      )
    },
    end() {
      try {
        consume(decoder?.decode() ?? '')
      } finally {
        clearStream()
      }
    },
    reset() {
      clearStream()
      decoder = undefined
      lastEventId = ''
    },
  }
}
