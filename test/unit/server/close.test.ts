import { afterEach, describe, expect, test } from 'vitest'
import { type TestServer, appEvents, eventually, fetchText, parseEvents, startHub, withQuery } from './helpers'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('mode=close', () => {
  test('pending events: canary, retry, events, _end batch, with Content-Length', async () => {
    server = await startHub()
    const ids = [await server.hub.publish({ data: 'a' }), await server.hub.publish({ event: 'x', data: 'b\nc' })]
    const response = await fetchText(withQuery(server.url, { mode: 'close', lastEventId: '0-0' }))
    expect(response.status).toBe(200)
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength(response.body)))
    expect(response.headers['transfer-encoding']).toBeUndefined()
    expect(response.headers['cache-control']).toBe('no-store, no-transform')
    expect(response.headers['x-accel-buffering']).toBe('no')
    const { events, retries } = parseEvents(response.body)
    expect(response.body.startsWith('event: _canary\n')).toBe(true)
    expect(events.map((event) => event.event)).toEqual(['_canary', 'message', 'x', '_end'])
    expect(JSON.parse(events[0]!.data)).toMatchObject({ v: 1, mode: 'close', ordered: true, head: ids[1] })
    expect(appEvents(events)).toEqual([
      { event: 'message', id: ids[0], data: 'a' },
      { event: 'x', id: ids[1], data: 'b\nc' },
    ])
    expect(JSON.parse(events.at(-1)!.data)).toEqual({ reason: 'batch' })
    expect(events.at(-1)!.id).toBeUndefined()
    expect(retries).toHaveLength(1)
    expect(retries[0]).toBeGreaterThanOrEqual(1000)
    expect(retries[0]).toBeLessThanOrEqual(3000)
  })

  test('nothing within wait: canary, retry, _ping, _end', async () => {
    server = await startHub()
    const started = Date.now()
    const response = await fetchText(withQuery(server.url, { mode: 'close', wait: 0.2 }))
    expect(Date.now() - started).toBeGreaterThanOrEqual(180)
    const { events } = parseEvents(response.body)
    expect(events.map((event) => event.event)).toEqual(['_canary', '_ping', '_end'])
    expect(JSON.parse(events[1]!.data)).toMatchObject({ n: 1 })
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength(response.body)))
  })

  test('a held request answers when an event arrives, gathering the burst', async () => {
    server = await startHub({ batch: { burst: 100 } })
    const head = await server.hub.publish({ data: 'old' })
    const pending = fetchText(withQuery(server.url, { mode: 'close', lastEventId: head, wait: 10 }))
    await eventually(() => server!.hub.stats().connections.close === 1)
    const started = Date.now()
    await server.hub.publish({ data: '1' })
    await new Promise((resolve) => setTimeout(resolve, 30))
    await server.hub.publish({ data: '2' })
    const response = await pending
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(90)
    expect(elapsed).toBeLessThan(2000)
    expect(appEvents(parseEvents(response.body).events).map((event) => event.data)).toEqual(['1', '2'])
    await eventually(() => server!.hub.stats().connections.close === 0)
    expect(server.hub.stats().listeners).toBe(0)
  })

  test('a full batch does not wait for the burst window', async () => {
    server = await startHub({ batch: { burst: 5000, maxEvents: 3 } })
    const pending = fetchText(withQuery(server.url, { mode: 'close', wait: 10, start: 'tokentokentokentoken' }))
    await eventually(() => server!.hub.stats().connections.close === 1)
    const started = Date.now()
    for (let index = 0; index < 5; index += 1) await server.hub.publish({ data: String(index) })
    const response = await pending
    expect(Date.now() - started).toBeLessThan(2000)
    expect(appEvents(parseEvents(response.body).events).map((event) => event.data)).toEqual(['0', '1', '2'])
  })

  test('caps a batch at maxBytes but always sends one event', async () => {
    server = await startHub({ batch: { maxBytes: 100 } })
    await server.hub.publish({ data: 'x'.repeat(300) })
    await server.hub.publish({ data: 'y' })
    const response = await fetchText(withQuery(server.url, { mode: 'close', lastEventId: '0-0' }))
    const app = appEvents(parseEvents(response.body).events)
    expect(app.map((event) => event.data.length)).toEqual([300])
  })

  test('a client that goes away while held is cleaned up', async () => {
    server = await startHub()
    const controller = new AbortController()
    const pending = fetch(withQuery(server.url, { mode: 'close', wait: 20 }), { signal: controller.signal }).catch(() => undefined)
    const pendingPoll = fetch(withQuery(server.url, { mode: 'poll', wait: 20 }), { signal: controller.signal }).catch(() => undefined)
    await eventually(() => server!.hub.stats().connections.close === 1 && server!.hub.stats().connections.poll === 1)
    expect(server.hub.stats().listeners).toBe(2)
    controller.abort()
    await pending
    await pendingPoll
    await eventually(() => server!.hub.stats().connections.close === 0 && server!.hub.stats().connections.poll === 0)
    expect(server.hub.stats().listeners).toBe(0)
  })
})
