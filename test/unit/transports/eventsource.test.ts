import { beforeEach, describe, expect, test } from 'vitest'
import { createEnv } from '../../../src/env'
import { eventSourceTransport } from '../../../src/transports/eventsource'
import type { ConnectRequest } from '../../../src/transports/types'
import { connectRequest, delay, recordSink } from '../../contract/support'
import { ManualEventSource } from '../../support/fake-event-source'

const env = createEnv({ EventSource: ManualEventSource })

function start(overrides: Partial<ConnectRequest> = {}) {
  const recorder = recordSink()
  const handle = eventSourceTransport.open(
    connectRequest({ url: 'https://api.example/e?topic=a', ...overrides }),
    recorder.sink,
    env,
  )
  return { recorder, handle, source: ManualEventSource.last() }
}

beforeEach(() => ManualEventSource.reset())

describe('eventSourceTransport', () => {
  test('opens the URL with the cursor in the query and withCredentials', () => {
    const { source } = start({ lastEventId: '5-1', withCredentials: true, ping: 10 })
    expect(source.url).toBe('https://api.example/e?topic=a&mode=stream&lastEventId=5-1&ping=10')
    expect(source.withCredentials).toBe(true)
  })

  test('subscribes to message, the reserved events, the app types and later ones', () => {
    const { source, handle, recorder } = start({ eventTypes: new Set(['update', 'message']) })
    expect([...source.listenedTypes]).toEqual([
      'message',
      '_canary',
      '_ping',
      '_gap',
      '_end',
      '_backoff',
      'update',
    ])
    handle.addEventType?.('late')
    handle.addEventType?.('late')
    expect([...source.listenedTypes].at(-1)).toBe('late')
    source.emitOpen()
    source.emitMessage('late', 'x', '1')
    source.emitMessage('unheard', 'y', '2')
    source.emitMessage('late', 'z', '3')
    // Subscribing twice must not deliver twice; an unsubscribed type is not heard.
    expect(recorder.messages().map((m) => [m.data, m.id])).toEqual([
      ['x', '1'],
      ['z', '3'],
    ])
  })

  test('delivers messages; id only when lastEventId is non-empty and changed', async () => {
    const { source, recorder } = start({ eventTypes: ['late'] })
    source.emitOpen()
    source.emitMessage('_canary', '{"v":1}', '')
    source.emitMessage('message', 'a', '1-0')
    source.emitMessage('late', 'b', '1-0')
    source.emitMessage('message', 'c', '2-0')
    source.emitMessage('unheard', 'd', '3-0')
    source.emitMessage('message', 'e', '')
    expect(recorder.kinds()).toEqual(['open', 'message', 'message', 'message', 'message', 'message'])
    expect(recorder.messages().map((m) => [m.type, m.data, m.id, m.lastEventId])).toEqual([
      ['_canary', '{"v":1}', undefined, ''],
      ['message', 'a', '1-0', '1-0'],
      ['late', 'b', undefined, '1-0'],
      ['message', 'c', '2-0', '2-0'],
      ['message', 'e', undefined, ''],
    ])
  })

  test('a refusal before open closes the source and hands over to the next rung (unsupported)', async () => {
    const { source, recorder } = start()
    source.emitError(false)
    expect(source.isClosed).toBe(true)
    const error = await recorder.error()
    expect(error).toMatchObject({ code: 'unsupported', retryable: true })
    expect(error.message).toContain('refused')
    expect(recorder.kinds()).toEqual(['error'])
  })

  test('a connection failure before open (still CONNECTING) says so', async () => {
    const { source, recorder } = start()
    source.emitError(true)
    expect(source.isClosed).toBe(true)
    const error = await recorder.error()
    expect(error).toMatchObject({ code: 'network', retryable: true })
    expect(error.message).toContain('could not connect')
  })

  test('a drop after open closes the source (no native reconnect): network error', async () => {
    const { source, recorder } = start()
    source.emitOpen()
    source.emitMessage('message', 'a', '1')
    source.emitError(true)
    expect(source.isClosed).toBe(true)
    expect(await recorder.error()).toMatchObject({ code: 'network', retryable: true })
    source.emitError(true)
    expect(recorder.kinds()).toEqual(['open', 'message', 'error'])
  })

  test('an end right after _end is a normal end()', async () => {
    const { source, recorder } = start()
    source.emitOpen()
    source.emitMessage('message', 'a', '1')
    source.emitMessage('_end', '{"reason":"rotate"}')
    source.emitError(true)
    expect((await recorder.settled).kind).toBe('end')
    expect(source.isClosed).toBe(true)
    expect(recorder.kinds()).toEqual(['open', 'message', 'message', 'end'])
  })

  test('_end followed by another event, then a drop, is an error', async () => {
    const { source, recorder } = start()
    source.emitOpen()
    source.emitMessage('_end', '{}')
    source.emitMessage('_ping', '{}')
    source.emitError(true)
    expect(await recorder.error()).toMatchObject({ code: 'network' })
  })

  test('server events named error or open are messages, not failures, when subscribed', async () => {
    const { source, recorder } = start({ eventTypes: ['error'] })
    source.emitOpen()
    source.fire(new MessageEvent('error', { data: 'app error', lastEventId: '1' }))
    source.fire(new MessageEvent('open', { data: 'not subscribed', lastEventId: '2' }))
    expect(source.isClosed).toBe(false)
    expect(recorder.kinds()).toEqual(['open', 'message'])
    expect(recorder.messages()[0]).toMatchObject({ type: 'error', data: 'app error', id: '1' })
  })

  test('close() closes the source and silences everything after', async () => {
    const { source, recorder, handle } = start()
    source.emitOpen()
    handle.close()
    expect(source.isClosed).toBe(true)
    source.fire(new MessageEvent('message', { data: 'late', lastEventId: '9' }))
    source.fire(new Event('error'))
    await delay(5)
    expect(recorder.kinds()).toEqual(['open'])
  })

  test('a constructor that throws is reported asynchronously', async () => {
    const throwing = createEnv({
      EventSource: class {
        constructor() {
          throw new SyntaxError('bad URL')
        }
      } as unknown as typeof ManualEventSource,
    })
    const recorder = recordSink()
    eventSourceTransport.open(connectRequest(), recorder.sink, throwing)
    expect(recorder.calls).toEqual([])
    expect(await recorder.error()).toMatchObject({ code: 'network', retryable: false })
  })

  test.each<[string, Partial<ConnectRequest>, boolean]>([
    ['a plain GET', {}, true],
    ['lower-case get', { method: 'get' }, true],
    ['custom headers', { hasCustomHeaders: true, headers: { A: '1' } }, false],
    ['POST', { method: 'POST' }, false],
    ['a body', { body: 'x' }, false],
  ])('isSupported with %s: %s', (_name, overrides, supported) => {
    expect(eventSourceTransport.isSupported(connectRequest(overrides), env)).toBe(supported)
  })

  test('isSupported is false without EventSource', () => {
    expect(eventSourceTransport.isSupported(connectRequest(), { ...env, EventSource: () => undefined })).toBe(
      false,
    )
  })
})
