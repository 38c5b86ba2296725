import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEventStreamParser, type EventStreamMessage } from '../../src/parser/index'
import { createEventHub, isHubError, type EventHub } from '../../src/server/index'
import type { StreamError } from '../../src/errors'
import { collectEscapedErrors } from '../support/escaped-errors'

const SEED = 20261126

/** Parses `chunks` in order; returns the events, the errors and whether anything threw. */
function parseChunks(chunks: (Uint8Array | string)[], maxEventSize?: number): { events: EventStreamMessage[]; errors: StreamError[] } {
  const events: EventStreamMessage[] = []
  const errors: StreamError[] = []
  const parser = createEventStreamParser({
    onEvent: (message) => void events.push({ ...message }),
    onError: (error) => void errors.push(error),
    ...(maxEventSize === undefined ? {} : { maxEventSize }),
  })
  for (const chunk of chunks) parser.feed(chunk)
  parser.end()
  return { events, errors }
}

/** Splits `bytes` at the given (sorted, deduplicated) offsets, possibly inside a UTF-8 sequence. */
function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const offsets = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let previous = 0
  for (const offset of [...offsets, bytes.length]) {
    chunks.push(bytes.subarray(previous, offset))
    previous = offset
  }
  return chunks
}

interface Spec {
  event: string | undefined
  id: string | undefined
  lines: string[]
}

const lineText = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !/[\r\n]/.test(s))
const spec: fc.Arbitrary<Spec> = fc.record({
  event: fc.option(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,15}$/), { nil: undefined }),
  id: fc.option(fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/), { nil: undefined }),
  lines: fc.array(lineText, { minLength: 1, maxLength: 4 }),
})
const eol = fc.constantFrom('\n', '\r\n', '\r')

/** Serialises events the way a server may: any line ending, comments and retry lines in between. */
function serialise(specs: Spec[], endings: string[], comments: boolean[]): string {
  let out = ''
  specs.forEach((s, i) => {
    const nl = endings[i % endings.length]!
    if (comments[i % comments.length]) out += `: keep-alive ${i}${nl}retry: ${1000 + i}${nl}`
    if (s.event !== undefined) out += `event: ${s.event}${nl}`
    if (s.id !== undefined) out += `id: ${s.id}${nl}`
    for (const line of s.lines) out += `data: ${line}${nl}`
    out += nl
  })
  return out
}

describe('fuzz: the event-stream parser', () => {
  test('random bytes in random chunks: never throws, every event within maxEventSize', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.array(fc.nat(), { maxLength: 20 }), (bytes, cuts) => {
        const { events } = parseChunks(splitAt(bytes, cuts), 256)
        for (const event of events) expect(event.data.length + event.type.length).toBeLessThanOrEqual(256)
      }),
      { seed: SEED, numRuns: 2000 },
    )
  })

  test('random text built from field fragments: never throws, same events whatever the chunking', () => {
    const fragment = fc.constantFrom('data', 'data:', 'data: x', 'event:', 'event: e', 'id:', 'id: 7', 'retry: 5', ':', ' ', '\n', '\r', '\r\n', '\u0000', 'é', '😀', 'field')
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 200 }), fc.array(fc.nat(), { maxLength: 20 }), (parts, cuts) => {
        const bytes = new TextEncoder().encode(parts.join(''))
        const whole = parseChunks([bytes])
        const chunked = parseChunks(splitAt(bytes, cuts))
        expect(chunked.events).toEqual(whole.events)
      }),
      { seed: SEED, numRuns: 1000 },
    )
  })

  test('valid streams in random chunkings (split inside UTF-8 and CRLF): exactly the events written', () => {
    fc.assert(
      fc.property(
        fc.array(spec, { minLength: 1, maxLength: 30 }),
        fc.array(eol, { minLength: 1, maxLength: 5 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (specs, endings, comments, cuts) => {
          const bytes = new TextEncoder().encode(serialise(specs, endings, comments))
          const { events, errors } = parseChunks(splitAt(bytes, cuts))
          expect(errors).toEqual([])
          let lastEventId = ''
          const expected = specs.map((s) => {
            if (s.id !== undefined) lastEventId = s.id
            return { type: s.event ?? 'message', data: s.lines.join('\n'), id: s.id, lastEventId }
          })
          expect(events).toEqual(expected)
        },
      ),
      { seed: SEED, numRuns: 1000 },
    )
  })

  test('an endless line or an endless event stays bounded by maxEventSize (heap, time, recovery)', () => {
    const gc = (globalThis as { gc?: () => void }).gc
    const events: EventStreamMessage[] = []
    const errors: StreamError[] = []
    const parser = createEventStreamParser({ onEvent: (m) => void events.push(m), onError: (e) => void errors.push(e), maxEventSize: 1024 })
    gc?.()
    const before = process.memoryUsage().heapUsed
    const started = performance.now()
    // 32 MiB on one line with no line ending...
    const noLineEnd = 'x'.repeat(64 * 1024)
    parser.feed('data: ')
    for (let i = 0; i < 512; i++) parser.feed(noLineEnd)
    parser.feed('\n\n')
    // ...then 32 MiB of short data lines that never end the event.
    const manyLines = 'data: yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\n'.repeat(2048)
    for (let i = 0; i < 440; i++) parser.feed(manyLines)
    parser.feed('\n')
    parser.feed('id: 1\ndata: after\n\n')
    gc?.()
    const grown = process.memoryUsage().heapUsed - before
    const elapsed = performance.now() - started
    console.log(`parser under 64 MiB of oversized input: heap +${(grown / 1048576).toFixed(1)} MiB, ${Math.round(elapsed)} ms`)
    // Keeping the oversized input would cost 64+ MiB (128+ as UTF-16).
    expect(grown).toBeLessThan(16 * 1048576)
    expect(elapsed).toBeLessThan(20_000)
    expect(errors.length).toBeGreaterThanOrEqual(1)
    expect(errors.every((e) => e.code === 'too-large')).toBe(true)
    expect(events.map((e) => e.data)).toEqual(['after'])
  })
})

describe('fuzz: the companion hub against hostile input over real HTTP', () => {
  let server: Server
  let hub: EventHub
  let origin = ''
  const crashes = collectEscapedErrors()

  beforeAll(async () => {
    // Holds of close/poll end within 0.3 s, so a probe always sees the answer.
    hub = createEventHub({ wait: 0.3 })
    server = createServer((req, res) => void hub.handle(req, res))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    await hub.publish({ data: 'first' })
  })
  afterAll(async () => {
    await hub.close({ timeout: 200 })
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  /** GETs `query`; reads at most `maxMs` of body. Returns status, content type and the body read. */
  async function probe(query: string, headers: Record<string, string> = {}, maxMs = 1500): Promise<{ status: number; type: string; body: string }> {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), maxMs)
    const res = await fetch(`${origin}/events?${query}`, { headers, signal: controller.signal })
    let body = ''
    try {
      const decoder = new TextDecoder()
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) body += decoder.decode(chunk, { stream: true })
    } catch {
      // aborted: a stream (or a hold) outlived maxMs, which is fine
    } finally {
      clearTimeout(timer)
    }
    return { status: res.status, type: res.headers.get('content-type') ?? '', body }
  }

  /** The events of an SSE body, as a strict parser sees them. */
  function eventsOf(body: string): EventStreamMessage[] {
    return parseChunks([body]).events
  }

  test('random values for mode, wait, ping, lastEventId, start: a 200 or a clear 4xx, never a 5xx or a crash', async () => {
    const hostile = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom('-1', 'NaN', 'Infinity', '-Infinity', '1e308', '0x10', '9'.repeat(400), '', ' ', '1-', '-1-1', '0-0', '99999999999999999999-0'),
      fc.string({ unit: 'binary', maxLength: 20 }),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.record({ mode: fc.oneof(fc.constantFrom('close', 'poll'), hostile), wait: hostile, ping: hostile, lastEventId: hostile, start: hostile }),
        async (params) => {
          const query = new URLSearchParams({ ...params, wait: params.wait === '' ? '0' : params.wait }).toString()
          const { status, type, body } = await probe(`${query}`, {}, 1000)
          expect(status).toBeLessThan(500)
          if (status === 200) expect(type).toMatch(/text\/event-stream|application\/json/)
          else {
            expect(status).toBe(400)
            expect(body.length).toBeGreaterThan(0)
          }
          // Whatever came back as SSE holds no event named after the hostile input.
          for (const event of eventsOf(body)) expect(event.type).toMatch(/^(message|_[a-z]+)$/)
        },
      ),
      { seed: SEED, numRuns: 60 },
    )
    expect(crashes).toEqual([])
  }, 60_000)

  test('an unknown mode is a 400 with a readable message', async () => {
    const { status, body } = await probe('mode=websocket')
    expect(status).toBe(400)
    expect(body).toMatch(/mode/i)
  })

  test('negative, huge and NaN wait/ping are clamped: close with wait=-1/NaN answers without hanging', async () => {
    for (const wait of ['-1', '-1e308', 'NaN']) {
      const started = performance.now()
      const { status, body } = await probe(`mode=close&wait=${wait}`, {}, 3000)
      expect(status).toBe(200)
      expect(performance.now() - started).toBeLessThan(2500)
      expect(typeof body).toBe('string')
    }
    for (const ping of ['-5', '0', '1e308', 'NaN']) {
      const { status } = await probe(`ping=${ping}`, {}, 300)
      expect(status).toBe(200)
    }
  })

  test('a cursor carrying line breaks or a huge cursor is answered with a gap, never echoed into the stream', async () => {
    const injected = '1-1\nevent: evil\ndata: injected\n\n'
    for (const query of [`mode=close&wait=0&lastEventId=${encodeURIComponent(injected)}`, `mode=close&wait=0&lastEventId=${'7'.repeat(8000)}-1`]) {
      const { status, body } = await probe(query)
      expect(status).toBe(200)
      const events = eventsOf(body)
      expect(events.map((e) => e.type)).toEqual(['_canary', '_gap', '_end'])
      // The cursor is echoed only inside the gap's JSON, escaped: no line of it reaches the framing.
      const gap = JSON.parse(events[1]!.data) as { requested: string; reason: string }
      expect(gap.reason).toBe('unknown')
      expect(body.split('\n').some((line) => /^(event|data): (evil|injected)/.test(line))).toBe(false)
      expect(body.length).toBeLessThan(64 * 1024)
    }
  })

  test('a huge query string is refused by a 4xx (431 from Node) and the hub keeps serving', async () => {
    const { status } = await probe(`mode=close&wait=0&x=${'a'.repeat(100_000)}`)
    expect(status).toBeGreaterThanOrEqual(400)
    expect(status).toBeLessThan(500)
    const after = await probe('mode=close&wait=0&lastEventId=')
    expect(after.status).toBe(200)
  })

  test('publish with CR/LF/NUL in event or id rejects with a typed HubError; data with line breaks is framed safely', async () => {
    const published = hub.stats().published
    for (const input of [
      { event: 'a\nb', data: 'x' },
      { event: 'ok\r', data: 'x' },
      { event: 'ok\u0000', data: 'x' },
      { id: '1-1\nevent: evil', data: 'x' },
      { id: '1-1\r', data: 'x' },
    ]) {
      const error = await hub.publish(input).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isHubError(error)).toBe(true)
      expect((error as { code: string }).code).toMatch(/^invalid-(event|id)$/)
    }
    expect(hub.stats().published).toBe(published)
    // Line breaks in data are data, whatever the line ending: one event, no injected field.
    await hub.publish({ data: 'a\r\nid: 999-0\revent: evil\ndata: injected' })
    const cursor = (await fetchCursor()) ?? ''
    expect(cursor).not.toBe('999-0')
    const events = eventsOf((await probe(`mode=close&wait=0&lastEventId=${encodeURIComponent(previousCursor)}`)).body).filter((e) => e.type === 'message')
    expect(events).toHaveLength(1)
    expect(events[0]!.data).toBe('a\nid: 999-0\nevent: evil\ndata: injected')
    expect(events[0]!.id).toBe(cursor)
    expect(crashes).toEqual([])
  })

  let previousCursor = ''
  /** The id of the newest event, read through the protocol; remembers the one before it. */
  async function fetchCursor(): Promise<string | undefined> {
    const ids = eventsOf((await probe('mode=close&wait=0&lastEventId=0-0')).body)
      .filter((e) => e.type === 'message')
      .map((e) => e.id)
    previousCursor = ids.at(-2) ?? '0-0'
    return ids.at(-1)
  }
})
