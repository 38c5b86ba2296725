import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Playground } from '../../../playground/server/app.mjs'
import { eventually, openStream, requestJson, startTestPlayground } from './helpers'

let playground: Playground

beforeAll(async () => {
  playground = await startTestPlayground({ rate: 5 })
})

afterAll(async () => {
  await playground.close({ timeout: 500 })
})

describe('playground API', () => {
  test('GET /api/state reports mode, rate, seq, hub and proxy counters', async () => {
    const before = playground.publisher.seq
    const { status, headers, json } = await requestJson(playground.url, '/api/state')
    const after = playground.publisher.seq
    expect(status).toBe(200)
    expect(headers.get('content-type')).toMatch(/^application\/json/)
    expect(headers.get('cache-control')).toBe('no-store')
    expect(json).toMatchObject({ mode: 'direct', rate: 5, minRate: 0.2, maxRate: 50 })
    expect(json.modes).toContain('hold-until-close')
    expect(json.seq).toBeGreaterThanOrEqual(before)
    expect(json.seq).toBeLessThanOrEqual(after)
    expect(json.hub.connections).toEqual(expect.objectContaining({ stream: expect.any(Number) }))
    expect(json.proxy.byMode.direct).toEqual(expect.objectContaining({ requests: expect.any(Number) }))
  })

  test('POST /api/network switches the simulated network with its options', async () => {
    const switched = await requestJson(playground.url, '/api/network', {
      body: { mode: 'cut-after', options: { minMs: 2000, maxMs: 6000 } },
    })
    expect(switched.status).toBe(200)
    expect(switched.json).toMatchObject({ mode: 'cut-after', options: { minMs: 2000, maxMs: 6000 } })
    expect(playground.proxy.mode).toBe('cut-after')
    const burst = await requestJson(playground.url, '/api/network', { body: { mode: 'status-burst', options: { burst: null, retryAfter: 2 } } })
    expect(burst.status).toBe(200)
    expect(playground.proxy.options).toEqual({ burst: Infinity, retryAfter: 2 })
    const back = await requestJson(playground.url, '/api/network', { body: { mode: 'direct' } })
    expect(back.json.mode).toBe('direct')
    expect(playground.proxy.mode).toBe('direct')
  })

  test('a switch takes effect for the next request at once and drops open streams', async () => {
    const before = await openStream(`${playground.url}events`)
    await before.waitFor((text) => text.includes('event: _canary'))
    await requestJson(playground.url, '/api/network', { body: { mode: 'status-burst', options: { retryAfter: 3 } } })
    expect((await before.ended).complete).toBe(false)
    const rejected = await fetch(`${playground.url}events`)
    expect(rejected.status).toBe(503)
    expect(rejected.headers.get('retry-after')).toBe('3')
    await rejected.body?.cancel()
    await requestJson(playground.url, '/api/network', { body: { mode: 'direct' } })
    const after = await openStream(`${playground.url}events`)
    expect(after.response.statusCode).toBe(200)
    await after.waitFor((text) => text.includes('event: _canary'))
    after.close()
  })

  test('`reconnect: false` keeps open streams', async () => {
    const stream = await openStream(`${playground.url}events`)
    await stream.waitFor((text) => text.includes('event: _canary'))
    await requestJson(playground.url, '/api/network', { body: { mode: 'slow', reconnect: false } })
    const seqBefore = playground.publisher.seq
    await eventually(() => playground.publisher.seq >= seqBefore + 2, 3000, 'two more events')
    await stream.waitFor((text) => text.includes(`"seq":${seqBefore + 1},`))
    stream.close()
    await requestJson(playground.url, '/api/network', { body: { mode: 'direct' } })
  })

  test('POST /api/rate changes the publish rate', async () => {
    const { status, json } = await requestJson(playground.url, '/api/rate', { body: { rate: 40 } })
    expect(status).toBe(200)
    expect(json.rate).toBe(40)
    expect(playground.publisher.rate).toBe(40)
    const seq = playground.publisher.seq
    await eventually(() => playground.publisher.seq >= seq + 8, 2000, '8 events at 40/s')
    await requestJson(playground.url, '/api/rate', { body: { rate: 5 } })
  })

  test.each([
    ['/api/network', { mode: 'teleport' }, 400, 'invalid-mode'],
    ['/api/network', { mode: 42 }, 400, 'invalid-mode'],
    ['/api/network', { mode: 'cut-after', options: { afterMs: -1 } }, 400, 'invalid-options'],
    ['/api/network', { mode: 'cut-after', options: { explode: 1 } }, 400, 'invalid-options'],
    ['/api/network', { mode: 'hold-until-close', options: { headers: 'later' } }, 400, 'invalid-options'],
    ['/api/network', { mode: 'direct', options: [1] }, 400, 'invalid-options'],
    ['/api/rate', { rate: 0.1 }, 400, 'invalid-rate'],
    ['/api/rate', { rate: 51 }, 400, 'invalid-rate'],
    ['/api/rate', { rate: '5' }, 400, 'invalid-rate'],
    ['/api/rate', 'not json', 400, 'invalid-json'],
    ['/api/rate', 'x'.repeat(9000), 413, 'too-large'],
  ])('POST %s %j → %i %s', async (path, body, status, code) => {
    const response = await requestJson(playground.url, path, { body })
    expect(response.status).toBe(status)
    expect(response.json.error.code).toBe(code)
    expect(playground.proxy.mode).toBe('direct')
    expect(playground.publisher.rate).toBe(5)
  })

  test('wrong method, media type and path', async () => {
    const get = await requestJson(playground.url, '/api/network')
    expect([get.status, get.headers.get('allow'), get.json.error.code]).toEqual([405, 'POST', 'method-not-allowed'])
    const post = await requestJson(playground.url, '/api/state', { body: {} })
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD'])
    const text = await requestJson(playground.url, '/api/rate', { body: '{"rate":5}', contentType: 'text/plain' })
    expect([text.status, text.json.error.code]).toEqual([415, 'unsupported-media-type'])
    const missing = await requestJson(playground.url, '/api/nothing')
    expect([missing.status, missing.json.error.code]).toEqual([404, 'not-found'])
  })
})
