import { connect } from 'node:net'
import { afterEach, describe, expect, test } from 'vitest'
import type { PollResponse } from '../../../src/server'
import { type TestServer, appEvents, eventually, fetchText, openStream, parseEvents, startHub, withQuery } from './helpers'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('one log, three renderings', () => {
  test('1000 events published while a client hops between modes arrive exactly once, in order', async () => {
    server = await startHub({ batch: { maxEvents: 37 } })
    const hub = server.hub
    const url = server.url
    const published: string[] = []
    const start = 'mixed-mode-token-0001'
    // The first request records the start token at the (empty) head: everything after counts.
    const first = await fetchText(withQuery(url, { mode: 'poll', wait: 0, start }))
    expect(JSON.parse(first.body)).toMatchObject({ events: [], lastEventId: '0-0' })
    const publisher = (async () => {
      for (let index = 0; index < 1000; index += 1) {
        published.push(await hub.publish({ event: index % 2 === 0 ? 'even' : 'message', data: `#${index}\nline2` }))
        if (index % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 2))
      }
    })()

    const received: { id: string; data: string }[] = []
    let cursor: string | undefined
    const params = (): Record<string, string> => (cursor === undefined ? { start } : { lastEventId: cursor })
    const take = (events: { id: string | undefined; data: string; event: string }[]): void => {
      for (const event of events) {
        received.push({ id: event.id!, data: event.data })
        cursor = event.id
      }
    }
    let round = 0
    while (received.length < 1000 && round < 150) {
      const mode = (['stream', 'close', 'poll'] as const)[round % 3]!
      round += 1
      if (mode === 'stream') {
        // Cursor in the header on odd rounds, in the query on even ones.
        const stream =
          round % 2 === 0
            ? await openStream(withQuery(url, params()))
            : await openStream(withQuery(url, cursor === undefined ? { start } : {}), cursor === undefined ? {} : { 'Last-Event-ID': cursor })
        const target = received.length + 60
        await stream.waitFor((events) => appEvents(events).length + received.length >= target, 150).catch(() => undefined)
        stream.abort()
        expect(stream.events.some((event) => event.event === '_gap')).toBe(false)
        take(appEvents(stream.events))
      } else if (mode === 'close') {
        const response = await fetchText(withQuery(url, { mode: 'close', wait: 0.1, ...params() }))
        const events = parseEvents(response.body).events
        expect(events.at(-1)?.event).toBe('_end')
        take(appEvents(events))
      } else {
        const response = await fetchText(withQuery(url, { mode: 'poll', wait: 0.1, ...params() }))
        const body = JSON.parse(response.body) as PollResponse
        expect(body.gap).toBeNull()
        take(body.events.map((event) => ({ ...event, id: event.id })))
        cursor = body.lastEventId
      }
    }
    await publisher
    expect(received.map((event) => event.id)).toEqual(published)
    expect(received.map((event) => event.data)).toEqual(Array.from({ length: 1000 }, (_, index) => `#${index}\nline2`))
    await eventually(() => hub.stats().listeners === 0)
  })
})

describe('backpressure', () => {
  test('a stream whose client stops reading is dropped once maxBuffered is exceeded', async () => {
    server = await startHub({ maxBuffered: 64 * 1024 })
    const hub = server.hub
    const { port } = new URL(server.url)
    // A raw socket that sends a request and never reads: the kernel buffers fill, then Node's.
    const socket = connect(Number(port), '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.pause()
    socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    await eventually(() => hub.stats().connections.stream === 1)
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    socket.on('error', () => {})
    const chunk = 'z'.repeat(16 * 1024)
    let published = 0
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline && hub.stats().connections.stream === 1) {
      await hub.publish({ data: chunk })
      published += 1
      // Let the socket flush between events, as a real publisher would; a bounded rate keeps the
      // count under the retention (10,000) during the drop's 1 s grace on a slow machine.
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    expect(hub.stats().connections.stream).toBe(0)
    // Dropped only after the kernel's and Node's buffers filled up, not on the first events.
    expect(published).toBeGreaterThan(8)
    expect(hub.stats().listeners).toBe(0)
    socket.resume()
    await closed
    // A reading client is unaffected.
    const stream = await openStream(withQuery(server.url, { lastEventId: 'earliest' }))
    await stream.waitFor((events) => appEvents(events).length >= published, 20_000)
    expect(appEvents(stream.events)).toHaveLength(published)
    stream.abort()
  })
})
