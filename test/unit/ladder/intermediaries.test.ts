import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { sequence, startLadderRig, type LadderRig } from '../../support/ladder-rig'
import { record, until } from '../client/helpers'

let rig: LadderRig | undefined
afterEach(async () => {
  await rig?.close()
  rig = undefined
})

// Node has no native EventSource, so the default ladder starts on `fetch` here; the Chromium
// suite covers the `eventsource` rung.
describe('the ladder behind simulated intermediaries (real hub, real proxy)', () => {
  test('direct: stays on fetch, every event once, in order', async () => {
    rig = await startLadderRig('direct')
    const r = record(rig.url)
    await until(() => r.opens === 1, 'open')
    await rig.publish(50, 2)
    await until(() => r.messages.length === 50, '50 events')
    expect(r.messages.map((m) => m.data)).toEqual(sequence(50))
    expect(r.changes.map((c) => `${c.previous}>${c.transport}:${c.reason}`)).toEqual(['null>fetch:unsupported'])
    r.es.close()
  })

  test.each([
    ['hold-until-close', {}],
    ['hold-until-close', { headers: 'held' as const }],
    ['hold-until-bytes', { bytes: 4096 }],
  ] as const)('%s %j: buffered → sse-close, nothing lost, nothing twice', async (mode, options) => {
    rig = await startLadderRig(mode, options)
    const r = record(rig.url, { canaryTimeout: 1000 })
    // Events published while the client is still stuck on the buffered rung must not be lost.
    await rig.firstRequest()
    await rig.publish(5, 50)
    await until(() => r.es.transport === 'sse-close', 'step down to sse-close', 8000)
    await rig.publish(20, 20)
    await until(() => r.messages.length >= 25, '25 events', 10_000)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(r.messages.map((m) => m.data)).toEqual(sequence(25))
    expect(r.changes.at(-1)).toMatchObject({ previous: 'fetch', transport: 'sse-close', reason: 'buffered' })
    r.es.close()
  })

  test('hold-each-event, busy stream: the canary passes, so it stays on fetch; every event once', async () => {
    rig = await startLadderRig('hold-each-event')
    const r = record(rig.url, { canaryTimeout: 1000 })
    await rig.firstRequest()
    await rig.publish(30, 20)
    // The proxy keeps the last event until another frame comes: publish one more to flush it.
    await until(() => r.messages.length >= 29, '29 events', 5000)
    expect(r.messages.map((m) => m.data)).toEqual(sequence(29))
    expect(r.es.transport).toBe('fetch')
    r.es.close()
  })

  test('hold-each-event, quiet stream: a frame that lags its server time is held → sse-close', async () => {
    // Heartbeats every 2 s: the lag threshold is 2 s, so an event held until the next ping trips it.
    rig = await startLadderRig('hold-each-event', {}, { minPing: 1, ping: 2 })
    const r = record(rig.url, { canaryTimeout: 5000, ping: 2 })
    await rig.firstRequest()
    await rig.publish(3, 10)
    await until(() => r.es.transport === 'sse-close', 'step down to sse-close', 10_000)
    await rig.publish(3, 10)
    await until(() => r.messages.length >= 6, '6 events', 8000)
    expect(r.messages.map((m) => m.data)).toEqual(sequence(6))
    expect(r.changes.at(-1)).toMatchObject({ previous: 'fetch', transport: 'sse-close', reason: 'buffered' })
    r.es.close()
  })

  test('cut-after 200–800 ms (seeded): reconnects on fetch, every event once, in order', async () => {
    rig = await startLadderRig('cut-after', { minMs: 200, maxMs: 800, seed: 3 })
    const r = record(rig.url)
    await until(() => r.opens === 1, 'open')
    await rig.publish(100, 15)
    await until(() => r.messages.length >= 100, '100 events', 15_000)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(r.messages.map((m) => m.data)).toEqual(sequence(100))
    expect(r.es.stats().reconnects).toBeGreaterThan(0)
    expect(r.es.transport).toBe('fetch')
    r.es.close()
  })

  test('reset-event-stream: both event-stream rungs fail, the probe passes → long-poll', async () => {
    rig = await startLadderRig('reset-event-stream')
    const r = record(rig.url, { canaryTimeout: 1000 })
    await until(() => r.es.transport === 'long-poll', 'long-poll', 10_000)
    await rig.publish(20, 10)
    await until(() => r.messages.length >= 20, '20 events', 8000)
    expect(r.messages.map((m) => m.data)).toEqual(sequence(20))
    expect(r.changes.map((c) => `${c.transport}:${c.reason}`)).toEqual([
      'fetch:unsupported',
      'sse-close:buffered',
      'long-poll:buffered',
    ])
    r.es.close()
  })

  test('status-burst 503 + Retry-After: waits, then delivers everything', async () => {
    rig = await startLadderRig('status-burst', { retryAfter: 1, seed: 1 })
    const r = record(rig.url)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const burstErrors = r.errors.length
    rig.proxy.setMode('direct')
    // The rejected requests never reached the hub: the stream starts when one does.
    await rig.firstRequest()
    await rig.publish(10, 10)
    await until(() => r.messages.length >= 10, '10 events', 8000)
    expect(r.messages.map((m) => m.data)).toEqual(sequence(10))
    expect(burstErrors).toBeGreaterThan(0)
    expect(r.errors[0]?.error).toMatchObject({ code: 'http-status', status: 503 })
    r.es.close()
  })

  test('a remembered verdict starts the next stream on the rung that worked', async () => {
    rig = await startLadderRig('hold-until-close')
    const store = new Map<string, string>()
    const storage = {
      getItem: (key: string) => store.get(key) ?? null,
      setItem: (key: string, value: string) => void store.set(key, value),
      removeItem: (key: string) => void store.delete(key),
    }
    const first = record(rig.url, { canaryTimeout: 800, remember: { storage } })
    await until(() => first.es.transport === 'sse-close', 'step down', 8000)
    await rig.publish(1, 0)
    await until(() => first.messages.length === 1, 'event on sse-close', 8000)
    first.es.close()
    expect([...store.values()][0]).toContain('"transport":"sse-close"')
    const second = record(rig.url, { canaryTimeout: 800, remember: { storage } })
    await until(() => second.es.transport !== null, 'transport chosen')
    expect(second.changes.map((c) => `${c.previous}>${c.transport}:${c.reason}`)).toEqual(['null>sse-close:remembered'])
    second.es.close()
  })
})

describe('cursor without events', () => {
  test('a client that got no event yet resumes from the canary’s cursor, even after its start token expired', async () => {
    rig = await startLadderRig('direct', {}, { startTokens: { ttl: 1 } })
    const r = record(rig.url, { retry: { initialDelay: 300 }, env: { random: () => 1 } })
    await until(() => r.opens === 1, 'open')
    rig.proxy.disconnectAll()
    await until(() => r.errors.length === 1, 'drop noticed')
    // Published while the client waits to reconnect: its token is long gone, its cursor is not.
    await rig.publish(3, 0)
    await until(() => r.messages.length === 3, 'three events after the reconnect')
    expect(r.messages.map((m) => m.data)).toEqual(sequence(3))
    r.es.close()
  })
})

describe('online while stepped down', () => {
  // Node has no window: give globalThis the online event and navigator.onLine a page has.
  const target = new EventTarget()
  const globals = globalThis as unknown as Record<string, unknown>
  beforeEach(() => {
    globals.addEventListener = target.addEventListener.bind(target)
    globals.removeEventListener = target.removeEventListener.bind(target)
    Object.defineProperty(globalThis, 'navigator', { value: { onLine: true }, configurable: true })
  })
  afterEach(() => {
    delete globals.addEventListener
    delete globals.removeEventListener
  })

  test('ends a held sse-close batch that delivered nothing and probes upward at once; nothing lost', async () => {
    // The hub holds a close request up to 5 s: without the early end the upgrade waits for that.
    rig = await startLadderRig('hold-until-close')
    const r = record(rig.url, { canaryTimeout: 800 })
    await until(() => r.es.transport === 'sse-close', 'step down to sse-close', 8000)
    await rig.publish(2, 10)
    await until(() => r.messages.length === 2, '2 events on sse-close', 8000)
    await until(() => rig!.hub.stats().connections.close === 1, 'a held close request', 3000)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const before = Date.now()
    target.dispatchEvent(new Event('online'))
    await until(() => r.es.transport === 'fetch', 'upgrade to fetch', 3000)
    expect(Date.now() - before).toBeLessThan(1500)
    expect(r.changes.at(-1)).toMatchObject({ previous: 'sse-close', transport: 'fetch', reason: 'upgrade' })
    // The path still buffers: back down, and every event arrives once, in order.
    await rig.publish(3, 10)
    await until(() => r.messages.length >= 5, '5 events', 10_000)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(r.messages.map((m) => m.data)).toEqual(sequence(5))
    expect(r.es.transport).toBe('sse-close')
    r.es.close()
  })
})
