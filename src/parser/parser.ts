import { StreamError } from '../errors'
import type { EventStreamMessage, EventStreamParser, EventStreamParserOptions } from './types'

const LF = 10
const SPACE = 32
const COLON = 58

/**
 * Creates a push parser for `text/event-stream` bodies that follows the WHATWG "Interpreting an
 * event stream" steps exactly, whatever the chunk boundaries: one leading BOM stripped, CR, LF
 * and CRLF line ends (a CRLF split across two chunks counts once), invalid UTF-8 replaced by
 * U+FFFD, characters split across byte chunks decoded whole, events dispatched only on a blank
 * line (never at the end of the stream).
 *
 * Beyond the spec, every message also carries `id`, the `id:` field of its own block, and
 * memory stays bounded: an event larger than `maxEventSize` is dropped with a `too-large`
 * {@link StreamError} through `onError` (its block's `id:` is not remembered) and parsing
 * resumes at the next blank line; a comment or unknown field line longer than `maxEventSize` is
 * discarded as it arrives.
 *
 * A listener (`onEvent`, `onRetry`, `onComment`, `onError`) that throws makes `feed()` throw the
 * same error; the parser keeps the unparsed rest of that chunk and goes on with it at the next
 * `feed()` or `end()`, so no later event is lost or corrupted. Byte chunks are decoded with a
 * streaming `TextDecoder` looked up on `globalThis` when first needed. Strings are taken as the
 * stream's text before BOM removal: the parser strips one leading U+FEFF from them too.
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
  const { onEvent, onRetry, onComment, onError } = options
  const maxEventSize = options.maxEventSize ?? 1048576
  let decoder: TextDecoder | undefined
  // Stream state.
  let isBomChecked = false
  let partial = ''
  let rest = ''
  let isCrPending = false
  let isSkippingEvent = false
  let isDiscardingLine = false
  // Event block state: `data` is undefined until the block has a data field.
  let data: string | undefined
  let type = ''
  let id: string | undefined
  let lastEventId = ''

  const clearBlock = (): void => {
    data = undefined
    type = ''
    id = undefined
  }

  const fits = (dataLength: number, typeLength: number, idLength: number): boolean =>
    dataLength + typeLength + idLength <= maxEventSize

  const drop = (): void => {
    clearBlock()
    isSkippingEvent = true
    onError?.(
      new StreamError('too-large', `An event exceeded maxEventSize (${maxEventSize}) and was dropped`, {
        retryable: false,
      }),
    )
  }

  const dispatch = (): void => {
    if (isSkippingEvent) {
      isSkippingEvent = false
      clearBlock()
      return
    }
    if (id !== undefined) lastEventId = id
    if (data === undefined) {
      clearBlock()
      return
    }
    const message: EventStreamMessage = { type: type || 'message', data, id, lastEventId }
    clearBlock()
    onEvent(message)
  }

  const appendData = (value: string): void => {
    if (data === undefined) {
      if (fits(value.length, type.length, id?.length ?? 0)) data = value
      else drop()
    } else if (fits(data.length + 1 + value.length, type.length, id?.length ?? 0)) {
      data = data + '\n' + value
    } else drop()
  }

  // Handles the line text[start, end). Characters at and past `end` are a line break or the
  // end of the string, so peeking one past a field name never matches a letter or a colon.
  const handleLine = (text: string, start: number, end: number): void => {
    if (start === end) return dispatch()
    if (isSkippingEvent) return
    const first = text.charCodeAt(start)
    if (
      first === 100 &&
      text.charCodeAt(start + 1) === 97 &&
      text.charCodeAt(start + 2) === 116 &&
      text.charCodeAt(start + 3) === 97 &&
      text.charCodeAt(start + 4) === COLON
    ) {
      // Fast path for "data:".
      return appendData(text.slice(text.charCodeAt(start + 5) === SPACE ? start + 6 : start + 5, end))
    }
    if (first === COLON) {
      onComment?.(text.slice(start + 1, end))
      return
    }
    let colon = text.indexOf(':', start)
    if (colon < 0 || colon > end) colon = end
    const field = text.slice(start, colon)
    const value =
      colon === end ? '' : text.slice(text.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1, end)
    if (field === 'data') appendData(value)
    else if (field === 'event') {
      if (fits(data === undefined ? 0 : data.length, value.length, id?.length ?? 0)) type = value
      else drop()
    } else if (field === 'id') {
      if (value.includes('\0')) return
      if (fits(data === undefined ? 0 : data.length, type.length, value.length)) id = value
      else drop()
    } else if (field === 'retry' && value !== '') {
      for (let index = 0; index < value.length; index++) {
        const code = value.charCodeAt(index)
        if (code < 48 || code > 57) return
      }
      onRetry?.(parseInt(value, 10))
    }
  }

  // A partial line already longer than the limit: keep it only if it is a data, event or id
  // line that may still fit; otherwise drop its event or just the line, as its text arrives.
  const checkLongLine = (): void => {
    if (!isSkippingEvent) {
      let colon = partial.indexOf(':')
      if (colon < 0) colon = partial.length
      const field = partial.slice(0, colon)
      if (field === 'data' || field === 'event' || field === 'id') {
        const valueLength =
          partial.length - colon - (partial.charCodeAt(colon + 1) === SPACE ? 2 : 1)
        const dataLength = data === undefined ? 0 : data.length + (field === 'data' ? 1 : 0)
        const typeLength = field === 'event' ? 0 : type.length
        const idLength = field === 'id' || id === undefined ? 0 : id.length
        if (fits(dataLength + valueLength, typeLength, idLength)) return
        partial = ''
        isDiscardingLine = true
        drop()
        return
      }
    }
    partial = ''
    isDiscardingLine = true
  }

  const scan = (text: string): void => {
    const length = text.length
    let position = 0
    if (isCrPending) {
      isCrPending = false
      if (text.charCodeAt(0) === LF) position = 1
    }
    let lf = text.indexOf('\n', position)
    let cr = text.indexOf('\r', position)
    try {
      while (lf >= 0 || cr >= 0) {
        const start = position
        let end: number
        if (cr < 0 || (lf >= 0 && lf < cr)) {
          end = lf
          position = lf + 1
          lf = text.indexOf('\n', position)
        } else {
          end = cr
          position = cr + 1
          if (position === length) isCrPending = true
          else if (text.charCodeAt(position) === LF) {
            position++
            lf = text.indexOf('\n', position)
          }
          cr = text.indexOf('\r', position)
        }
        if (isDiscardingLine) {
          isDiscardingLine = false
        } else if (partial !== '') {
          const line = partial + text.slice(start, end)
          partial = ''
          handleLine(line, 0, line.length)
        } else handleLine(text, start, end)
      }
    } catch (error) {
      // A listener threw: keep the unparsed rest for the next call, then let the error through.
      rest = text.slice(position)
      throw error
    }
    if (position < length && !isDiscardingLine) {
      partial = partial === '' ? text.slice(position) : partial + text.slice(position)
      if (partial.length > maxEventSize) checkLongLine()
    }
  }

  const consume = (text: string): void => {
    if (rest !== '') {
      text = rest + text
      rest = ''
    }
    if (!isBomChecked && text !== '') {
      isBomChecked = true
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    if (text !== '') scan(text)
  }

  const clearStream = (): void => {
    isBomChecked = false
    partial = ''
    rest = ''
    isCrPending = false
    isSkippingEvent = false
    isDiscardingLine = false
    clearBlock()
  }

  return {
    feed(chunk) {
      if (typeof chunk === 'string') consume(decoder ? decoder.decode() + chunk : chunk)
      else {
        decoder ??= new globalThis.TextDecoder('utf-8', { ignoreBOM: true })
        consume(decoder.decode(chunk, { stream: true }))
      }
    },
    end() {
      try {
        consume(decoder ? decoder.decode() : '')
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
