import { afterEach, describe, expect, test } from 'vitest'
import { sseFrame, startScriptServer, type ScriptServer } from '../../support/sse-script-server'
import { record, SSE, until } from './helpers'

let server: ScriptServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const plain = { transports: ['fetch'] as const, canaryTimeout: false as const }

describe('status handling (fetch transport, plain SSE server)', () => {
  test('200 text/event-stream opens and delivers events in order', async () => {
    server = await startScriptServer(async (_request, reply) => {
      reply.head(200, { 'Content-Type': 'Text/Event-Stream; charset=utf-8' })
      reply.write(sseFrame({ id: '1', data: 'a' }) + sseFrame({ id: '2', data: 'b' }))
      reply.write(sseFrame({ event: 'note', id: '3', data: 'c' }))
      await reply.untilClosed()
    })
    const r = record(`${server.url}/s`, plain, ['note'])
    await until(() => r.messages.length === 3, 'three events')
    expect(r.log.slice(0, 4)).toEqual(['transport:fetch:initial', 'open', 'message:a', 'message:b'])
    expect(r.messages).toEqual([
      { type: 'message', data: 'a', lastEventId: '1' },
      { type: 'message', data: 'b', lastEventId: '2' },
      { type: 'note', data: 'c', lastEventId: '3' },
    ])
    expect(r.es.readyState).toBe(1)
    expect(r.es.lastEventId).toBe('3')
    expect(r.es.transport).toBe('fetch')
    r.es.close()
    expect(r.es.readyState).toBe(2)
  })

  test('204 stops for good: one request, readyState CLOSED, typed error', async () => {
    server = await startScriptServer((_request, reply) => void reply.raw.writeHead(204).end())
    const r = record(`${server.url}/s`, plain)
    await until(() => r.es.readyState === 2, 'closed')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(server.requests).toHaveLength(1)
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]?.error).toMatchObject({ name: 'StreamError', code: 'http-status', status: 204, retryable: false })
  })

  test('401 calls the headers function again with refresh, retries once, then fails typed', async () => {
    const calls: boolean[] = []
    server = await startScriptServer((_request, reply) => void reply.raw.writeHead(401).end())
    const r = record(`${server.url}/s`, {
      ...plain,
      headers: ({ refresh }) => {
        calls.push(refresh)
        return { Authorization: `Bearer t${calls.length}` }
      },
    })
    await until(() => r.es.readyState === 2, 'closed')
    expect(calls).toEqual([false, true])
    expect(server.requests.map((q) => q.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2'])
    expect(server.requests.every((q) => !q.url.includes('Bearer'))).toBe(true)
    expect(r.errors.map((e) => [e.error.code, e.error.status])).toEqual([['http-status', 401]])
  })

  test('401 then a refreshed token that works keeps the stream', async () => {
    server = await startScriptServer(async (request, reply) => {
      if (request.headers.authorization !== 'Bearer fresh') return void reply.raw.writeHead(403).end()
      reply.head(200, SSE)
      reply.write(sseFrame({ id: '1', data: 'ok' }))
      await reply.untilClosed()
    })
    const r = record(`${server.url}/s`, {
      ...plain,
      headers: async ({ refresh }) => ({ Authorization: refresh ? 'Bearer fresh' : 'Bearer stale' }),
    })
    await until(() => r.messages.length === 1, 'event after refresh')
    expect(r.errors).toHaveLength(0)
    expect(server.requests).toHaveLength(2)
    r.es.close()
  })

  test.each([
    ['seconds', '1'],
    ['HTTP date', 'date'],
  ])('503 with Retry-After (%s) waits at least that long', async (_name, kind) => {
    let first = 0
    server = await startScriptServer(async (request, reply) => {
      if (request.index === 0) {
        first = Date.now()
        const value = kind === 'date' ? new Date(Date.now() + 2000).toUTCString() : kind
        return void reply.raw.writeHead(503, { 'Retry-After': value }).end()
      }
      reply.head(200, SSE)
      reply.write(sseFrame({ id: '1', data: 'back' }))
      await reply.untilClosed()
    })
    const r = record(`${server.url}/s`, plain)
    await until(() => r.messages.length === 1, 'event after Retry-After', 8000)
    const waited = Date.now() - first
    // HTTP dates have 1 s resolution: the date case waits at least 1 s.
    expect(waited).toBeGreaterThanOrEqual(900)
    expect(r.errors[0]?.error).toMatchObject({ code: 'http-status', status: 503, retryable: true })
    expect(r.errors[0]?.error.retryAfter).toBeGreaterThan(0)
    r.es.close()
  })

  test('429 is retried like 503', async () => {
    server = await startScriptServer(async (request, reply) => {
      if (request.index === 0) return void reply.raw.writeHead(429, { 'Retry-After': '0' }).end()
      reply.head(200, SSE)
      reply.write(sseFrame({ id: '1', data: 'x' }))
      await reply.untilClosed()
    })
    const r = record(`${server.url}/s`, plain)
    await until(() => r.messages.length === 1, 'event')
    expect(r.errors.map((e) => e.error.status)).toEqual([429])
    r.es.close()
  })

  test.each([400, 404, 410])('%i fails for good with a typed error', async (status) => {
    server = await startScriptServer((_request, reply) => void reply.raw.writeHead(status).end())
    const r = record(`${server.url}/s`, plain)
    await until(() => r.es.readyState === 2, 'closed')
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(server.requests).toHaveLength(1)
    expect(r.errors.map((e) => [e.error.code, e.error.status, e.error.retryable])).toEqual([['http-status', status, false]])
  })

  test('5xx backs off and retries until the server recovers', async () => {
    server = await startScriptServer(async (request, reply) => {
      if (request.index < 3) return void reply.raw.writeHead(500).end()
      reply.head(200, SSE)
      reply.write(sseFrame({ id: '9', data: 'up' }))
      await reply.untilClosed()
    })
    const r = record(`${server.url}/s`, plain)
    await until(() => r.messages.length === 1, 'event after 3 failures')
    expect(server.requests).toHaveLength(4)
    expect(r.errors.map((e) => e.error.status)).toEqual([500, 500, 500])
    expect(r.es.stats().reconnects).toBe(3)
    r.es.close()
  })

  test('a wrong Content-Type is a typed error, never a hot loop', async () => {
    server = await startScriptServer((_request, reply) => {
      reply.raw.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>')
    })
    const r = record(`${server.url}/s`, plain)
    await until(() => r.es.readyState === 2, 'closed')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(server.requests).toHaveLength(1)
    expect(r.errors.map((e) => e.error.code)).toEqual(['content-type'])
  })

  test('a wrong Content-Type tries the next rung once', async () => {
    server = await startScriptServer((_request, reply) => {
      reply.raw.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>')
    })
    const r = record(`${server.url}/s`, { transports: ['fetch', 'sse-close'], canaryTimeout: false })
    await until(() => r.es.readyState === 2, 'closed')
    expect(server.requests.map((q) => q.query.get('mode'))).toEqual(['stream', 'close'])
    expect(r.changes.map((c) => `${c.transport}:${c.reason}`)).toEqual(['fetch:initial', 'sse-close:unsupported'])
  })

  test('network errors are retried with the floor delay, not a hot loop', async () => {
    server = await startScriptServer((_request, reply) => reply.destroy())
    const r = record(`${server.url}/s`, { ...plain, retry: { maxAttempts: 3 } })
    await until(() => r.es.readyState === 2, 'gave up after maxAttempts', 8000)
    expect(server.requests).toHaveLength(4)
    expect(r.errors.every((e) => e.error.code === 'network')).toBe(true)
  })
})

describe('reconnect()', () => {
  test('after a fatal 401 the app logs in again and calls reconnect(): the stream resumes', async () => {
    let token = 'old'
    server = await startScriptServer(async (request, reply) => {
      if (request.headers.authorization !== 'Bearer new') return void reply.raw.writeHead(401).end()
      reply.head(200, SSE)
      reply.write(sseFrame({ id: '1', data: 'welcome back' }))
      await reply.untilClosed()
    })
    const r = record(`${server.url}/s`, { ...plain, headers: () => ({ Authorization: `Bearer ${token}` }) })
    await until(() => r.es.readyState === 2, 'gave up after the refresh did not help')
    token = 'new'
    r.es.reconnect()
    await until(() => r.messages.length === 1, 'event after reconnect()')
    expect(r.es.readyState).toBe(1)
    r.es.close()
  })
})
