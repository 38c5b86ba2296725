import { afterEach, describe, expect, test } from 'vitest'
import { type EventStore, createMemoryStore } from '../../../src/server'
import { type TestServer, eventually, fetchText, openStream, parseEvents, startHub, withQuery } from './helpers'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const APP = 'https://app.example'

describe('methods and bad input', () => {
  test.each(['POST', 'PUT', 'DELETE', 'HEAD'])('%s gets 405 with Allow', async (method) => {
    server = await startHub()
    const response = await fetchText(server.url, { method })
    expect(response.status).toBe(405)
    expect(response.headers.allow).toBe('GET, OPTIONS')
    expect(response.headers['cache-control']).toBe('no-store, no-transform')
    expect(response.headers['x-content-type-options']).toBe('nosniff')
    if (method !== 'HEAD') expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'method-not-allowed' } })
  })

  test.each(['streaming', 'POLL', 'ws', 'stream%00', 'x'.repeat(5000)])('unknown mode %j gets 400 JSON', async (mode) => {
    server = await startHub()
    const response = await fetchText(`${server.url}?mode=${mode}`)
    expect(response.status).toBe(400)
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength(response.body)))
    const body = JSON.parse(response.body) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('invalid-mode')
    expect(body.error.message.length).toBeLessThan(200)
  })

  test.each([
    ['NaN', 2000],
    ['-5', 0],
    ['1e999', 2000],
    ['Infinity', 2000],
    ['abc', 2000],
    ['0', 0],
  ])('wait=%s is clamped to 0–max (here 2 s)', async (wait, expectedMs) => {
    server = await startHub({ wait: 2 })
    const started = Date.now()
    const response = await fetchText(`${server.url}?mode=poll&wait=${wait}`)
    const elapsed = Date.now() - started
    expect(response.status).toBe(200)
    expect(elapsed).toBeGreaterThanOrEqual(expectedMs - 20)
    expect(elapsed).toBeLessThan(expectedMs + 1000)
  })

  test('app query parameters and odd URLs pass through', async () => {
    server = await startHub()
    const hub = server.hub
    await hub.publish({ data: 'a' })
    const response = await fetchText(`${server.url}?topic=x&topic=y&mode=poll&wait=0&lastEventId=0-0&&=&%zz`)
    expect(response.status).toBe(200)
    expect((JSON.parse(response.body) as { events: unknown[] }).events).toHaveLength(1)
  })

  test('a failing store answers 503 with Retry-After, not a crash', async () => {
    const broken: EventStore = {
      ...createMemoryStore(),
      append: () => Promise.reject(new Error('down')),
      readAfter: () => Promise.reject(new Error('down')),
      oldest: () => Promise.reject(new Error('down')),
      head: () => Promise.reject(new Error('down')),
      subscribe: () => () => {},
      close: async () => {},
    }
    server = await startHub({ store: broken })
    for (const mode of ['stream', 'close', 'poll']) {
      const response = await fetchText(`${server.url}?mode=${mode}`)
      expect(response.status).toBe(503)
      expect(response.headers['retry-after']).toBe('5')
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'store-unavailable' } })
    }
    await eventually(() => server!.hub.stats().listeners === 0)
  })
})

describe('CORS', () => {
  test('an allowed Origin gets the CORS headers on GET', async () => {
    server = await startHub({ cors: { origins: [APP] } })
    const response = await fetchText(`${server.url}?mode=poll&wait=0`, { headers: { Origin: APP } })
    expect(response.headers['access-control-allow-origin']).toBe(APP)
    expect(response.headers['access-control-allow-credentials']).toBeUndefined()
    expect(response.headers['access-control-expose-headers']).toBe('Retry-After')
    expect(response.headers.vary).toBe('Origin')
  })

  test('an unknown Origin gets no CORS headers on GET and 403 on preflight', async () => {
    server = await startHub({ cors: { origins: [APP] } })
    const response = await fetchText(`${server.url}?mode=poll&wait=0`, { headers: { Origin: 'https://evil.example' } })
    expect(response.status).toBe(200)
    expect(response.headers['access-control-allow-origin']).toBeUndefined()
    const preflight = await fetchText(server.url, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
    })
    expect(preflight.status).toBe(403)
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined()
  })

  test('preflight from an allowed Origin: 204 with methods, headers, max-age and credentials', async () => {
    server = await startHub({ cors: { origins: [APP], credentials: true, allowHeaders: ['X-Tenant'] } })
    const preflight = await fetchText(server.url, {
      method: 'OPTIONS',
      headers: { Origin: APP, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'last-event-id' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers['access-control-allow-origin']).toBe(APP)
    expect(preflight.headers['access-control-allow-credentials']).toBe('true')
    expect(preflight.headers['access-control-allow-methods']).toBe('GET, OPTIONS')
    expect(preflight.headers['access-control-allow-headers']).toBe('Last-Event-ID, Authorization, Content-Type, X-Tenant')
    expect(preflight.headers['access-control-max-age']).toBe('600')
  })

  test("origins '*' sends * without credentials and echoes the Origin with them", async () => {
    server = await startHub({ cors: { origins: '*' } })
    const open = await fetchText(`${server.url}?mode=poll&wait=0`, { headers: { Origin: 'https://any.example' } })
    expect(open.headers['access-control-allow-origin']).toBe('*')
    await server.close()
    server = await startHub({ cors: { origins: '*', credentials: true } })
    const credentialed = await fetchText(`${server.url}?mode=poll&wait=0`, { headers: { Origin: 'https://any.example' } })
    expect(credentialed.headers['access-control-allow-origin']).toBe('https://any.example')
    expect(credentialed.headers['access-control-allow-credentials']).toBe('true')
  })

  test('streams carry CORS headers too', async () => {
    server = await startHub({ cors: { origins: [APP] } })
    const stream = await openStream(server.url, { Origin: APP })
    expect(stream.headers['access-control-allow-origin']).toBe(APP)
    stream.abort()
  })

  test('without a cors option, a preflight is refused', async () => {
    server = await startHub()
    const preflight = await fetchText(server.url, { method: 'OPTIONS', headers: { Origin: APP, 'Access-Control-Request-Method': 'GET' } })
    expect(preflight.status).toBe(403)
    const plain = await fetchText(server.url, { method: 'OPTIONS' })
    expect(plain.status).toBe(204)
    expect(plain.headers.allow).toBe('GET, OPTIONS')
  })
})

describe('close() drains', () => {
  test('streams get _end drain, held close/poll requests are answered, new requests get 503', async () => {
    server = await startHub()
    const hub = server.hub
    const streams = await Promise.all([openStream(server.url), openStream(server.url)])
    await Promise.all(streams.map((stream) => stream.waitFor((events) => events.length >= 1)))
    const heldClose = fetchText(withQuery(server.url, { mode: 'close', wait: 20 }))
    const heldPoll = fetchText(withQuery(server.url, { mode: 'poll', wait: 20 }))
    await eventually(() => hub.stats().connections.close === 1 && hub.stats().connections.poll === 1)
    const started = Date.now()
    await hub.close()
    expect(Date.now() - started).toBeLessThan(1000)
    for (const stream of streams) {
      await stream.ended
      expect(stream.events.at(-1)).toMatchObject({ event: '_end', data: '{"reason":"drain"}' })
    }
    const close = parseEvents((await heldClose).body).events
    expect(close.map((event) => event.event)).toEqual(['_canary', '_ping', '_end'])
    expect(JSON.parse(close.at(-1)!.data)).toEqual({ reason: 'drain' })
    const poll = await heldPoll
    expect(poll.status).toBe(200)
    expect(JSON.parse(poll.body)).toMatchObject({ events: [], more: false })
    expect(hub.stats()).toMatchObject({ connections: { stream: 0, close: 0, poll: 0 }, listeners: 0 })

    const late = await fetchText(withQuery(server.url, { mode: 'poll', wait: 0 }))
    expect(late.status).toBe(503)
    expect(late.headers['retry-after']).toBe('1')
    expect(JSON.parse(late.body)).toMatchObject({ error: { code: 'closing' } })
  })

  test('does not close a store it did not create', async () => {
    const store = createMemoryStore()
    server = await startHub({ store })
    await server.hub.close()
    await expect(store.append({ event: 'message', data: 'still open' })).resolves.toBeTypeOf('string')
  })
})

describe('overload', () => {
  test('beyond maxConnections: streams get _backoff in a 200 event stream, polls get 503', async () => {
    server = await startHub({ maxConnections: 1, overloadRetry: 4000 })
    const first = await openStream(server.url)
    await first.waitFor((events) => events.length >= 1)
    const refused = await fetchText(server.url)
    expect(refused.status).toBe(200)
    expect(refused.headers['content-length']).toBe(String(Buffer.byteLength(refused.body)))
    const { events, retries } = parseEvents(refused.body)
    expect(events.map((event) => event.event)).toEqual(['_canary', '_backoff'])
    expect(JSON.parse(events[1]!.data)).toEqual({ retryMs: 4000, reason: 'overload' })
    expect(retries).toEqual([4000])
    const poll = await fetchText(withQuery(server.url, { mode: 'poll', wait: 0 }))
    expect(poll.status).toBe(503)
    expect(poll.headers['retry-after']).toBe('4')
    expect(JSON.parse(poll.body)).toMatchObject({ error: { code: 'overloaded' } })
    first.abort()
    await eventually(() => server!.hub.stats().connections.stream === 0)
    const accepted = await fetchText(withQuery(server.url, { mode: 'poll', wait: 0 }))
    expect(accepted.status).toBe(200)
  })
})

describe('close({ spread })', () => {
  test('spreads the streams’ drain over the window', async () => {
    server = await startHub()
    const streams = await Promise.all(Array.from({ length: 6 }, () => openStream(server!.url)))
    await Promise.all(streams.map((stream) => stream.waitFor((events) => events.length >= 1)))
    const started = Date.now()
    const endedAt: number[] = []
    for (const stream of streams) void stream.ended.then(() => endedAt.push(Date.now() - started))
    await server.hub.close({ spread: 400 })
    await Promise.all(streams.map((stream) => stream.ended))
    for (const stream of streams) expect(stream.events.at(-1)).toMatchObject({ event: '_end', data: '{"reason":"drain"}' })
    expect(Math.max(...endedAt)).toBeLessThan(1500)
    // Six uniform draws over 400 ms: all within 20 ms of each other is vanishingly unlikely.
    expect(Math.max(...endedAt) - Math.min(...endedAt)).toBeGreaterThan(20)
  })
})
