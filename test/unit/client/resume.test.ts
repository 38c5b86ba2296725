import { afterEach, describe, expect, test } from 'vitest'
import { ResilientEventSource } from '../../../src/client'
import { sseFrame, startScriptServer, type ScriptServer } from '../../support/sse-script-server'
import { record, SSE, until } from './helpers'

let server: ScriptServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const plain = { transports: ['fetch'] as const, canaryTimeout: false as const }

describe('resume, de-dup and the headers function', () => {
  test('resumes after a drop with the right Last-Event-ID (header and query)', async () => {
    server = await startScriptServer(async (request, reply) => {
      reply.head(200, SSE)
      if (request.index === 0) {
        reply.write(sseFrame({ id: '1', data: 'a' }) + sseFrame({ id: '2', data: 'b' }))
        await reply.wait(30)
        reply.destroy()
        return
      }
      reply.write(sseFrame({ id: '3', data: 'c' }))
      await reply.untilClosed()
    })
    const r = record(`${server.url}/s?topic=x`, plain)
    await until(() => r.messages.length === 3, 'three events')
    expect(r.messages.map((m) => m.data)).toEqual(['a', 'b', 'c'])
    const second = server.requests[1]!
    expect(second.headers['last-event-id']).toBe('2')
    expect(second.query.get('lastEventId')).toBe('2')
    expect(second.query.get('topic')).toBe('x')
    expect(server.requests[0]!.headers['last-event-id']).toBeUndefined()
    expect(server.requests[0]!.query.get('start')).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(second.query.get('start')).toBeNull()
    r.es.close()
  })

  test('the initial lastEventId option is the first cursor', async () => {
    server = await startScriptServer(async (_request, reply) => {
      reply.head(200, SSE)
      await reply.untilClosed()
    })
    const r = record(`${server.url}/s`, { ...plain, lastEventId: '41' })
    await until(() => server!.requests.length === 1, 'request')
    expect(server.requests[0]!.headers['last-event-id']).toBe('41')
    r.es.close()
  })

  test('events replayed by the server after a reconnect are dropped by id', async () => {
    server = await startScriptServer(async (request, reply) => {
      reply.head(200, SSE)
      // A server that ignores Last-Event-ID and replays from the start every time.
      reply.write(sseFrame({ id: '1', data: 'a' }) + sseFrame({ id: '2', data: 'b' }))
      if (request.index === 0) return void reply.end()
      reply.write(sseFrame({ id: '3', data: 'c' }))
      await reply.untilClosed()
    })
    const r = record(`${server.url}/s`, plain)
    await until(() => r.messages.length === 3, 'three unique events')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(r.messages.map((m) => m.data)).toEqual(['a', 'b', 'c'])
    expect(r.es.stats()).toMatchObject({ events: 3, duplicates: 2 })
    r.es.close()
  })

  test('dedupe: false delivers replays again', async () => {
    server = await startScriptServer(async (request, reply) => {
      reply.head(200, SSE)
      reply.write(sseFrame({ id: '1', data: 'a' }))
      if (request.index === 0) return void reply.end()
      await reply.untilClosed()
    })
    const r = record(`${server.url}/s`, { ...plain, dedupe: false })
    await until(() => r.messages.length === 2, 'two deliveries')
    r.es.close()
  })

  test('the de-dup window is bounded: memory stays flat', async () => {
    server = await startScriptServer(async (_request, reply) => {
      reply.head(200, SSE)
      let text = ''
      for (let i = 1; i <= 20; i++) text += sseFrame({ id: String(i), data: String(i) })
      // id 1 again: it fell out of a window of 4, so it is delivered.
      text += sseFrame({ id: '1', data: 'again' }) + sseFrame({ id: '20', data: 'dup' })
      reply.write(text)
      await reply.untilClosed()
    })
    const r = record(`${server.url}/s`, { ...plain, dedupe: 4 })
    await until(() => r.messages.length === 21, '21 events')
    expect(r.messages.at(-1)?.data).toBe('again')
    expect(r.es.stats().duplicates).toBe(1)
    r.es.close()
  })

  test('the headers function is called on every (re)connect', async () => {
    let n = 0
    server = await startScriptServer(async (request, reply) => {
      reply.head(200, SSE)
      reply.write(sseFrame({ id: String(request.index + 1), data: 'x' }))
      if (request.index < 2) return void reply.end()
      await reply.untilClosed()
    })
    const r = record(`${server.url}/s`, { ...plain, headers: () => ({ 'X-Token': `t${++n}` }) })
    await until(() => server!.requests.length === 3, 'three connects')
    expect(server.requests.map((q) => q.headers['x-token'])).toEqual(['t1', 't2', 't3'])
    r.es.close()
  })

  test('a headers function that throws is a typed, retried error', async () => {
    let n = 0
    server = await startScriptServer(async (_request, reply) => {
      reply.head(200, SSE)
      reply.write(sseFrame({ id: '1', data: 'x' }))
      await reply.untilClosed()
    })
    const r = record(`${server.url}/s`, {
      ...plain,
      headers: () => {
        if (++n === 1) throw new Error('token service down')
        return {}
      },
    })
    await until(() => r.messages.length === 1, 'event after retry')
    expect(r.errors.map((e) => e.error.code)).toEqual(['headers'])
    expect((r.errors[0]?.error.cause as Error).message).toBe('token service down')
    r.es.close()
  })

  test('POST with a body (LLM-style streams)', async () => {
    server = await startScriptServer(async (_request, reply) => {
      reply.head(200, SSE)
      reply.write(sseFrame({ data: 'tok1' }) + sseFrame({ data: 'tok2' }))
      reply.end()
    })
    const r = record(`${server.url}/v1/chat`, {
      ...plain,
      method: 'POST',
      body: JSON.stringify({ prompt: 'hi' }),
      headers: { 'Content-Type': 'application/json' },
      retry: false,
    })
    await until(() => r.es.readyState === 2, 'closed after end')
    expect(r.messages.map((m) => m.data)).toEqual(['tok1', 'tok2'])
    expect(server.requests[0]).toMatchObject({ method: 'POST', body: '{"prompt":"hi"}' })
    expect(server.requests[0]!.headers.accept).toBe('text/event-stream')
  })
})

describe('listeners, close, signal, iteration', () => {
  test('a listener that throws never breaks the stream; it is reported as a typed error', async () => {
    server = await startScriptServer(async (_request, reply) => {
      reply.head(200, SSE)
      reply.write(sseFrame({ id: '1', data: 'a' }) + sseFrame({ id: '2', data: 'b' }))
      await reply.untilClosed()
    })
    const r = record(`${server.url}/s`, plain)
    r.es.addEventListener('message', (event) => {
      if (event.data === 'a') throw new Error('app bug')
    })
    await until(() => r.messages.length === 2, 'both events')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(r.errors.map((e) => e.error.code)).toEqual(['listener'])
    expect((r.errors[0]?.error.cause as Error).message).toBe('app bug')
    expect(server.requests).toHaveLength(1)
    expect(r.es.readyState).toBe(1)
    r.es.close()
  })

  test('onmessage / onopen / onerror handlers work like native', async () => {
    server = await startScriptServer(async (_request, reply) => {
      reply.head(200, SSE)
      reply.write(sseFrame({ data: 'x' }))
      await reply.untilClosed()
    })
    const es = new ResilientEventSource(`${server.url}/s`, { ...plain, remember: false })
    const seen: string[] = []
    es.onopen = () => seen.push('open')
    es.onmessage = (event) => seen.push(event.data)
    es.onmessage = (event) => seen.push(`second:${event.data}`)
    await until(() => seen.length === 2, 'open and message')
    expect(seen).toEqual(['open', 'second:x'])
    es.close()
  })

  test('close() during backoff cancels the reconnect', async () => {
    server = await startScriptServer((_request, reply) => void reply.raw.writeHead(500).end())
    const r = record(`${server.url}/s`, { ...plain, env: { random: () => 1 } })
    await until(() => r.errors.length === 1, 'first failure')
    r.es.close()
    await new Promise((resolve) => setTimeout(resolve, 1300))
    expect(server.requests).toHaveLength(1)
    expect(r.es.readyState).toBe(2)
  })

  test('an aborted signal closes the stream and the request', async () => {
    const controller = new AbortController()
    server = await startScriptServer(async (_request, reply) => {
      reply.head(200, SSE)
      reply.write(sseFrame({ id: '1', data: 'a' }))
      await reply.untilClosed()
    })
    const r = record(`${server.url}/s`, { ...plain, signal: controller.signal })
    await until(() => r.messages.length === 1, 'event')
    controller.abort()
    expect(r.es.readyState).toBe(2)
    const outcome = await server.requests[0]!.closed
    expect(outcome.completed).toBe(false)
  })

  test('for await yields every app event in order; break closes the stream', async () => {
    server = await startScriptServer(async (_request, reply) => {
      reply.head(200, SSE)
      for (let i = 1; i <= 5; i++) {
        reply.write(sseFrame({ id: String(i), event: i % 2 ? 'odd' : 'message', data: String(i) }))
        await reply.wait(5)
      }
      await reply.untilClosed()
    })
    const es = new ResilientEventSource(`${server.url}/s`, { ...plain, remember: false })
    const got: string[] = []
    for await (const event of es) {
      got.push(`${event.type}:${event.data}`)
      if (got.length === 5) break
    }
    expect(got).toEqual(['odd:1', 'message:2', 'odd:3', 'message:4', 'odd:5'])
    expect(es.readyState).toBe(2)
  })

  test('two next() calls before any event both resolve, in order; return() closes the stream', async () => {
    server = await startScriptServer(async (_request, reply) => {
      reply.head(200, SSE)
      await reply.wait(20)
      reply.write(sseFrame({ id: '1', data: 'a' }) + sseFrame({ id: '2', data: 'b' }))
      await reply.untilClosed()
    })
    const es = new ResilientEventSource(`${server.url}/s`, { ...plain, remember: false })
    const iterator = es[Symbol.asyncIterator]()
    const [first, second] = await Promise.all([iterator.next(), iterator.next()])
    expect([first.value?.data, second.value?.data]).toEqual(['a', 'b'])
    await iterator.return?.()
    expect(es.readyState).toBe(2)
  })

  test('after iteration threw a fatal error, reconnect() still works (the loop did not close the stream)', async () => {
    server = await startScriptServer((request, reply) => {
      if (request.index === 0) return void reply.raw.writeHead(404).end()
      reply.head(200, SSE)
      reply.write(sseFrame({ id: '1', data: 'back' }))
    })
    const es = new ResilientEventSource(`${server.url}/s`, { ...plain, remember: false })
    await expect(async () => {
      for await (const _event of es) void _event
    }).rejects.toMatchObject({ code: 'http-status', status: 404 })
    const messages: string[] = []
    es.addEventListener('message', (event) => messages.push(event.data))
    es.reconnect()
    await until(() => messages.length === 1, 'event after reconnect')
    expect(messages).toEqual(['back'])
    expect(es.readyState).toBe(1)
    es.close()
  })

  test('iteration throws the StreamError of a stream that fails for good', async () => {
    server = await startScriptServer((_request, reply) => void reply.raw.writeHead(404).end())
    const es = new ResilientEventSource(`${server.url}/s`, { ...plain, remember: false })
    await expect(async () => {
      for await (const _event of es) void _event
    }).rejects.toMatchObject({ code: 'http-status', status: 404 })
  })

  test('an invalid URL throws SyntaxError (caller misuse)', () => {
    expect(() => new ResilientEventSource('http://[::1', {})).toThrow(SyntaxError)
  })
})
