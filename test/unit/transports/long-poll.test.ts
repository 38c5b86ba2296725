import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEnv } from '../../../src/env'
import { isStreamError } from '../../../src/errors'
import { batchMessages, longPollTransport, probe } from '../../../src/transports/long-poll'
import { parsePollBody } from '../../../src/transports/poll-body'
import { connectRequest, delay, recordSink } from '../../contract/support'
import { startScriptServer, type ScriptHandler, type ScriptServer } from '../../support/sse-script-server'

describe('parsePollBody', () => {
  test('reads a full batch', () => {
    const batch = parsePollBody(
      JSON.stringify({
        events: [
          { id: '1-0', event: 'update', data: 'a' },
          { id: '2-0', event: null, data: '' },
        ],
        lastEventId: '2-0',
        gap: null,
        more: true,
      }),
    )
    expect(batch).toEqual({
      events: [
        { id: '1-0', event: 'update', data: 'a' },
        { id: '2-0', event: undefined, data: '' },
      ],
      lastEventId: '2-0',
      gap: undefined,
      more: true,
    })
  })

  test('defaults: absent lastEventId, gap and more', () => {
    expect(parsePollBody('{"events":[]}')).toEqual({
      events: [],
      lastEventId: undefined,
      gap: undefined,
      more: false,
    })
  })

  test.each([
    ['not JSON', '<html>', 'not valid JSON'],
    ['truncated JSON', '{"events":[', 'not valid JSON'],
    ['an array', '[]', 'at the body'],
    ['null', 'null', 'at the body'],
    ['no events', '{"lastEventId":"1"}', '`events`'],
    ['events not an array', '{"events":{}}', '`events`'],
    ['an event not an object', '{"events":[1]}', 'at events[0]'],
    ['data missing', '{"events":[{"id":"1"}]}', 'events[0].data'],
    ['data a number', '{"events":[{"id":"1","data":5}]}', 'events[0].data'],
    ['id a number', '{"events":[{"id":1,"data":"x"}]}', 'events[0].id'],
    ['event a number', '{"events":[{"data":"x","event":2}]}', 'events[0].event'],
    ['lastEventId a number', '{"events":[],"lastEventId":3}', 'lastEventId'],
    ['gap a string', '{"events":[],"gap":"expired"}', '`gap`'],
    ['more a string', '{"events":[],"more":"yes"}', '`more`'],
  ])('rejects %s with a non-retryable parse error', (_name, text, detail) => {
    let thrown: unknown
    try {
      parsePollBody(text)
    } catch (error) {
      thrown = error
    }
    expect(isStreamError(thrown)).toBe(true)
    expect(thrown).toMatchObject({ code: 'parse', retryable: false })
    expect((thrown as Error).message).toContain(detail)
  })
})

describe('batchMessages', () => {
  test('events keep their ids, default type message, then _end carries more and the cursor', () => {
    const messages = batchMessages(
      {
        events: [
          { id: '1-0', event: undefined, data: 'a' },
          { id: '2-0', event: 'update', data: 'b' },
        ],
        lastEventId: '2-0',
        gap: undefined,
        more: true,
      },
      '0-5',
    )
    expect(messages).toEqual([
      { type: 'message', data: 'a', id: '1-0', lastEventId: '1-0' },
      { type: 'update', data: 'b', id: '2-0', lastEventId: '2-0' },
      { type: '_end', data: '{"reason":"batch","more":true}', id: undefined, lastEventId: '2-0' },
    ])
  })

  test('an empty batch still ends, with the cursor the server gave', () => {
    const messages = batchMessages({ events: [], lastEventId: '9-0', gap: undefined, more: false }, '9-0')
    expect(messages).toEqual([
      { type: '_end', data: '{"reason":"batch","more":false}', id: undefined, lastEventId: '9-0' },
    ])
  })

  test('a gap with no events moves the cursor to where delivery continues', () => {
    const gap = { requested: 'junk', oldest: '5-0', head: '9-0', reason: 'unknown' }
    const [first] = batchMessages({ events: [], lastEventId: '9-0', gap, more: false }, 'junk')
    expect(first).toEqual({ type: '_gap', data: JSON.stringify(gap), id: '9-0', lastEventId: '9-0' })
  })

  test('a gap before events leaves the cursor to the events unless the server names it', () => {
    const gap = { requested: '1-0', oldest: '5-0', head: '9-0', reason: 'expired' }
    const events = [{ id: '5-0', event: undefined, data: 'x' }]
    const [first, second] = batchMessages({ events, lastEventId: '5-0', gap, more: false }, '1-0')
    expect(first).toMatchObject({ type: '_gap', id: undefined, lastEventId: '1-0' })
    expect(JSON.parse(first!.data)).toEqual(gap)
    expect(second).toMatchObject({ id: '5-0' })
    const named = batchMessages({ events, lastEventId: '5-0', gap: { ...gap, cursor: '4-9' }, more: false }, '1-0')
    expect(named[0]).toMatchObject({ type: '_gap', id: '4-9', lastEventId: '4-9' })
  })
})

describe('longPollTransport over HTTP', () => {
  let server: ScriptServer
  let handler: ScriptHandler
  beforeAll(async () => {
    server = await startScriptServer((request, reply) => handler(request, reply))
  })
  afterAll(() => server.close())

  const json = (body: unknown): ScriptHandler => (_request, reply) => {
    reply.head(200, { 'Content-Type': 'application/json; charset=utf-8' })
    reply.end(JSON.stringify(body))
  }

  test('asks for JSON with wait 25 by default, or the request wait', async () => {
    handler = json({ events: [], lastEventId: '1-0', gap: null, more: false })
    const first = recordSink()
    longPollTransport.open(connectRequest({ url: `${server.url}/e` }), first.sink, createEnv())
    await first.settled
    const second = recordSink()
    longPollTransport.open(connectRequest({ url: `${server.url}/e`, wait: 3 }), second.sink, createEnv())
    await second.settled
    const [a, b] = server.requests.slice(-2)
    expect(a!.headers.accept).toBe('application/json')
    expect(a!.query.get('wait')).toBe('25')
    expect(a!.query.get('mode')).toBe('poll')
    expect(b!.query.get('wait')).toBe('3')
  })

  test('a gap arrives first, as a _gap message', async () => {
    const gap = { requested: '1-0', oldest: '5-0', head: '9-0', reason: 'expired' }
    handler = json({ events: [], lastEventId: '9-0', gap, more: false })
    const recorder = recordSink()
    longPollTransport.open(connectRequest({ url: `${server.url}/e`, lastEventId: '1-0' }), recorder.sink, createEnv())
    expect((await recorder.settled).kind).toBe('end')
    expect(recorder.kinds()).toEqual(['open', 'message', 'message', 'end'])
    expect(recorder.messages()[0]).toMatchObject({ type: '_gap', id: '9-0' })
  })

  test('invalid JSON is a parse error and nothing is delivered', async () => {
    handler = (_request, reply) => {
      reply.head(200, { 'Content-Type': 'application/json' })
      reply.end('{"events": [ oops')
    }
    const recorder = recordSink()
    longPollTransport.open(connectRequest({ url: `${server.url}/e` }), recorder.sink, createEnv())
    expect(await recorder.error()).toMatchObject({ code: 'parse', retryable: false })
    expect(recorder.kinds()).toEqual(['error'])
  })

  test('gives up at wait + 10 s with a retryable timeout and aborts the request', async () => {
    handler = async (_request, reply) => {
      await reply.untilClosed()
    }
    const timers: Array<{ ms: number; callback: () => void; cleared: boolean }> = []
    const env = createEnv({
      setTimeout: (callback, ms) => {
        const timer = { ms, callback, cleared: false }
        timers.push(timer)
        return timer
      },
      clearTimeout: (handle) => {
        ;(handle as { cleared: boolean }).cleared = true
      },
    })
    const recorder = recordSink()
    const before = server.requests.length
    longPollTransport.open(connectRequest({ url: `${server.url}/e`, wait: 5 }), recorder.sink, env)
    while (server.requests.length === before) await delay(5)
    expect(timers.map((timer) => timer.ms)).toEqual([15_000])
    timers[0]!.callback()
    expect(await recorder.error()).toMatchObject({ code: 'timeout', retryable: true })
    expect(await server.requests[before]!.closed).toEqual({ completed: false })
  })

  test('a finished poll clears its deadline timer', async () => {
    handler = json({ events: [], lastEventId: '1-0', gap: null, more: false })
    const cleared: unknown[] = []
    const env = createEnv({ clearTimeout: (handle) => cleared.push(handle), setTimeout: () => 'deadline' })
    const recorder = recordSink()
    longPollTransport.open(connectRequest({ url: `${server.url}/e` }), recorder.sink, env)
    await recorder.settled
    expect(cleared).toEqual(['deadline'])
  })
})

describe('probe', () => {
  let server: ScriptServer
  let handler: ScriptHandler
  beforeAll(async () => {
    server = await startScriptServer((request, reply) => handler(request, reply))
  })
  afterAll(() => server.close())

  test('a valid poll batch means a companion answers; it asked with wait=0', async () => {
    handler = (_request, reply) => {
      reply.head(200, { 'Content-Type': 'application/json' })
      reply.end('{"events":[],"lastEventId":"1-0","gap":null,"more":false}')
    }
    const request = connectRequest({ url: `${server.url}/e?topic=a`, wait: 25, headers: { 'X-App': '1' } })
    expect(await probe(request, createEnv())).toBe('companion')
    const seen = server.requests.at(-1)!
    expect(seen.query.get('wait')).toBe('0')
    expect(seen.query.get('mode')).toBe('poll')
    expect(seen.query.get('topic')).toBe('a')
    expect(seen.headers['x-app']).toBe('1')
  })

  test.each([
    ['an HTML page', 200, 'text/html', '<html></html>'],
    ['JSON of another shape', 200, 'application/json', '{"ok":true}'],
    ['a 502 from a proxy', 502, 'text/plain', 'bad gateway'],
  ])('%s means something else answers', async (_name, status, type, body) => {
    handler = (_request, reply) => {
      reply.head(status, { 'Content-Type': type })
      reply.end(body)
    }
    expect(await probe(connectRequest({ url: `${server.url}/e` }), createEnv())).toBe('other')
  })

  test('a refused connection is unreachable', async () => {
    const closed = await startScriptServer(() => {})
    const url = `${closed.url}/e`
    await closed.close()
    expect(await probe(connectRequest({ url }), createEnv())).toBe('unreachable')
  })

  test('no answer within the timeout is unreachable and the request is aborted', async () => {
    handler = async (_request, reply) => {
      await reply.untilClosed()
    }
    const before = server.requests.length
    expect(await probe(connectRequest({ url: `${server.url}/e` }), createEnv(), 100)).toBe('unreachable')
    expect(await server.requests[before]!.closed).toEqual({ completed: false })
  })
})
