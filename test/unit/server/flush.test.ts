import { afterEach, describe, expect, test, vi } from 'vitest'
import { createTopicHub, type EventHubOptions } from '../../../src/server'
import { type OpenStream, type TestServer, appEvents, eventually, openStalledReader, openStream, serve, startHub, withQuery } from './helpers'

/** Publishes `count` events without yielding to I/O; resolves to their ids. */
function publishBurst(server: TestServer, count: number, prefix = 'e'): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => server.hub.publish({ data: `${prefix}${index}` })))
}

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** Starts a hub (closed after the test) and opens one stream; resolves once its canary arrived. */
async function liveStream(options: EventHubOptions, query: Record<string, number> = {}): Promise<{ server: TestServer; stream: OpenStream }> {
  const started = await startHub(options)
  server = started
  const stream = await openStream(withQuery(started.url, query))
  await stream.waitFor((events) => events.length >= 1)
  return { server: started, stream }
}

describe('mode=stream flushInterval (write coalescing)', () => {
  test('a burst arrives complete, in order, once, in fewer writes and reads than events', async () => {
    const { server: counting, stream } = await liveStream({ flushInterval: 50 })
    expect(counting.writes).toEqual([1])
    const ids = await publishBurst(counting, 20)
    await eventually(() => appEvents(stream.events).length >= 20)
    const events = appEvents(stream.events)
    expect(events.map((event) => event.data)).toEqual(Array.from({ length: 20 }, (_, index) => `e${index}`))
    expect(events.map((event) => event.id)).toEqual(ids)
    // Canary, then the burst in one chunk (two if a slow machine let the timer fire mid-burst).
    const burstWrites = counting.writes[0]! - 1
    expect(burstWrites).toBeGreaterThanOrEqual(1)
    expect(burstWrites).toBeLessThanOrEqual(3)
    expect(stream.chunks - 1).toBeLessThanOrEqual(burstWrites)
    // Nothing else follows: no event twice.
    const next = await counting.hub.publish({ data: 'after' })
    await eventually(() => appEvents(stream.events).length >= 21)
    expect(appEvents(stream.events).map((event) => event.id)).toEqual([...ids, next])
    stream.abort()
  })

  test('streams that went live at different events each get exactly their own events', async () => {
    server = await startHub({ flushInterval: 30 })
    const hub = server.hub
    const early = await openStream(server.url)
    await early.waitFor((events) => events.length >= 1)
    const first = await publishBurst(server, 5, 'a')
    // Joins while `early` still holds the first burst: live from the head, then the same second burst.
    const late = await openStream(server.url)
    await late.waitFor((events) => events.length >= 1)
    const resumed = await openStream(withQuery(server.url, { lastEventId: first[2]! }))
    await resumed.waitFor((events) => appEvents(events).length >= 2)
    const second = await publishBurst(server, 5, 'b')
    const third = await publishBurst(server, 3, 'c')
    await early.waitFor((events) => appEvents(events).length >= 13)
    await late.waitFor((events) => appEvents(events).length >= 8)
    await resumed.waitFor((events) => appEvents(events).length >= 10)
    const next = await hub.publish({ data: 'last' })
    for (const stream of [early, late, resumed]) await stream.waitFor((events) => events.at(-1)?.id === next)
    expect(appEvents(early.events).map((event) => event.id)).toEqual([...first, ...second, ...third, next])
    expect(appEvents(late.events).map((event) => event.id)).toEqual([...second, ...third, next])
    expect(appEvents(resumed.events).map((event) => event.id)).toEqual([...first.slice(3), ...second, ...third, next])
    for (const stream of [early, late, resumed]) stream.abort()
  })

  test('default (0): one write per live event', async () => {
    const { server: counting, stream } = await liveStream({})
    const ids = await publishBurst(counting, 20)
    await eventually(() => appEvents(stream.events).length >= 20)
    expect(appEvents(stream.events).map((event) => event.id)).toEqual(ids)
    expect(counting.writes).toEqual([21])
    stream.abort()
  })

  test.each([[-5], [Number.NaN], [Number.POSITIVE_INFINITY]])('flushInterval %s is treated as 0 (per-event writes)', async (flushInterval) => {
    const { server: counting, stream } = await liveStream({ flushInterval })
    await publishBurst(counting, 5)
    await eventually(() => appEvents(stream.events).length >= 5)
    expect(counting.writes).toEqual([6])
    stream.abort()
  })

  test('createTopicHub passes flushInterval to every topic', async () => {
    const topics = createTopicHub({ topic: (req) => new URL(req.url ?? '/', 'http://x').searchParams.get('topic'), flushInterval: 50 })
    const counting = await serve(topics.hub('a'), (req, res) => topics.handle(req, res))
    server = counting
    const stream = await openStream(withQuery(counting.url, { topic: 'a' }))
    await eventually(() => stream.events.length >= 1)
    const ids = await Promise.all(Array.from({ length: 10 }, (_, index) => topics.publish('a', { data: `t${index}` })))
    expect(counting.writes).toEqual([1])
    await eventually(() => appEvents(stream.events).length >= 10)
    expect(appEvents(stream.events).map((event) => event.id)).toEqual(ids)
    expect(counting.writes[0]).toBeLessThanOrEqual(3)
    stream.abort()
  })

  test('an event published alone is written after about flushInterval, not later', async () => {
    const { server: counting, stream } = await liveStream({ flushInterval: 50 })
    const publishedAt = performance.now()
    await counting.hub.publish({ data: 'alone' })
    // Held, not written on publish (the default writes synchronously)...
    expect(counting.writes).toEqual([1])
    await eventually(() => appEvents(stream.events).length >= 1)
    expect(counting.writes).toEqual([2])
    // ...and written within about the interval (generous for a busy CI machine).
    expect(stream.arrivals[1]! - publishedAt).toBeLessThan(50 + 1500)
    stream.abort()
  })

  test('a burst larger than 64 KiB is written at once, not held for the interval', async () => {
    const { server: counting, stream } = await liveStream({ flushInterval: 60_000 })
    const padding = 'p'.repeat(10_000)
    const ids = await Promise.all(Array.from({ length: 8 }, (_, index) => counting.hub.publish({ data: `${index}${padding}` })))
    // 7 events pass 64 Ki characters: they leave together; the 8th waits for the timer.
    await eventually(() => appEvents(stream.events).length >= 7, 3000)
    expect(counting.writes).toEqual([2])
    expect(appEvents(stream.events).map((event) => event.id)).toEqual(ids.slice(0, 7))
    stream.abort()
  })

  test('close() writes pending events before _end drain and does not wait for the flush timer', async () => {
    const { server, stream } = await liveStream({ flushInterval: 60_000 })
    const ids = await publishBurst(server, 5)
    const started = performance.now()
    await server.hub.close({ timeout: 5000 })
    expect(performance.now() - started).toBeLessThan(2000)
    await stream.ended
    const tail = stream.events.slice(1)
    expect(tail.map((event) => event.event)).toEqual(['message', 'message', 'message', 'message', 'message', '_end'])
    expect(tail.slice(0, 5).map((event) => event.id)).toEqual(ids)
    expect(JSON.parse(tail[5]!.data)).toEqual({ reason: 'drain' })
  })

  test('rotation writes pending events before _end rotate', async () => {
    server = await startHub({ flushInterval: 60_000, rotateAfter: 300 })
    const started = performance.now()
    const stream = await openStream(server.url)
    await stream.waitFor((events) => events.length >= 1)
    const ids = await publishBurst(server, 3)
    await stream.ended
    expect(performance.now() - started).toBeLessThan(3000)
    const tail = stream.events.slice(1)
    expect(tail.map((event) => event.id)).toEqual([...ids, undefined])
    expect(tail.at(-1)!.event).toBe('_end')
    expect(JSON.parse(tail.at(-1)!.data)).toEqual({ reason: 'rotate' })
    await eventually(() => server!.hub.stats().connections.stream === 0)
  })

  test('a due heartbeat sends pending events instead of a _ping, never after one', async () => {
    const { server, stream } = await liveStream({ flushInterval: 60_000, minPing: 0.05 }, { ping: 0.1 })
    const published = performance.now()
    const id = await server.hub.publish({ data: 'held' })
    await stream.waitFor((events) => events.some((event) => event.event === '_ping'), 3000)
    // The event left with the heartbeat (≈ 100 ms), long before the 60 s flush.
    expect(performance.now() - published).toBeLessThan(2500)
    const names = stream.events.map((event) => event.event)
    expect(names.slice(0, 3)).toEqual(['_canary', 'message', '_ping'])
    expect(stream.events[1]!.id).toBe(id)
    stream.abort()
  })

  test('a client that goes away with events pending leaves no flush timer behind', async () => {
    // A distinctive interval marks the hub's flush timers among every other timer.
    const interval = 43_210
    const armed = new Set<unknown>()
    const realSetTimeout = globalThis.setTimeout
    const realClearTimeout = globalThis.clearTimeout
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: () => void, ms?: number) => {
      const timer = realSetTimeout(callback, ms)
      if (ms === interval) armed.add(timer)
      return timer
    }) as typeof setTimeout)
    vi.spyOn(globalThis, 'clearTimeout').mockImplementation((timer) => {
      armed.delete(timer)
      realClearTimeout(timer)
    })
    try {
      server = await startHub({ flushInterval: interval })
      const streams = await Promise.all([openStream(server.url), openStream(server.url)])
      await Promise.all(streams.map((stream) => stream.waitFor((events) => events.length >= 1)))
      await publishBurst(server, 3)
      expect(armed.size).toBe(2)
      for (const stream of streams) stream.abort()
      await eventually(() => server!.hub.stats().connections.stream === 0)
      expect(armed.size).toBe(0)
      expect(server.hub.stats().listeners).toBe(0)
    } finally {
      vi.restoreAllMocks()
    }
  })

  test('a reader that stops reading is still dropped at maxBuffered', async () => {
    server = await startHub({ flushInterval: 20, maxBuffered: 256 * 1024, stallTimeout: 60_000 })
    const hub = server.hub
    const socket = await openStalledReader(server)
    const chunk = 'z'.repeat(64 * 1024)
    // Keep publishing until the hub drops the stream (bounded): kernel buffers fill first, then
    // Node's, then the grace passes and a flush finds more than maxBuffered unsent.
    const deadline = performance.now() + 10_000
    while (hub.stats().connections.stream === 1 && performance.now() < deadline) {
      await hub.publish({ data: chunk })
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    expect(hub.stats().connections.stream).toBe(0)
    socket.destroy()
  })
})
