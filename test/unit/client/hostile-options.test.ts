import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ResilientEventSource } from '../../../src/client'
import type { StorageLike } from '../../../src/env'
import type { ResilientEventSourceOptions } from '../../../src/options'
import { createEventHub, type EventHub } from '../../../src/server'
import { collectEscapedErrors } from '../../support/escaped-errors'
import { listenOnLoopback } from '../../support/loopback-http.mjs'
import { record, until, type Recording } from './helpers'

// Options a JavaScript caller (or a bad parseInt) can hand the client. TypeScript would refuse
// most of them: the casts are the point.
type Hostile = Record<string, unknown>
const hostile = (options: Hostile): ResilientEventSourceOptions => options as ResilientEventSourceOptions

// Anything escaping the client (a throw in a timer, a rejected promise nobody awaits) fails the file.
collectEscapedErrors()

/** A node:http server on 127.0.0.1 that counts requests per path. */
interface CountingServer {
  origin: string
  /** Requests to `path`; with `attempts`, leaves out the control probes (`mode=poll&wait=0`). */
  count(path: string, attempts?: boolean): number
  close(): Promise<void>
}

async function listen(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<CountingServer> {
  const counts = new Map<string, number>()
  const { url, close } = await listenOnLoopback(
    createServer((req, res) => {
      const { pathname, searchParams } = new URL(req.url ?? '/', 'http://x')
      const keys = [pathname]
      if (searchParams.get('mode') !== 'poll' || searchParams.get('wait') !== '0') keys.push('attempt ' + pathname)
      for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1)
      handle(req, res)
    }),
  )
  return { origin: url, count: (path, attempts) => counts.get((attempts ? 'attempt ' : '') + path) ?? 0, close }
}

let hub: EventHub
let live: CountingServer
let failing: CountingServer
let publisher: ReturnType<typeof setInterval>
let published = 0

beforeAll(async () => {
  hub = createEventHub({ minPing: 1, ping: 5, wait: 5 })
  live = await listen((req, res) => void hub.handle(req, res))
  // `/500/…` answers 500 (retryable), `/reset/…` destroys the socket before any answer.
  failing = await listen((req, res) => {
    if (req.url!.startsWith('/500')) {
      res.writeHead(500, { 'Content-Type': 'text/plain' })
      res.end('down')
    } else res.socket?.destroy()
  })
  publisher = setInterval(() => void hub.publish({ data: String(++published) }), 200)
})

afterAll(async () => {
  clearInterval(publisher)
  await hub.close({ timeout: 500 })
  await live.close()
  await failing.close()
})

const retries: [string, unknown][] = [
  ['initialDelay NaN', { initialDelay: NaN }],
  ['initialDelay -1', { initialDelay: -1 }],
  ['initialDelay 0', { initialDelay: 0 }],
  ['initialDelay Infinity', { initialDelay: Infinity }],
  ["initialDelay '5'", { initialDelay: '5' }],
  ['maxDelay NaN', { maxDelay: NaN }],
  ['maxDelay -1', { maxDelay: -1 }],
  ['maxDelay 0', { maxDelay: 0 }],
  ['maxDelay Infinity, factor Infinity', { maxDelay: Infinity, factor: Infinity }],
  ['maxDelay 1e12', { maxDelay: 1e12, initialDelay: 1e11 }],
  ['factor NaN', { factor: NaN }],
  ['factor -1', { factor: -1 }],
  ['factor 0', { factor: 0 }],
  ["factor '5'", { factor: '5' }],
  ['maxAttempts NaN', { maxAttempts: NaN }],
  ["maxAttempts '5'", { maxAttempts: '5' }],
  ['everything NaN', { initialDelay: NaN, maxDelay: NaN, factor: NaN, maxAttempts: NaN }],
  ['null', null],
  ['a number', 5],
  ['function → NaN', () => NaN],
  ['function → -1', () => -1],
  ['function → 0', () => 0],
  ['function → Infinity', () => Infinity],
  ['function → 1e12', () => 1e12],
  ['function → undefined', () => undefined],
  ["function → '0'", () => '0'],
]

describe('hostile retry values against a server that always fails: no hot loop, nothing escapes', () => {
  // At the 100 ms floor a stream makes at most ~20 attempts in 2 s, plus a control probe every
  // second failed streaming attempt; a hot loop makes hundreds.
  test('every value keeps a floor between attempts (≤ 30 attempts, ≤ 45 requests in 2 s; 500 and reset)', async () => {
    const streams: [string, string, Recording][] = []
    retries.forEach(([name, retry], i) => {
      for (const kind of ['500', 'reset']) {
        // Real randomness: the floor must hold whatever the draw.
        const path = `/${kind}/${i}`
        streams.push([`${name} (${kind})`, path, record(failing.origin + path, hostile({ retry, env: {} }))])
      }
    })
    const started = Date.now()
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const elapsed = Date.now() - started
    const counts = streams.map(([name, path, r]) => {
      r.es.close()
      return [name, failing.count(path, true), failing.count(path)] as const
    })
    // One row per value, so a failure names it.
    for (const [name, attempts, requests] of counts) {
      expect({ name, attempts, requests, over: attempts > 30 || requests > 45 }).toEqual({ name, attempts, requests, over: false })
    }
    for (const [name, path] of streams) expect({ name, sent: failing.count(path) > 0 }).toEqual({ name, sent: true })
    expect(elapsed).toBeLessThan(4000)
  })

  test('a retry function that throws ends the stream with a typed error carrying the exception', async () => {
    const boom = new Error('policy bug')
    const r = record(`${failing.origin}/500/throws`, hostile({ retry: () => { throw boom } }))
    await until(() => r.es.readyState === 2, 'closed', 3000)
    const last = r.errors.at(-1)!.error
    expect(last.name).toBe('StreamError')
    expect(last.retryable).toBe(false)
    expect(last.cause).toBe(boom)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(failing.count('/500/throws')).toBe(1)
  })
})

/** Storage whose every call throws. */
const throwing: StorageLike = {
  getItem: () => { throw new Error('denied') },
  setItem: () => { throw new Error('quota') },
  removeItem: () => { throw new Error('denied') },
}
/** Storage that hands back junk. */
const junk = (value: unknown): StorageLike => ({ getItem: () => value as string, setItem: () => {}, removeItem: () => {} })

const served: [string, Hostile][] = [
  ['dedupe 0', { dedupe: 0 }],
  ['dedupe -1', { dedupe: -1 }],
  ['dedupe NaN', { dedupe: NaN }],
  ['dedupe 1.5', { dedupe: 1.5 }],
  ["dedupe 'x'", { dedupe: 'x' }],
  ['maxEventSize 0', { maxEventSize: 0 }],
  ['maxEventSize -1', { maxEventSize: -1 }],
  ['maxEventSize NaN', { maxEventSize: NaN }],
  ["maxEventSize '4096'", { maxEventSize: '4096' }],
  ['canaryTimeout 0', { canaryTimeout: 0 }],
  ['canaryTimeout -1', { canaryTimeout: -1 }],
  ['canaryTimeout NaN', { canaryTimeout: NaN }],
  ['canaryTimeout Infinity', { canaryTimeout: Infinity }],
  ['ping NaN', { ping: NaN }],
  ['ping -5', { ping: -5 }],
  ['ping 1e9', { ping: 1e9 }],
  ['wait NaN (sse-close)', { wait: NaN, transports: ['sse-close'] }],
  ['wait -5 (sse-close)', { wait: -5, transports: ['sse-close'] }],
  ['wait 1e9 (sse-close)', { wait: 1e9, transports: ['sse-close'] }],
  ['wait NaN (long-poll)', { wait: NaN, transports: ['long-poll'] }],
  ['wait -5 (long-poll)', { wait: -5, transports: ['long-poll'] }],
  ['wait 1e9 (long-poll)', { wait: 1e9, transports: ['long-poll'] }],
  ["wait '3' (long-poll)", { wait: '3', transports: ['long-poll'] }],
  ['transports duplicated', { transports: ['fetch', 'fetch', 'long-poll', 'long-poll'] }],
  ['retry null', { retry: null }],
  ['remember: storage that throws', { remember: { storage: throwing } }],
  ['remember: junk JSON', { remember: { storage: junk('{"transport":') } }],
  ['remember: JSON null', { remember: { storage: junk('null') } }],
  ['remember: a number', { remember: { storage: junk(42) } }],
  ['remember: unknown transport', { remember: { storage: junk('{"transport":"nope","until":9e15}') } }],
  ['remember: ttl NaN', { remember: { ttl: NaN, storage: null } }],
  ['lastEventId a number', { lastEventId: 0 }],
  ["method 'get'", { method: 'get' }],
  ['everything at once', { dedupe: NaN, maxEventSize: NaN, canaryTimeout: NaN, ping: NaN, wait: NaN, retry: { initialDelay: NaN } }],
]

describe('hostile values against a real companion: events still arrive, requests stay few', () => {
  test('each value is clamped or ignored: 3 fresh events arrive, ≤ 25 requests', async () => {
    const streams = served.map(([name, options], i) => {
      const path = `/ok/${i}`
      return { name, path, r: record(live.origin + path, hostile({ env: {}, ...options })) }
    })
    const from = published
    const fresh = (r: Recording): number => r.messages.filter((m) => +m.data > from + 1).length
    const late = (): string[] => streams.filter(({ r }) => fresh(r) < 3).map(({ name }) => name)
    await until(() => late().length === 0, 'every stream to get 3 events', 12_000).catch(() => {
      throw new Error('no events on: ' + late().join(', '))
    })
    for (const { name, path, r } of streams) {
      r.es.close()
      const count = live.count(path)
      const ids = r.messages.map((m) => m.data)
      expect({ name, count, over: count > 25 }).toEqual({ name, count, over: false })
      // Never the same event twice, and no fatal error.
      expect({ name, repeats: ids.length - new Set(ids).size }).toEqual({ name, repeats: 0 })
      expect({ name, fatal: r.errors.filter((e) => !e.error.retryable).map((e) => e.error.message) }).toEqual({ name, fatal: [] })
    }
  })

  test('the cursor given as a number is sent as a string', async () => {
    const r = record(`${live.origin}/ok/cursor`, hostile({ lastEventId: 5, env: {} }))
    expect(r.es.lastEventId).toBe('5')
    r.es.close()
  })
})

describe('headers that cannot be used: a retryable `headers` error, backoff, no request', () => {
  test.each([
    ['a function that throws', () => { throw new Error('no token') }],
    ['a function resolving to a number', async () => 42],
    ['a function resolving to null', async () => null],
    ['a number', 42],
  ])('%s', async (_name, headers) => {
    const path = `/headers/${String(_name).replace(/\W/g, '-')}`
    const r = record(live.origin + path, hostile({ headers, env: {} }))
    await until(() => r.errors.length >= 2, 'two headers errors', 5000)
    r.es.close()
    expect(r.errors.every((e) => e.error.code === 'headers' && e.error.retryable)).toBe(true)
    expect(r.errors.length).toBeLessThan(30)
    expect(live.count(path)).toBe(0)
  })
})

describe('values that cannot mean anything: the constructor throws a TypeError naming the option', () => {
  test.each([
    ['transports []', { transports: [] }],
    ["transports ['nope']", { transports: ['nope'] }],
    ["transports 'fetch' (not an array)", { transports: 'fetch' }],
    ['transports [null]', { transports: [null] }],
    ['transports [{}]', { transports: [{}] }],
  ])('%s', (_name, options) => {
    expect(() => new ResilientEventSource(`${live.origin}/never`, hostile(options))).toThrow(
      expect.objectContaining({ name: 'TypeError', message: expect.stringContaining('transports') }),
    )
    expect(live.count('/never')).toBe(0)
  })

  test.each([
    ['a line feed', '5-0\n6-0'],
    ['a carriage return', '5-0\r'],
    ['a NUL', '5\u00000'],
  ])('a lastEventId with %s (no header can carry it)', (_name, lastEventId) => {
    expect(() => new ResilientEventSource(`${live.origin}/never`, hostile({ lastEventId }))).toThrow(
      expect.objectContaining({ name: 'TypeError', message: expect.stringContaining('lastEventId') }),
    )
    expect(live.count('/never')).toBe(0)
  })

  test('an unparseable URL throws SyntaxError', () => {
    expect(() => new ResilientEventSource('http://[nope')).toThrow(SyntaxError)
  })
})
