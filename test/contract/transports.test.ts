import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEnv, type Env } from '../../src/env'
import {
  eventSourceTransport,
  fetchTransport,
  longPollTransport,
  sseCloseTransport,
} from '../../src/transports'
import type { ConnectRequest, Transport } from '../../src/transports/types'
import { createFetchEventSource } from '../support/fake-event-source'
import {
  sseFrame,
  startScriptServer,
  type RecordedRequest,
  type ScriptHandler,
  type ScriptServer,
} from '../support/sse-script-server'
import { connectRequest, delay, recordSink } from './support'

interface AppEvent {
  id: string
  event?: string
  data: string
}

/** How one transport's rendering looks on the wire, and what the transport can observe. */
interface Case {
  transport: Transport
  env(): Env
  /** Bytes of a complete 200 response carrying `events` (and the batch end). */
  body(events: readonly AppEvent[]): string
  contentType: string
  /** Whether it sends `Last-Event-ID` and app headers (native EventSource cannot). */
  sendsHeaders: boolean
  /** Whether it can see HTTP statuses and content types (native EventSource cannot). */
  seesStatus: boolean
  /** Whether events are delivered before the body is complete. */
  streams: boolean
}

const sseBody = (events: readonly AppEvent[]): string =>
  sseFrame({ event: '_canary', data: '{"v":1}' }) +
  events.map((event) => sseFrame(event)).join('') +
  sseFrame({ event: '_end', data: '{"reason":"batch"}' })

const sseCase = (transport: Transport, env: () => Env, native = false): Case => ({
  transport,
  env,
  body: sseBody,
  contentType: 'text/event-stream; charset=utf-8',
  sendsHeaders: !native,
  seesStatus: !native,
  streams: true,
})

const cases: Case[] = [
  sseCase(fetchTransport, () => createEnv()),
  sseCase(sseCloseTransport, () => createEnv()),
  {
    transport: longPollTransport,
    env: () => createEnv(),
    body: (events) =>
      JSON.stringify({ events, lastEventId: events.at(-1)?.id ?? null, gap: null, more: false }),
    contentType: 'application/json',
    sendsHeaders: true,
    seesStatus: true,
    streams: false,
  },
  sseCase(eventSourceTransport, () => createEnv({ EventSource: createFetchEventSource() }), true),
]

const events: AppEvent[] = [
  { id: '1-0', data: 'first' },
  { id: '2-0', event: 'update', data: 'second\nline' },
  { id: '3-0', data: 'third' },
]

describe.each(cases)('$transport.name transport', (c) => {
  let server: ScriptServer
  let handler: ScriptHandler
  beforeAll(async () => {
    server = await startScriptServer((request, reply) => handler(request, reply))
  })
  afterAll(() => server.close())

  const request = (overrides: Partial<ConnectRequest> = {}): ConnectRequest =>
    connectRequest({ url: `${server.url}/events?topic=t1`, eventTypes: ['update'], ...overrides })

  const respond =
    (body: string, status = 200, headers: Record<string, string> = {}): ScriptHandler =>
    (_request, reply) => {
      reply.head(status, { 'Content-Type': c.contentType, ...headers })
      reply.end(body)
    }

  const open = (overrides: Partial<ConnectRequest> = {}) => {
    const recorder = recordSink()
    const before = server.requests.length
    const handle = c.transport.open(request(overrides), recorder.sink, c.env())
    const seen = async (): Promise<RecordedRequest> => {
      while (server.requests.length === before) await delay(5)
      return server.requests[before]!
    }
    return { recorder, handle, seen }
  }

  test('delivers events with ids and types in order, then the batch end and end()', async () => {
    handler = respond(c.body(events))
    const { recorder } = open()
    expect((await recorder.settled).kind).toBe('end')
    expect(recorder.kinds()[0]).toBe('open')
    expect(recorder.appMessages().map((m) => [m.type, m.data, m.id, m.lastEventId])).toEqual([
      ['message', 'first', '1-0', '1-0'],
      ['update', 'second\nline', '2-0', '2-0'],
      ['message', 'third', '3-0', '3-0'],
    ])
    expect(recorder.messages().at(-1)).toMatchObject({ type: '_end', id: undefined })
    expect(recorder.kinds().at(-1)).toBe('end')
  })

  test('sends its mode, the cursor in the query and, where it can, as Last-Event-ID', async () => {
    handler = respond(c.body([]))
    const { recorder, seen } = open({ lastEventId: '7-0' })
    const received = await seen()
    await recorder.settled
    expect(received.query.get('mode')).toBe(c.transport.mode)
    expect(received.query.get('topic')).toBe('t1')
    expect(received.query.get('lastEventId')).toBe('7-0')
    expect(received.headers['last-event-id']).toBe(c.sendsHeaders ? '7-0' : undefined)
  })

  test('sends app headers, never in the URL; native EventSource refuses them', async () => {
    const headers = { Authorization: 'Bearer s3cret', 'X-App': 'yes' }
    const withHeaders = request({ headers, hasCustomHeaders: true })
    expect(c.transport.isSupported(withHeaders, c.env())).toBe(c.sendsHeaders)
    if (!c.sendsHeaders) return
    handler = respond(c.body([]))
    const { recorder, seen } = open({ headers, hasCustomHeaders: true })
    const received = await seen()
    await recorder.settled
    expect(received.headers.authorization).toBe('Bearer s3cret')
    expect(received.headers['x-app']).toBe('yes')
    expect(received.url).not.toMatch(/s3cret|X-App/i)
  })

  test('a 200 with the wrong content type is a content-type error', async () => {
    handler = (_request, reply) => {
      reply.head(200, { 'Content-Type': 'text/html' })
      reply.end('<html>proxy login</html>')
    }
    const { recorder } = open()
    const error = await recorder.error()
    expect(recorder.messages()).toEqual([])
    if (c.seesStatus) expect(error).toMatchObject({ code: 'content-type', retryable: false })
    // Native EventSource hides why it was refused: the next rung (a fetch) finds out.
    else expect(error).toMatchObject({ code: 'unsupported', retryable: true })
  })

  test.each([
    [500, {}, { retryable: true }],
    [503, { 'Retry-After': '7' }, { retryable: true, retryAfter: 7000 }],
    [503, { 'Retry-After': 'HTTP-DATE' }, { retryable: true, retryAfter: 30_000 }],
    [429, { 'Retry-After': '1' }, { retryable: true, retryAfter: 1000 }],
    [408, {}, { retryable: true }],
    [204, {}, { retryable: false }],
    [401, {}, { retryable: false }],
    [403, {}, { retryable: false }],
    [404, {}, { retryable: false }],
  ] as const)('status %i is an http-status error', async (status, headers, expected) => {
    const now = Date.UTC(2030, 0, 1, 12, 0, 0)
    const retryAfter =
      headers['Retry-After' as keyof typeof headers] === 'HTTP-DATE'
        ? { 'Retry-After': new Date(now + 30_000).toUTCString() }
        : headers
    handler = (_request, reply) => {
      reply.head(status, { 'Content-Type': c.contentType, ...retryAfter })
      reply.end(status === 204 ? undefined : 'nope')
    }
    const recorder = recordSink()
    c.transport.open(request(), recorder.sink, { ...c.env(), now: () => now })
    const error = await recorder.error()
    expect(recorder.kinds()).toEqual(['error'])
    if (c.seesStatus) expect(error).toMatchObject({ code: 'http-status', status, ...expected })
    else expect(error).toMatchObject({ code: 'unsupported', retryable: true })
  })

  test('a connection dropped mid-body is a network error after what arrived was delivered', async () => {
    const body = c.body(events)
    handler = async (_request, reply) => {
      reply.head(200, { 'Content-Type': c.contentType })
      // Everything up to the middle of the third event.
      reply.write(body.slice(0, body.indexOf('third') - 2))
      await reply.wait(30)
      reply.destroy()
    }
    const { recorder } = open()
    const error = await recorder.error()
    expect(error).toMatchObject({ code: 'network', retryable: true })
    const ids = recorder.appMessages().map((m) => m.id)
    expect(ids).toEqual(c.streams ? ['1-0', '2-0'] : [])
    expect(recorder.kinds()).toEqual(
      c.streams ? ['open', 'message', 'message', 'message', 'error'] : ['error'],
    )
  })

  test('close() mid-response aborts the request and no sink call follows', async () => {
    handler = async (_request, reply) => {
      if (c.streams) {
        reply.head(200, { 'Content-Type': c.contentType })
        reply.write(sseFrame({ id: '1-0', data: 'first' }))
      }
      await reply.untilClosed()
    }
    const { recorder, handle, seen } = open()
    const received = await seen()
    if (c.streams) await recorder.nextMessage()
    const callsAtClose = recorder.calls.length
    handle.close()
    expect(await received.closed).toEqual({ completed: false })
    await delay(30)
    expect(recorder.calls.length).toBe(callsAtClose)
  })

  test('close() inside a message callback stops the rest of the same chunk', async () => {
    handler = respond(c.body(events))
    const { recorder, handle } = open()
    recorder.onMessage((message) => {
      if (message.id === '1-0') handle.close()
    })
    await recorder.nextMessage((m) => m.id === '1-0')
    await delay(50)
    expect(recorder.appMessages().map((m) => m.id)).toEqual(['1-0'])
    expect(recorder.kinds().filter((kind) => kind === 'end' || kind === 'error')).toEqual([])
  })

  test('characters split across chunks arrive whole', async () => {
    const data = 'héllo 🌍 ✓ 日本'
    const bytes = new TextEncoder().encode(c.body([{ id: '9-0', data }]))
    const emoji = new TextEncoder().encode(data.slice(0, data.indexOf('🌍'))).length
    const start = findBytes(bytes, new TextEncoder().encode(data))
    handler = async (_request, reply) => {
      reply.head(200, { 'Content-Type': c.contentType })
      let at = 0
      // Split inside é, twice inside 🌍 and inside 日.
      for (const cut of [start + 2, start + emoji + 1, start + emoji + 3, bytes.length - 20]) {
        reply.write(bytes.slice(at, cut))
        at = cut
        await reply.wait(5)
      }
      reply.end(bytes.slice(at))
    }
    const { recorder } = open()
    expect((await recorder.settled).kind).toBe('end')
    expect(recorder.appMessages().map((m) => m.data)).toEqual([data])
  })

  test('is unsupported without the platform API it needs', () => {
    const bare = { ...createEnv(), fetch: () => undefined, EventSource: () => undefined }
    expect(c.transport.isSupported(request(), bare)).toBe(false)
    expect(c.transport.isSupported(request(), c.env())).toBe(true)
  })
})

function findBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return i
  }
  throw new Error('needle not found')
}

