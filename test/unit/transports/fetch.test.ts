import { describe, expect, test } from 'vitest'
import { createEnv } from '../../../src/env'
import { fetchTransport } from '../../../src/transports/fetch'
import { mergeHeaders } from '../../../src/transports/http'
import {
  contentTypeEssence,
  isRetryableStatus,
  parseRetryAfter,
} from '../../../src/transports/response-status'
import { sseCloseTransport } from '../../../src/transports/sse-close'
import { connectRequest, delay, recordSink } from '../../contract/support'

/** A fetch that records its calls and answers from `respond`. */
function fakeFetch(respond: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: Array<{ url: string; init: RequestInit }> = []
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    calls.push({ url, init })
    return respond(url, init)
  }
  return { fetch, calls }
}

const sse = (body: string | ReadableStream<Uint8Array>, type = 'text/event-stream'): Response =>
  new Response(body, { status: 200, headers: { 'Content-Type': type } })

describe.each([fetchTransport, sseCloseTransport])('$name request details', (transport) => {
  test('builds the fetch init: method, merged headers, cursor, body, credentials, no-store', async () => {
    const { fetch, calls } = fakeFetch(() => sse(''))
    const recorder = recordSink()
    transport.open(
      connectRequest({
        url: 'https://api.example/e',
        method: 'POST',
        body: '{"q":1}',
        headers: { accept: 'text/event-stream, */*', Authorization: 'Bearer x', 'Last-Event-ID': 'app' },
        lastEventId: '4-2',
        withCredentials: true,
      }),
      recorder.sink,
      createEnv({ fetch }),
    )
    await recorder.settled
    const [call] = calls
    expect(call!.url).toBe(`https://api.example/e?mode=${transport.mode}&lastEventId=4-2`)
    expect(call!.init).toMatchObject({
      method: 'POST',
      body: '{"q":1}',
      credentials: 'include',
      cache: 'no-store',
      headers: { accept: 'text/event-stream, */*', Authorization: 'Bearer x', 'Last-Event-ID': '4-2' },
    })
    expect(Object.keys(call!.init.headers as object)).toHaveLength(3)
    expect(call!.init.signal).toBeInstanceOf(AbortSignal)
  })

  test('without credentials: same-origin, and no Last-Event-ID without a cursor', async () => {
    const { fetch, calls } = fakeFetch(() => sse(''))
    const recorder = recordSink()
    transport.open(connectRequest(), recorder.sink, createEnv({ fetch }))
    await recorder.settled
    expect(calls[0]!.init.credentials).toBe('same-origin')
    expect(calls[0]!.init.headers).toEqual({ Accept: 'text/event-stream' })
  })
})

describe('fetchTransport', () => {
  test('reports retry hints, bytes and events in wire order', async () => {
    const body = 'retry: 1500\n\nid: 1\ndata: a\n\n: comment\nretry: x\nevent: t\ndata: b\n\n'
    const { fetch } = fakeFetch(() => sse(body))
    const recorder = recordSink()
    fetchTransport.open(connectRequest(), recorder.sink, createEnv({ fetch }))
    await recorder.settled
    expect(recorder.kinds()).toEqual(['open', 'retry', 'message', 'message', 'end'])
    expect(recorder.calls.find((call) => call.kind === 'retry')).toEqual({ kind: 'retry', ms: 1500 })
    const bytes = recorder.calls.reduce((sum, call) => sum + (call.kind === 'received' ? call.bytes : 0), 0)
    expect(bytes).toBe(new TextEncoder().encode(body).length)
    expect(recorder.messages().map((m) => [m.type, m.data, m.id, m.lastEventId])).toEqual([
      ['message', 'a', '1', '1'],
      ['t', 'b', undefined, '1'],
    ])
  })

  test('an event over maxEventSize is a warning; the stream goes on', async () => {
    const body = `data: ${'x'.repeat(200)}\n\ndata: small\n\n`
    const { fetch } = fakeFetch(() => sse(body))
    const recorder = recordSink()
    fetchTransport.open(connectRequest({ maxEventSize: 100 }), recorder.sink, createEnv({ fetch }))
    expect((await recorder.settled).kind).toBe('end')
    expect(recorder.kinds()).toEqual(['open', 'warning', 'message', 'end'])
    const warning = recorder.calls.find((call) => call.kind === 'warning')
    expect(warning).toMatchObject({ error: { code: 'too-large' } })
    expect(recorder.messages().map((m) => m.data)).toEqual(['small'])
  })

  test('accepts content type parameters and any case', async () => {
    const { fetch } = fakeFetch(() => sse('data: a\n\n', 'Text/Event-Stream ; charset=UTF-8'))
    const recorder = recordSink()
    fetchTransport.open(connectRequest(), recorder.sink, createEnv({ fetch }))
    expect((await recorder.settled).kind).toBe('end')
  })

  test('a missing content type is a content-type error', async () => {
    const { fetch } = fakeFetch(() => new Response('data: a\n\n', { status: 200, headers: {} }))
    const recorder = recordSink()
    fetchTransport.open(connectRequest(), recorder.sink, createEnv({ fetch }))
    expect(await recorder.error()).toMatchObject({ code: 'content-type', retryable: false })
  })

  test('a fetch rejection is a retryable network error with the cause', async () => {
    const cause = new TypeError('Failed to fetch')
    const recorder = recordSink()
    fetchTransport.open(connectRequest(), recorder.sink, createEnv({ fetch: () => Promise.reject(cause) }))
    const error = await recorder.error()
    expect(error).toMatchObject({ code: 'network', retryable: true })
    expect(error.cause).toBe(cause)
  })

  test('missing fetch at open time is an unsupported error, reported asynchronously', async () => {
    const recorder = recordSink()
    fetchTransport.open(connectRequest(), recorder.sink, { ...createEnv(), fetch: () => undefined })
    expect(recorder.calls).toEqual([])
    expect(await recorder.error()).toMatchObject({ code: 'unsupported' })
  })

  test('a GET with a body is unsupported, not a retryable network error', async () => {
    const { fetch, calls } = fakeFetch(() => sse(''))
    const recorder = recordSink()
    fetchTransport.open(connectRequest({ body: 'x' }), recorder.sink, createEnv({ fetch }))
    expect(await recorder.error()).toMatchObject({ code: 'unsupported', retryable: false })
    expect(calls).toEqual([])
  })

  test('open() never calls the sink synchronously, and close() in the same tick sends nothing', async () => {
    const { fetch, calls } = fakeFetch(() => sse('data: a\n\n'))
    const recorder = recordSink()
    const handle = fetchTransport.open(connectRequest(), recorder.sink, createEnv({ fetch }))
    expect(recorder.calls).toEqual([])
    handle.close()
    await delay(10)
    expect(calls).toEqual([])
    expect(recorder.calls).toEqual([])
  })

  test('close() aborts the fetch signal and silences a pending rejection', async () => {
    let signal: AbortSignal | undefined
    const fetch = (_url: string, init: RequestInit): Promise<Response> =>
      new Promise((_resolve, reject) => {
        signal = init.signal ?? undefined
        signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
      })
    const recorder = recordSink()
    const handle = fetchTransport.open(connectRequest(), recorder.sink, createEnv({ fetch }))
    await delay(5)
    handle.close()
    expect(signal?.aborted).toBe(true)
    await delay(10)
    expect(recorder.calls).toEqual([])
  })

  test('a body that errors after some events is a network error after those events', async () => {
    const encoder = new TextEncoder()
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('id: 1\ndata: a\n\nid: 2\nda'))
      },
      // Called once the first chunk was read: the connection breaks off mid-event.
      pull(controller) {
        controller.error(new Error('socket hang up'))
      },
    })
    const { fetch } = fakeFetch(() => sse(body))
    const recorder = recordSink()
    fetchTransport.open(connectRequest(), recorder.sink, createEnv({ fetch }))
    expect(await recorder.error()).toMatchObject({ code: 'network', retryable: true })
    expect(recorder.kinds()).toEqual(['open', 'message', 'error'])
  })

  test('isSupported needs fetch and ReadableStream', () => {
    const env = createEnv({ fetch: async () => new Response('') })
    expect(fetchTransport.isSupported(connectRequest(), env)).toBe(true)
    const saved = globalThis.ReadableStream
    try {
      ;(globalThis as { ReadableStream?: unknown }).ReadableStream = undefined
      expect(fetchTransport.isSupported(connectRequest(), env)).toBe(false)
    } finally {
      globalThis.ReadableStream = saved
    }
  })
})

describe('HTTP helpers', () => {
  test.each([
    ['0', 0],
    ['120', 120_000],
    [' 5 ', 5000],
    ['Wed, 01 Jan 2031 00:00:10 GMT', 10_000],
    ['Wed, 01 Jan 2031 00:00:00 GMT', 0],
    ['Tue, 31 Dec 2030 23:59:00 GMT', 0],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
  ])('Retry-After %j is %j ms', (value, expected) => {
    expect(parseRetryAfter(value, Date.UTC(2031, 0, 1))).toBe(expected)
  })

  test('no Retry-After is undefined', () => {
    expect(parseRetryAfter(null, 0)).toBeUndefined()
  })

  test.each([
    [500, true],
    [502, true],
    [503, true],
    [429, true],
    [408, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
  ])('status %i retryable: %s', (status, retryable) => {
    expect(isRetryableStatus(status)).toBe(retryable)
  })

  test('mergeHeaders: later wins case-insensitively, keeping its spelling', () => {
    expect(mergeHeaders({ Accept: 'a', X: '1' }, { accept: 'b' }, { x: '2', Y: '3' })).toEqual({
      accept: 'b',
      x: '2',
      Y: '3',
    })
  })

  test('contentTypeEssence', () => {
    expect(contentTypeEssence(' Text/Event-Stream;charset=utf-8')).toBe('text/event-stream')
    expect(contentTypeEssence(null)).toBe('')
  })
})
