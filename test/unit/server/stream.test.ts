import { afterEach, describe, expect, test } from 'vitest'
import { type TestServer, appEvents, eventually, openStalledReader, openStream, startHub, withQuery } from './helpers'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('mode=stream', () => {
  test('sends the canary and retry in the first chunk, with the protocol headers', async () => {
    server = await startHub()
    await server.hub.publish({ data: 'before' })
    const stream = await openStream(server.url)
    await stream.waitFor((events) => events.length >= 1)
    expect(stream.status).toBe(200)
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(stream.headers['cache-control']).toBe('no-store, no-transform')
    expect(stream.headers['x-accel-buffering']).toBe('no')
    expect(stream.headers['x-content-type-options']).toBe('nosniff')
    expect(stream.headers['content-encoding']).toBeUndefined()
    expect(stream.headers['content-length']).toBeUndefined()
    expect(stream.firstChunk.startsWith('event: _canary\ndata: {')).toBe(true)
    expect(stream.firstChunk).toMatch(/\nretry: \d+\n\n$/)
    const canary = JSON.parse(stream.events[0]!.data) as Record<string, unknown>
    expect(canary).toMatchObject({ v: 1, mode: 'stream', ping: 15, ordered: true })
    expect(canary.head).toMatch(/^\d+-0$/)
    expect(canary.oldest).toBe(canary.head)
    expect(Math.abs((canary.t as number) - Date.now())).toBeLessThan(5000)
    expect(stream.retries[0]).toBeGreaterThanOrEqual(1000)
    expect(stream.retries[0]).toBeLessThanOrEqual(3000)
    // No cursor: live only, the event published before is not replayed.
    expect(appEvents(stream.events)).toEqual([])
    stream.abort()
  })

  test('delivers live events with ids, names and multi-line data', async () => {
    server = await startHub()
    const stream = await openStream(server.url)
    await stream.waitFor((events) => events.length >= 1)
    const first = await server.hub.publish({ data: 'one' })
    const second = await server.hub.publish({ event: 'price', data: 'a\nb\r\nc\rd' })
    const third = await server.hub.publish({ data: '' })
    await stream.waitFor((events) => appEvents(events).length >= 3)
    expect(appEvents(stream.events)).toEqual([
      { event: 'message', id: first, data: 'one' },
      { event: 'price', id: second, data: 'a\nb\nc\nd' },
      { event: 'message', id: third, data: '' },
    ])
    stream.abort()
  })

  test('replays (cursor, head] from the lastEventId query, then goes live', async () => {
    server = await startHub()
    const ids: string[] = []
    for (let index = 0; index < 5; index += 1) ids.push(await server.hub.publish({ data: `e${index}` }))
    const stream = await openStream(withQuery(server.url, { lastEventId: ids[1]! }))
    await stream.waitFor((events) => appEvents(events).length >= 3)
    ids.push(await server.hub.publish({ data: 'e5' }))
    await stream.waitFor((events) => appEvents(events).length >= 4)
    expect(appEvents(stream.events).map((event) => event.data)).toEqual(['e2', 'e3', 'e4', 'e5'])
    expect(appEvents(stream.events).map((event) => event.id)).toEqual(ids.slice(2))
    stream.abort()
  })

  test('the Last-Event-ID header wins over the query', async () => {
    server = await startHub()
    const ids: string[] = []
    for (let index = 0; index < 4; index += 1) ids.push(await server.hub.publish({ data: `e${index}` }))
    const stream = await openStream(withQuery(server.url, { lastEventId: ids[0]! }), { 'Last-Event-ID': ids[2]! })
    await stream.waitFor((events) => appEvents(events).length >= 1)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(appEvents(stream.events).map((event) => event.data)).toEqual(['e3'])
    stream.abort()
  })

  // flushInterval 20: live events collected for a write while the stream still replays.
  test.each([0, 20])('events published while replay runs are delivered once, in order (flushInterval %i)', async (flushInterval) => {
    server = await startHub({ flushInterval })
    const hub = server.hub
    for (let index = 0; index < 2000; index += 1) await hub.publish({ data: `r${index}` })
    const streamPromise = openStream(withQuery(server.url, { lastEventId: '0-0' }))
    const live = (async () => {
      for (let index = 0; index < 200; index += 1) {
        await hub.publish({ data: `l${index}` })
        if (index % 20 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    const stream = await streamPromise
    await live
    await stream.waitFor((events) => appEvents(events).length >= 2200)
    const data = appEvents(stream.events).map((event) => event.data)
    expect(data).toEqual([
      ...Array.from({ length: 2000 }, (_, index) => `r${index}`),
      ...Array.from({ length: 200 }, (_, index) => `l${index}`),
    ])
    stream.abort()
  })

  test('sends _ping {t, n} after ping seconds without a frame', async () => {
    server = await startHub({ minPing: 0.05 })
    const started = Date.now()
    const stream = await openStream(withQuery(server.url, { ping: 0.1 }))
    await stream.waitFor((events) => events.filter((event) => event.event === '_ping').length >= 3)
    const pings = stream.events.filter((event) => event.event === '_ping')
    expect(pings.map((ping) => (JSON.parse(ping.data) as { n: number }).n)).toEqual([1, 2, 3])
    expect(pings.every((ping) => ping.id === undefined)).toBe(true)
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    const canary = JSON.parse(stream.events[0]!.data) as { ping: number }
    expect(canary.ping).toBe(0.1)
    stream.abort()
  })

  test('clamps ping to the protocol range', async () => {
    server = await startHub()
    for (const [asked, expected] of [['1', 5], ['999', 30], ['NaN', 15], ['-4', 5], ['', 15], ['12', 12]] as const) {
      const stream = await openStream(`${server.url}?ping=${asked}`)
      await stream.waitFor((events) => events.length >= 1)
      expect((JSON.parse(stream.events[0]!.data) as { ping: number }).ping).toBe(expected)
      stream.abort()
    }
  })

  test('rotates with _end {reason:"rotate"} after rotateAfter ±10 %', async () => {
    server = await startHub({ rotateAfter: 200 })
    const started = Date.now()
    const stream = await openStream(server.url)
    await stream.ended
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(170)
    expect(elapsed).toBeLessThan(1500)
    const last = stream.events.at(-1)!
    expect(last.event).toBe('_end')
    expect(JSON.parse(last.data)).toEqual({ reason: 'rotate' })
    await eventually(() => server!.hub.stats().connections.stream === 0)
  })

  test('a client that goes away is cleaned up', async () => {
    server = await startHub()
    const streams = await Promise.all([openStream(server.url), openStream(server.url), openStream(server.url)])
    await Promise.all(streams.map((stream) => stream.waitFor((events) => events.length >= 1)))
    expect(server.hub.stats().connections.stream).toBe(3)
    expect(server.hub.stats().listeners).toBe(3)
    for (const stream of streams) stream.abort()
    await eventually(() => server!.hub.stats().connections.stream === 0)
    expect(server.hub.stats().listeners).toBe(0)
    // Publishing to nobody still works.
    await expect(server.hub.publish({ data: 'x' })).resolves.toMatch(/^\d+-\d+$/)
  })
})

describe('mode=stream under load', () => {
  test('live events that outpace a replay (queue overflow) are re-read from the store', async () => {
    server = await startHub({ retention: { maxEvents: 20_000 } })
    const hub = server.hub
    const padding = '.'.repeat(2000)
    for (let index = 0; index < 3000; index += 1) await hub.publish({ data: `r${index}${padding}` })
    const stream = await openStream(withQuery(server.url, { lastEventId: '0-0' }))
    // 6 MB of replay: the server is waiting for the socket while these arrive.
    await stream.waitFor((events) => events.length >= 2)
    // 5000 publishes without yielding to I/O: they all arrive while the replay is in flight.
    for (let index = 0; index < 5000; index += 1) await hub.publish({ data: `l${index}` })
    await stream.waitFor((events) => appEvents(events).length >= 8000, 15_000)
    const data = appEvents(stream.events).map((event) => event.data)
    expect(data).toEqual([
      ...Array.from({ length: 3000 }, (_, index) => `r${index}${padding}`),
      ...Array.from({ length: 5000 }, (_, index) => `l${index}`),
    ])
    const next = await hub.publish({ data: 'after' })
    await stream.waitFor((events) => events.at(-1)?.id === next)
    stream.abort()
  })
})

describe('mode=stream heartbeats and stalls', () => {
  test('no _ping while events keep the stream busy', async () => {
    server = await startHub({ minPing: 0.05 })
    const stream = await openStream(withQuery(server.url, { ping: 0.2 }))
    await stream.waitFor((events) => events.length >= 1)
    for (let index = 0; index < 12; index += 1) {
      await server.hub.publish({ data: String(index) })
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(stream.events.filter((event) => event.event === '_ping')).toEqual([])
    await stream.waitFor((events) => events.some((event) => event.event === '_ping'), 2000)
    stream.abort()
  })

  test('a stream whose socket accepts nothing for stallTimeout is dropped', async () => {
    server = await startHub({ minPing: 0.05, ping: 0.05, stallTimeout: 300, maxBuffered: 1e9 })
    const hub = server.hub
    const socket = await openStalledReader(server)
    // Fill the kernel's and Node's buffers once, then stay quiet.
    const chunk = 'z'.repeat(64 * 1024)
    for (let index = 0; index < 300; index += 1) {
      await hub.publish({ data: chunk })
      await new Promise((resolve) => setImmediate(resolve))
    }
    const stoppedAt = Date.now()
    await eventually(() => hub.stats().connections.stream === 0, 5000)
    expect(Date.now() - stoppedAt).toBeLessThan(3000)
    socket.destroy()
  })
})
