import { afterAll, describe, expect, test } from 'vitest'
import { createEventHub, type EventHubOptions } from '../../../src/server'
import { collectEscapedErrors } from '../../support/escaped-errors'
import { appEvents, fetchText, openStream, parseEvents, startHub, type OpenStream, type TestServer, withQuery } from './helpers'

// Options a JavaScript caller (a NaN from parseInt, a string from process.env) can hand the hub.
// TypeScript would refuse most of them: the casts are the point.
const hostile = (options: Record<string, unknown>): EventHubOptions => options as EventHubOptions

collectEscapedErrors()

const served: [string, Record<string, unknown>][] = [
  ['ping NaN', { ping: NaN }],
  ['ping -5', { ping: -5 }],
  ["ping '10'", { ping: '10' }],
  ['ping 1e9', { ping: 1e9 }],
  ['minPing NaN', { minPing: NaN }],
  ['minPing -1', { minPing: -1 }],
  ['minPing 0', { minPing: 0 }],
  ['minPing 1e9', { minPing: 1e9 }],
  ["minPing '1'", { minPing: '1' }],
  ['wait NaN', { wait: NaN }],
  ['wait -5', { wait: -5 }],
  ["wait '3'", { wait: '3' }],
  ['wait 1e12', { wait: 1e12 }],
  ['rotateAfter NaN', { rotateAfter: NaN }],
  ['rotateAfter -1', { rotateAfter: -1 }],
  ['rotateAfter 1', { rotateAfter: 1 }],
  ["rotateAfter '1000'", { rotateAfter: '1000' }],
  ['rotateAfter 1e12', { rotateAfter: 1e12 }],
  ['rotateAfter Infinity', { rotateAfter: Infinity }],
  ['maxBuffered NaN', { maxBuffered: NaN }],
  ['maxBuffered -1', { maxBuffered: -1 }],
  ["maxBuffered '10'", { maxBuffered: '10' }],
  ['stallTimeout NaN', { stallTimeout: NaN }],
  ['stallTimeout -1', { stallTimeout: -1 }],
  ['stallTimeout 0', { stallTimeout: 0 }],
  ['flushInterval NaN', { flushInterval: NaN }],
  ['flushInterval -5', { flushInterval: -5 }],
  ["flushInterval '20'", { flushInterval: '20' }],
  // Clamped to the longest timer: pending events leave with the next heartbeat (here 0.5 s).
  ['flushInterval 1e12', { flushInterval: 1e12, minPing: 0.05, ping: 0.5 }],
  ['maxConnections NaN', { maxConnections: NaN }],
  ["maxConnections '100'", { maxConnections: '100' }],
  ['overloadRetry NaN', { overloadRetry: NaN }],
  ['batch NaN', { batch: { maxEvents: NaN, maxBytes: NaN, burst: NaN } }],
  ['batch negative', { batch: { maxEvents: -1, maxBytes: -1, burst: -1 } }],
  ['batch 0 / 1e12', { batch: { maxEvents: 0, maxBytes: 0, burst: 1e12 } }],
  ["batch strings", { batch: { maxEvents: '5', maxBytes: '5', burst: '5' } }],
  ['batch a number', { batch: 5 }],
  ['startTokens NaN', { startTokens: { ttl: NaN, maxEntries: NaN } }],
  ['startTokens negative', { startTokens: { ttl: -1, maxEntries: -1 } }],
  ["startTokens strings", { startTokens: { ttl: '1', maxEntries: '1' } }],
  ['maxEventSize NaN', { maxEventSize: NaN }],
  ["maxEventSize '10'", { maxEventSize: '10' }],
  ['cors null', { cors: null }],
  ['cors maxAge NaN', { cors: { origins: '*', maxAge: NaN } }],
  ['everything NaN', { ping: NaN, minPing: NaN, wait: NaN, rotateAfter: NaN, maxBuffered: NaN, stallTimeout: NaN, flushInterval: NaN, maxConnections: NaN, overloadRetry: NaN, maxEventSize: NaN }],
]

interface Case {
  name: string
  server: TestServer
  stream: OpenStream
  openedAt: number
  /** When the stream ended (rotation), if it did. */
  endedAt?: number
  cursor: string
}

/** Starts a hub with `options`, opens a stream and reads the cursor its canary names. */
async function start(name: string, options: Record<string, unknown>): Promise<Case> {
  const server = await startHub(hostile(options))
  const openedAt = Date.now()
  const stream = await openStream(server.url)
  const [canary] = await stream.waitFor((events) => events.length >= 1, 3000)
  expect({ name, first: canary!.event }).toEqual({ name, first: '_canary' })
  const started: Case = { name, server, stream, openedAt, cursor: (JSON.parse(canary!.data) as { cursor: string }).cursor }
  void stream.ended.then(() => (started.endedAt = Date.now()))
  return started
}

describe('hostile createEventHub options: clamped or defaulted, the hub serves normally', () => {
  let cases: Case[] = []
  afterAll(async () => {
    await Promise.all(cases.map(({ server }) => server.close()))
  })

  test('streams, close and poll deliver every event; no stream ends or rotates within 90 ms', async () => {
    cases = await Promise.all(served.map(([name, options]) => start(name, options)))
    await Promise.all(
      cases.map(async (each) => {
        const { name, server, stream, openedAt, cursor } = each
        for (const data of ['a', 'b', 'c']) await server.hub.publish({ data })
        const poll = await fetchText(withQuery(server.url, { mode: 'poll', wait: 0, lastEventId: cursor }))
        const polled = (JSON.parse(poll.body) as { events: { data: string }[] }).events.map((event) => event.data)
        const closed = await fetchText(withQuery(server.url, { mode: 'close', wait: 0, lastEventId: cursor }))
        const batch = appEvents(parseEvents(closed.body).events).map((event) => event.data)
        // A batch limit of 1 event (clamped from 0 or less) answers with the first only.
        const expected = /batch (negative|0)/.test(name) ? ['a'] : ['a', 'b', 'c']
        expect({ name, status: poll.status, polled, closed: closed.status, batch }).toEqual({
          name, status: 200, polled: expected, closed: 200, batch: expected,
        })
        // The stream gets the events, unless rotation (≥ 100 ms) ended it first.
        await stream.waitFor((events) => appEvents(events).length === 3, 3000).catch(() => undefined)
        const got = appEvents(stream.events).map((event) => event.data)
        const end = stream.events.find((event) => event.event === '_end')
        if (end === undefined) expect({ name, got }).toEqual({ name, got: ['a', 'b', 'c'] })
        else {
          await stream.ended
          const lasted = each.endedAt! - openedAt
          expect({ name, end: end.data, early: lasted < 90 }).toEqual({ name, end: '{"reason":"rotate"}', early: false })
        }
      }),
    )
  })

  test('quiet hubs arm few timers: no heartbeat, hold or rotation timer re-fires every tick', async () => {
    // Every hub holds a stream (ping 20 s), a poll and a close request, all quiet.
    const held = cases.flatMap(({ server, cursor }) =>
      ['poll', 'close'].map((mode) => fetchText(withQuery(server.url, { mode, wait: 2, lastEventId: `${cursor}` })).catch(() => undefined)),
    )
    const streams = await Promise.all(cases.map(({ server }) => openStream(withQuery(server.url, { ping: 20 }))))
    await new Promise((resolve) => setTimeout(resolve, 100))
    const original = globalThis.setTimeout
    let armed = 0
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
      armed += 1
      return original(...args)
    }) as typeof setTimeout
    try {
      await new Promise((resolve) => original(resolve, 1000))
    } finally {
      globalThis.setTimeout = original
    }
    for (const stream of streams) stream.abort()
    await Promise.all(held)
    // A timer re-armed every tick (an overflowing delay fires after 1 ms) would count ~1000 per hub.
    expect(armed).toBeLessThan(100)
  })

  test('a client asking for the lowest ping gets at most one heartbeat per 50 ms', async () => {
    const lowest = cases.filter(({ name }) => name.startsWith('minPing'))
    const streams = await Promise.all(lowest.map(({ server }) => openStream(withQuery(server.url, { ping: 0 }))))
    await new Promise((resolve) => setTimeout(resolve, 1000))
    lowest.forEach(({ name }, i) => {
      const pings = streams[i]!.events.filter((event) => event.event === '_ping').length
      streams[i]!.abort()
      expect({ name, pings, over: pings > 25 }).toEqual({ name, pings, over: false })
    })
  })
})

describe('limits that refuse everything still answer with a clear, typed signal', () => {
  test.each([
    ['overloadRetry -1', { maxConnections: 0, overloadRetry: -1 }],
    ['overloadRetry NaN', { maxConnections: -1, overloadRetry: NaN }],
    ['overloadRetry 0', { maxConnections: 0, overloadRetry: 0 }],
  ])('maxConnections ≤ 0, %s: _backoff of ≥ 1 s, poll 503 with Retry-After ≥ 1', async (_name, options) => {
    const server = await startHub(hostile(options))
    try {
      const stream = await fetchText(server.url)
      const backoff = parseEvents(stream.body).events.find((event) => event.event === '_backoff')!
      expect((JSON.parse(backoff.data) as { retryMs: number }).retryMs).toBeGreaterThanOrEqual(1000)
      const poll = await fetchText(withQuery(server.url, { mode: 'poll' }))
      expect(poll.status).toBe(503)
      expect(Number(poll.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    } finally {
      await server.close()
    }
  })

  test.each([[-1], [0]])('maxEventSize %s: publish rejects with too-large naming maxEventSize', async (maxEventSize) => {
    const hub = createEventHub({ maxEventSize })
    await expect(hub.publish({ data: 'x' })).rejects.toMatchObject({ name: 'HubError', code: 'too-large', message: expect.stringContaining('maxEventSize') })
    await hub.close()
  })
})

describe('cors that cannot mean anything: createEventHub throws a TypeError naming the option', () => {
  test.each([
    ['origins a string', { origins: 'https://app.example' }, 'cors.origins'],
    ['origins null', { origins: null }, 'cors.origins'],
    ['origins missing', {}, 'cors.origins'],
    ['origins with a number', { origins: ['https://app.example', 5] }, 'cors.origins'],
    ['allowHeaders a string', { origins: '*', allowHeaders: 'X-Token' }, 'cors.allowHeaders'],
    ['cors a string', 'https://app.example', 'cors'],
  ])('%s', (_name, cors, option) => {
    expect(() => createEventHub(hostile({ cors }))).toThrow(
      expect.objectContaining({ name: 'TypeError', message: expect.stringContaining(option) }),
    )
  })

  test('a string origins would have matched a substring origin: refused at creation instead', async () => {
    // Before the check, 'https://app.example.com'.includes('https://app.example') allowed a lookalike.
    expect(() => createEventHub(hostile({ cors: { origins: 'https://app.example.com' } }))).toThrow(TypeError)
    const server = await startHub(hostile({ cors: { origins: '*', maxAge: NaN } }))
    try {
      const preflight = await fetchText(server.url, { method: 'OPTIONS', headers: { Origin: 'https://a.example' } })
      expect(preflight.headers['access-control-max-age']).toBe('600')
    } finally {
      await server.close()
    }
  })
})
