import { afterEach, describe, expect, test } from 'vitest'
import type { PollResponse } from '../../../src/server'
import { type TestServer, eventually, fetchText, startHub, withQuery } from './helpers'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function poll(url: string, params: Record<string, string | number>, headers: Record<string, string> = {}) {
  const response = await fetchText(withQuery(url, { mode: 'poll', ...params }), { headers })
  return { ...response, json: JSON.parse(response.body) as PollResponse }
}

describe('mode=poll', () => {
  test('answers JSON with Content-Length and the protocol headers', async () => {
    server = await startHub()
    const a = await server.hub.publish({ data: 'a' })
    const b = await server.hub.publish({ event: 'x', data: 'b\nc' })
    const response = await poll(server.url, { lastEventId: '0-0' })
    expect(response.status).toBe(200)
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength(response.body)))
    expect(response.headers['transfer-encoding']).toBeUndefined()
    expect(response.headers['cache-control']).toBe('no-store, no-transform')
    expect(response.json).toEqual({
      events: [
        { id: a, event: 'message', data: 'a' },
        { id: b, event: 'x', data: 'b\nc' },
      ],
      lastEventId: b,
      gap: null,
      more: false,
    })
  })

  test('wait=0 answers at once with the head as cursor', async () => {
    server = await startHub()
    const head = await server.hub.publish({ data: 'old' })
    const started = Date.now()
    const response = await poll(server.url, { wait: 0 })
    expect(Date.now() - started).toBeLessThan(500)
    expect(response.json).toEqual({ events: [], lastEventId: head, gap: null, more: false })
  })

  test('holds until an event arrives, then answers with the burst', async () => {
    server = await startHub()
    const head = await server.hub.publish({ data: 'old' })
    const pending = poll(server.url, { lastEventId: head, wait: 5 })
    await eventually(() => server!.hub.stats().connections.poll === 1)
    const started = Date.now()
    const ids = [await server.hub.publish({ data: '1' })]
    await new Promise((resolve) => setTimeout(resolve, 10))
    ids.push(await server.hub.publish({ data: '2' }))
    const response = await pending
    expect(Date.now() - started).toBeLessThan(1000)
    expect(response.json.events.map((event) => event.id)).toEqual(ids)
    expect(response.json.lastEventId).toBe(ids[1])
  })

  test('holds for wait seconds when nothing arrives', async () => {
    server = await startHub()
    const started = Date.now()
    const response = await poll(server.url, { wait: 0.3 })
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(280)
    expect(elapsed).toBeLessThan(2000)
    expect(response.json.events).toEqual([])
    expect(response.json.more).toBe(false)
  })

  test('caps a batch at maxEvents and maxBytes and sets more', async () => {
    server = await startHub({ batch: { maxEvents: 3, maxBytes: 1000 } })
    for (let index = 0; index < 5; index += 1) await server.hub.publish({ data: `e${index}` })
    const first = await poll(server.url, { lastEventId: '0-0' })
    expect(first.json.events.map((event) => event.data)).toEqual(['e0', 'e1', 'e2'])
    expect(first.json.more).toBe(true)
    const second = await poll(server.url, { lastEventId: first.json.lastEventId })
    expect(second.json.events.map((event) => event.data)).toEqual(['e3', 'e4'])
    expect(second.json.more).toBe(false)

    await server.hub.publish({ data: 'x'.repeat(600) })
    await server.hub.publish({ data: 'y'.repeat(600) })
    const third = await poll(server.url, { lastEventId: second.json.lastEventId })
    expect(third.json.events.map((event) => event.data.length)).toEqual([600])
    expect(third.json.more).toBe(true)
  })

  test('the Last-Event-ID header wins over the query', async () => {
    server = await startHub()
    const ids: string[] = []
    for (let index = 0; index < 3; index += 1) ids.push(await server.hub.publish({ data: `e${index}` }))
    const response = await poll(server.url, { lastEventId: '0-0' }, { 'Last-Event-ID': ids[1]! })
    expect(response.json.events.map((event) => event.data)).toEqual(['e2'])
  })
})
