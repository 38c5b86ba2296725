import { describe, expect, test, vi } from 'vitest'
import { createEventStreamParser } from '../../../src/parser'
import type { EventStreamMessage } from '../../../src/parser'
import { isStreamError, StreamError } from '../../../src/errors'
import { runParser } from './harness'

const message = (data: string, extra: Partial<EventStreamMessage> = {}): EventStreamMessage => ({
  type: 'message',
  data,
  id: undefined,
  lastEventId: '',
  ...extra,
})

/** Every way to cut `text` in two, plus one char at a time. */
function cuts(text: string): string[][] {
  const all = Array.from({ length: text.length + 1 }, (_, at) => [text.slice(0, at), text.slice(at)])
  all.push([...text])
  return all
}

describe('maxEventSize', () => {
  test.each([
    ['data exactly at the limit is kept', 'data: 0123456789\n\n', [message('0123456789')], 0],
    ['data one over the limit is dropped', 'data: 0123456789A\n\n', [], 1],
    ['joined lines count their LF', 'data: 01234\ndata: 5678\n\n', [message('01234\n5678')], 0],
    ['joined lines over the limit', 'data: 01234\ndata: 56789\n\n', [], 1],
    ['event and id count', 'event: abc\nid: de\ndata: 01234\n\n', [message('01234', { type: 'abc', id: 'de', lastEventId: 'de' })], 0],
    ['event pushes it over', 'event: abcd\nid: de\ndata: 01234\n\n', [], 1],
    ['id pushes it over', 'data: 01234\nid: abcdef\n\n', [], 1],
    ['dropped event is skipped, next one kept', 'data: 0123456789AB\ndata: more\nid: 5\n\ndata: ok\n\n', [message('ok')], 1],
    ['dropped block id is not remembered', 'id: 1\ndata: a\n\nid: 2\ndata: 0123456789AB\n\ndata: b\n\n', [message('a', { id: '1', lastEventId: '1' }), message('b', { lastEventId: '1' })], 1],
    ['a line over the limit drops its block: comment', `data: a\n:${'c'.repeat(40)}\n\ndata: ok\n\n`, [message('ok')], 1],
    ['a line over the limit drops its block: unknown field', `${'z'.repeat(40)}: v\ndata: a\n\ndata: ok\n\n`, [message('ok')], 1],
    ['a line over the limit drops its block: no colon', `${'z'.repeat(40)}\n\ndata: ok\n\n`, [message('ok')], 1],
    ['a line over the limit drops its block: retry', `retry: ${'1'.repeat(40)}\ndata: a\n\ndata: ok\n\n`, [message('ok')], 1],
    ['a line at the limit (17 = 10 + "event: ") is not refused by length', `:${'c'.repeat(16)}\ndata: ok\n\n`, [message('ok')], 0],
    ['blank lines in a dropped block end it once', 'data: 0123456789AB\n\n\n\ndata: ok\n\n', [message('ok')], 1],
  ] as const)('%s', (_name, text, events, errors) => {
    for (const chunks of cuts(text)) {
      const log = runParser(chunks, { maxEventSize: 10 })
      expect(log.events, JSON.stringify(chunks)).toEqual(events)
      expect(log.errors.length, JSON.stringify(chunks)).toBe(errors)
    }
  })

  test('reports a non-retryable too-large StreamError', () => {
    const onError = vi.fn()
    const parser = createEventStreamParser({ onEvent: () => {}, onError, maxEventSize: 4 })
    parser.feed('data: 12345\n\n')
    expect(onError).toHaveBeenCalledTimes(1)
    const error: unknown = onError.mock.calls[0]?.[0]
    expect(error).toBeInstanceOf(StreamError)
    expect(isStreamError(error) && error.code).toBe('too-large')
    expect(isStreamError(error) && error.retryable).toBe(false)
  })

  test('defaults to 1 MiB', () => {
    const atLimit = 'x'.repeat(1048576)
    expect(runParser([`data: ${atLimit}\n\n`]).events).toEqual([message(atLimit)])
    expect(runParser([`data: ${atLimit}x\n\n`]).errors).toEqual(['too-large'])
  })

  test('a huge line is refused as it arrives, before its line end, and parsing resumes', () => {
    const events: string[] = []
    const errors: string[] = []
    const parser = createEventStreamParser({
      onEvent: (m) => events.push(m.data),
      onError: (e) => errors.push(e.code),
      maxEventSize: 1000,
    })
    parser.feed('data: ')
    for (let index = 0; index < 200; index++) {
      parser.feed('y'.repeat(500))
      if (index === 2) expect(errors).toEqual(['too-large'])
    }
    parser.feed('\ndata: still skipped\n\ndata: next\n\n')
    expect(errors).toEqual(['too-large'])
    expect(events).toEqual(['next'])
  })

  test('a huge comment line drops its block as it arrives, never delivered, and parsing resumes', () => {
    const comments: string[] = []
    const events: string[] = []
    const errors: string[] = []
    const parser = createEventStreamParser({
      onEvent: (m) => events.push(m.data),
      onComment: (c) => comments.push(c),
      onError: (e) => errors.push(e.code),
      maxEventSize: 100,
    })
    parser.feed('data: kept\n:')
    for (let index = 0; index < 100; index++) parser.feed('c'.repeat(64))
    parser.feed('\r')
    expect(errors).toEqual(['too-large'])
    parser.feed('\n\n:small\ndata: next\n\n')
    expect(comments).toEqual(['small'])
    expect(events).toEqual(['next'])
    expect(errors).toEqual(['too-large'])
  })
})

describe('end()', () => {
  test('discards a pending event', () => {
    expect(runParser(['data: a\n\ndata: b\n']).events).toEqual([message('a')])
    expect(runParser(['data: a\n\ndata: b\r']).events).toEqual([message('a')])
  })

  test('flushes an incomplete UTF-8 sequence without throwing', () => {
    const bytes = new TextEncoder().encode('data: a\n\ndata: é')
    expect(runParser([bytes.subarray(0, bytes.length - 1)]).events).toEqual([message('a')])
  })

  test('starts a new stream: BOM stripped again, last event ID kept, nothing carried over', () => {
    const events: EventStreamMessage[] = []
    const parser = createEventStreamParser({ onEvent: (m) => events.push(m) })
    parser.feed('id: 1\ndata: a\n\nevent: x\ndata: pending\n')
    parser.end()
    parser.feed('\uFEFFdata: b\n\n')
    expect(events).toEqual([message('a', { id: '1', lastEventId: '1' }), message('b', { lastEventId: '1' })])
  })

  test('a CR at the end of one stream does not eat the LF starting the next', () => {
    const events: EventStreamMessage[] = []
    const parser = createEventStreamParser({ onEvent: (m) => events.push(m) })
    parser.feed('data: a\r')
    parser.end()
    parser.feed('\ndata: b\n\n')
    expect(events).toEqual([message('b')])
  })
})

describe('reset()', () => {
  test('forgets the pending event, the last event ID, the decoder and the BOM', () => {
    const events: EventStreamMessage[] = []
    const parser = createEventStreamParser({ onEvent: (m) => events.push(m) })
    parser.feed('\uFEFFid: 1\ndata: a\n\ndata: pending\n')
    parser.feed(Uint8Array.of(0xe2, 0x82))
    parser.reset()
    parser.feed(new TextEncoder().encode('\uFEFFdata: b\n\n'))
    expect(events).toEqual([message('a', { id: '1', lastEventId: '1' }), message('b')])
  })

  test('leaves a pending too-large skip and a pending CR behind', () => {
    const events: string[] = []
    const parser = createEventStreamParser({ onEvent: (m) => events.push(m.data), maxEventSize: 3 })
    parser.feed('data: 12345\r')
    parser.reset()
    parser.feed('\ndata: ok\n\n')
    expect(events).toEqual(['ok'])
  })
})

describe('a throwing listener', () => {
  test('propagates to feed() and the next feed goes on with the rest of the chunk', () => {
    const seen: string[] = []
    const parser = createEventStreamParser({
      onEvent: (m) => {
        seen.push(m.data)
        if (m.data === 'boom') throw new Error('listener failed')
      },
    })
    expect(() => parser.feed('data: a\n\ndata: boom\n\nid: 7\ndata: b\n\ndata: c')).toThrow('listener failed')
    expect(seen).toEqual(['a', 'boom'])
    parser.feed('\n\n')
    expect(seen).toEqual(['a', 'boom', 'b', 'c'])
  })

  test('keeps state consistent at every split point', () => {
    const text = 'id: 1\ndata: a\r\n\r\ndata: boom\r\n\r\ndata: b\r\n\r\n:note\rretry: 9\rdata: c\r\r'
    const expected = ['a', 'boom', 'b:1', 'c:1']
    for (let at = 0; at <= text.length; at++) {
      const seen: string[] = []
      let thrown = 0
      const parser = createEventStreamParser({
        onEvent: (m) => {
          if (m.data === 'boom') {
            seen.push('boom')
            throw new Error('boom')
          }
          seen.push(m.id === undefined ? `${m.data}:${m.lastEventId}` : m.data)
        },
      })
      for (const chunk of [text.slice(0, at), text.slice(at), '']) {
        try {
          parser.feed(chunk)
        } catch {
          thrown++
        }
      }
      parser.end()
      expect(thrown, `split at ${at}`).toBe(1)
      expect(seen, `split at ${at}`).toEqual(expected)
    }
  })

  test('a throw from onComment, onRetry or onError also leaves the parser usable', () => {
    const events: string[] = []
    const fail = (): never => {
      throw new Error('callback failed')
    }
    const parser = createEventStreamParser({
      onEvent: (m) => events.push(m.data),
      onComment: fail,
      onRetry: fail,
      onError: fail,
      maxEventSize: 5,
    })
    expect(() => parser.feed(':c\ndata: a\n\n')).toThrow()
    expect(events).toEqual([])
    expect(() => parser.feed('retry: 5\ndata: b\n\n')).toThrow()
    expect(events).toEqual(['a'])
    expect(() => parser.feed('data: toolong\n\ndata: c\n\n')).toThrow()
    expect(events).toEqual(['a', 'b'])
    parser.feed('')
    expect(events).toEqual(['a', 'b', 'c'])
  })

  test('rest left by a throw is processed by end()', () => {
    const seen: string[] = []
    const parser = createEventStreamParser({
      onEvent: (m) => {
        seen.push(m.data)
        if (m.data === 'boom') throw new Error('boom')
      },
    })
    expect(() => parser.feed('data: boom\n\ndata: after\n\ndata: pending\n')).toThrow('boom')
    parser.end()
    expect(seen).toEqual(['boom', 'after'])
  })
})

describe('cost', () => {
  test('lines without a colon are parsed in linear time (the field search stays in its line)', () => {
    const events: string[] = []
    const parser = createEventStreamParser({ onEvent: (m) => events.push(m.data) })
    const started = performance.now()
    // 2,000,000 colon-less lines in one 4 MB chunk: a search running on to the next colon would
    // scan ~2 MB per line (about 4 * 10^12 steps); within the line it is a few steps each.
    parser.feed('x\n'.repeat(2_000_000) + 'data: ok\n\n')
    expect(events).toEqual(['ok'])
    expect(performance.now() - started).toBeLessThan(5000)
  })
})

describe('input kinds', () => {
  test('reads TextDecoder from globalThis when first needed', () => {
    const original = globalThis.TextDecoder
    const spy = vi.fn()
    globalThis.TextDecoder = class extends original {
      constructor(label?: string, options?: TextDecoderOptions) {
        super(label, options)
        spy(label, options)
      }
    }
    try {
      const events: string[] = []
      const parser = createEventStreamParser({ onEvent: (m) => events.push(m.data) })
      expect(spy).not.toHaveBeenCalled()
      parser.feed(new TextEncoder().encode('data: a\n\n'))
      expect(spy).toHaveBeenCalledTimes(1)
      expect(spy.mock.calls[0]?.[1]).not.toHaveProperty('fatal', true)
      expect(events).toEqual(['a'])
    } finally {
      globalThis.TextDecoder = original
    }
  })

  test('a string after an unfinished character ends it as U+FFFD first', () => {
    expect(runParser([Uint8Array.of(0x64, 0x61, 0x74, 0x61, 0x3a, 0xc3), '\n\n']).events).toEqual([message('\uFFFD')])
  })

  test('bytes and strings can be mixed', () => {
    const bytes = new TextEncoder().encode('data: é')
    expect(runParser([bytes, '\n', '\n']).events).toEqual([message('é')])
  })
})
