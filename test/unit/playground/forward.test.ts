import http from 'node:http'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Playground } from '../../../playground/server/app.mjs'
import { eventually, openStream, requestJson, seqs, startTestPlayground } from './helpers'

let playground: Playground

beforeAll(async () => {
  playground = await startTestPlayground({ rate: 4 })
})

afterAll(async () => {
  await playground.close({ timeout: 500 })
})

async function setMode(mode: string, options: Record<string, unknown> = {}): Promise<void> {
  const { status } = await requestJson(playground.url, '/api/network', { body: { mode, options } })
  expect(status).toBe(200)
}

describe('/events forwarding (page → playground server → simulated network → hub)', () => {
  test('direct: each event arrives on its own, as it is published', async () => {
    await setMode('direct')
    const stream = await openStream(`${playground.url}events`)
    expect(stream.response.headers['content-type']).toMatch(/^text\/event-stream/)
    await stream.waitFor((text) => seqs(text).length >= 6, 5000)
    stream.close()
    const events = seqs(stream.text())
    expect(events.map((event) => event.seq)).toEqual(events.map((_, i) => (events[0]?.seq ?? 0) + i))
    // Events are published 250 ms apart. Each one should reach us before the next is even
    // published: anything on the way that held an event back for company would fail this.
    // (One late event is tolerated: the machine may be busy.)
    const arrivalOf = new Map<number, number>()
    for (const chunk of stream.chunks) for (const event of seqs(chunk.text)) arrivalOf.set(event.seq, chunk.at)
    let early = 0
    for (let i = 0; i < 5; i++) {
      if (arrivalOf.get(events[i]!.seq)! < events[i + 1]!.t) early++
    }
    expect(early).toBeGreaterThanOrEqual(4)
  })

  test('hold-until-close when switched: headers pass, the body waits for the end', async () => {
    await setMode('hold-until-close')
    const stream = await openStream(`${playground.url}events`)
    expect(stream.response.statusCode).toBe(200)
    const seq = playground.publisher.seq
    await eventually(() => playground.publisher.seq >= seq + 3, 3000, 'three events published')
    // Three events published and forwarded by the hub, not one byte released to us.
    expect(stream.chunks).toHaveLength(0)
    stream.close()

    // A response that ends (the SDK's sse-close mode) arrives whole, once it has ended.
    const batch = await openStream(`${playground.url}events?mode=close&wait=5&lastEventId=earliest`)
    const { complete } = await batch.ended
    expect(complete).toBe(true)
    expect(batch.text()).toContain('event: _end')
    expect(seqs(batch.text()).length).toBeGreaterThan(0)
    await setMode('direct')
  })

  test('a client that goes away takes its upstream request with it', async () => {
    await setMode('direct')
    await eventually(() => playground.hub.stats().connections.stream === 0, 3000, 'no open stream')
    const stream = await openStream(`${playground.url}events`)
    await stream.waitFor((text) => text.includes('event: _canary'))
    expect(playground.hub.stats().connections.stream).toBe(1)
    stream.close()
    await eventually(() => playground.hub.stats().connections.stream === 0, 3000, 'hub stream closed')
    await eventually(() => playground.proxy.stats().openRequests === 0, 3000, 'proxy request closed')
  })

  test('a cut in the simulated network reaches the client as a broken response', async () => {
    await setMode('cut-after', { afterMs: 300 })
    const stream = await openStream(`${playground.url}events`)
    const { complete, at } = await stream.ended
    expect(complete).toBe(false)
    expect(at - stream.headersAt).toBeLessThan(2000)
    await setMode('direct')
  })

  test('close() drains: open streams get `_end drain` through the network, held ones too', async () => {
    const closing = await startTestPlayground({ rate: 20 })
    const live = await openStream(`${closing.url}events`)
    await live.waitFor((text) => seqs(text).length >= 2)
    closing.proxy.setMode('hold-until-close')
    const held = await openStream(`${closing.url}events`)
    const seq = closing.publisher.seq
    await eventually(() => closing.publisher.seq >= seq + 3, 3000, 'three events published')
    await closing.close({ timeout: 2000 })
    for (const stream of [live, held]) {
      const { complete } = await stream.ended
      expect(complete).toBe(true)
      expect(stream.text()).toMatch(/event: _end\ndata: \{"reason":"drain"\}\n\n$/)
    }
    expect(seqs(held.text()).length).toBeGreaterThanOrEqual(3)
  })

  test('an unreachable network is a 502', async () => {
    const stopped = await startTestPlayground()
    const url = stopped.url
    await stopped.proxy.close()
    const status = await new Promise<number>((resolve, reject) => {
      http.get(`${url}events`, (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      }).on('error', reject)
    })
    expect(status).toBe(502)
    await stopped.close({ timeout: 200 })
  })
})
