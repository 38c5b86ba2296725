import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { createEventStreamParser } from '../../../src/parser'
import type { EventStreamMessage } from '../../../src/parser'
import { runParser } from './harness'
import { referenceParse } from './reference'

/** Cuts `input` at the given (unsorted, possibly repeated) offsets. */
function cut<T extends string | Uint8Array>(input: T, offsets: number[]): T[] {
  const points = [...new Set(offsets.map((offset) => offset % (input.length + 1)))].sort((a, b) => a - b)
  const chunks: T[] = []
  let previous = 0
  for (const point of points) {
    chunks.push(input.slice(previous, point) as T)
    previous = point
  }
  chunks.push(input.slice(previous) as T)
  return chunks
}

const token = fc.constantFrom(
  'data', 'data:', 'data: ', 'event:', 'event: ', 'id:', 'id: ', 'retry:', 'retry: ', ':', ' ',
  '\n', '\r', '\r\n', '\n\n', 'a', 'b', '1', '42', '\uFEFF', '\u0000', 'é', '😀', 'x:y',
)
const sseText = fc.array(token, { maxLength: 60 }).map((tokens) => tokens.join(''))
const offsets = fc.array(fc.nat(), { maxLength: 12 })

const message = fc.record({
  event: fc.option(fc.constantFrom('add', 'remove', 'ü'), { nil: undefined }),
  id: fc.option(fc.string({ maxLength: 6 }).filter((id) => !/[\r\n\0]/.test(id)), { nil: undefined }),
  lines: fc.array(fc.string({ maxLength: 12 }).filter((line) => !/[\r\n]/.test(line)), { minLength: 1, maxLength: 4 }),
})
const lineEnd = fc.constantFrom('\n', '\r', '\r\n')

describe('properties (fast-check)', () => {
  test('a valid stream cut anywhere, as text or bytes, gives the same events', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), lineEnd, offsets, (messages, end, at) => {
        let stream = ''
        let lastEventId = ''
        const expected = messages.map((m) => {
          if (m.event !== undefined) stream += `event: ${m.event}${end}`
          if (m.id !== undefined) {
            stream += `id: ${m.id}${end}`
            lastEventId = m.id
          }
          for (const line of m.lines) stream += `data: ${line}${end}`
          stream += end
          return { type: m.event ?? 'message', data: m.lines.join('\n'), id: m.id, lastEventId }
        })
        expect(runParser([stream]).events).toEqual(expected)
        expect(runParser(cut(stream, at)).events).toEqual(expected)
        expect(runParser(cut(new TextEncoder().encode(stream), at)).events).toEqual(expected)
      }),
      { numRuns: 400 },
    )
  })

  test('arbitrary SSE-like text agrees with the naive reference whatever the chunking', () => {
    fc.assert(
      fc.property(sseText, offsets, (text, at) => {
        const expected = referenceParse(text)
        for (const chunks of [[text], cut(text, at), cut(new TextEncoder().encode(text), at)]) {
          const log = runParser(chunks)
          expect(log.events).toEqual(expected.events)
          expect(log.retries).toEqual(expected.retries)
        }
      }),
      { numRuns: 1500 },
    )
  })

  test('random bytes never throw and agree with the reference whatever the chunking', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), offsets, (bytes, at) => {
        const expected = referenceParse(bytes)
        const log = runParser(cut(bytes, at))
        expect(log.events).toEqual(expected.events)
        expect(log.retries).toEqual(expected.retries)
      }),
      { numRuns: 1500 },
    )
  })

  test('with a small maxEventSize, the chunking changes nothing either (drops, errors, comments)', () => {
    fc.assert(
      fc.property(sseText, offsets, fc.integer({ min: 0, max: 24 }), (text, at, maxEventSize) => {
        const whole = runParser([text], { maxEventSize })
        // A defaulted "message" type did not count toward the size: allow its 7 characters.
        for (const event of whole.events) {
          expect(event.data.length + event.type.length + (event.id?.length ?? 0)).toBeLessThanOrEqual(
            maxEventSize + (event.type === 'message' ? 7 : 0),
          )
        }
        expect(runParser(cut(text, at), { maxEventSize })).toEqual(whole)
        expect(runParser(cut(new TextEncoder().encode(text), at), { maxEventSize })).toEqual(whole)
      }),
      { numRuns: 1500 },
    )
  })

  test('listeners throwing anywhere lose nothing: every event arrives once, in order', () => {
    fc.assert(
      fc.property(sseText, offsets, fc.array(fc.nat({ max: 40 }), { maxLength: 6 }), (text, at, throwAt) => {
        const expected = referenceParse(text)
        const events: EventStreamMessage[] = []
        const retries: number[] = []
        let calls = 0
        const maybeThrow = (): void => {
          if (throwAt.includes(calls++)) throw new Error('listener failed')
        }
        const parser = createEventStreamParser({
          onEvent: (m) => {
            events.push(m)
            maybeThrow()
          },
          onRetry: (ms) => {
            retries.push(ms)
            maybeThrow()
          },
          onComment: maybeThrow,
        })
        const attempt = (action: () => void): void => {
          try {
            action()
          } catch (error) {
            expect(error).toEqual(new Error('listener failed'))
          }
        }
        for (const chunk of cut(new TextEncoder().encode(text), at)) attempt(() => parser.feed(chunk))
        // Whatever a throw left unparsed is parsed by the next call: an empty feed is enough.
        for (let index = 0; index < throwAt.length; index++) attempt(() => parser.feed(''))
        attempt(() => parser.end())
        expect(events).toEqual(expected.events)
        expect(retries).toEqual(expected.retries)
      }),
      { numRuns: 1000 },
    )
  })

  test('random bytes biased to SSE syntax agree with the reference', () => {
    const byte = fc.oneof(fc.constantFrom(10, 13, 58, 32, 100, 97, 116, 0xef, 0xbb, 0xbf, 0xc3, 0xa9), fc.integer({ min: 0, max: 255 }))
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 200 }), offsets, (list, at) => {
        const bytes = Uint8Array.from(list)
        const expected = referenceParse(bytes)
        expect(runParser(cut(bytes, at)).events).toEqual(expected.events)
      }),
      { numRuns: 1500 },
    )
  })
})
