import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEnv, type Env } from '../../src/env'
import { createEventHub, type EventHub } from '../../src/server'
import {
  eventSourceTransport,
  fetchTransport,
  longPollTransport,
  probe,
  sseCloseTransport,
} from '../../src/transports'
import type { ConnectRequest, Transport, TransportHandle } from '../../src/transports/types'
import { createFetchEventSource } from '../support/fake-event-source'
import { connectRequest, recordSink, type RecordingSink } from './support'

// The transports against the real companion (`resilient-sse/server`): the wire renderings of
// both sides agree on ids, order, the reserved events and gaps.

const cases: Array<{ transport: Transport; env: () => Env; ends: boolean }> = [
  { transport: fetchTransport, env: () => createEnv(), ends: false },
  { transport: sseCloseTransport, env: () => createEnv(), ends: true },
  { transport: longPollTransport, env: () => createEnv(), ends: true },
  {
    transport: eventSourceTransport,
    env: () => createEnv({ EventSource: createFetchEventSource() }),
    ends: false,
  },
]

let hub: EventHub
let server: Server
let base: string
const ids: string[] = []

beforeAll(async () => {
  hub = createEventHub({ minPing: 1 })
  server = createServer((req, res) => void hub.handle(req, res))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`
  for (const data of ['one', 'two', 'drei ü 🌍']) {
    ids.push(await hub.publish({ event: data === 'two' ? 'update' : undefined, data }))
  }
})

afterAll(async () => {
  await hub.close({ timeout: 100 })
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe.each(cases)('$transport.name against the companion', ({ transport, env, ends }) => {
  const run = async (
    overrides: Partial<ConnectRequest>,
    until: (recorder: RecordingSink) => Promise<unknown>,
  ): Promise<RecordingSink> => {
    const recorder = recordSink()
    const handle: TransportHandle = transport.open(
      connectRequest({ url: base, wait: 0, eventTypes: ['update'], ...overrides }),
      recorder.sink,
      env(),
    )
    await until(recorder)
    handle.close()
    return recorder
  }
  const done = (count: number) => (recorder: RecordingSink) =>
    ends ? recorder.settled : waitFor(() => recorder.appMessages().length >= count)

  test('replays everything from earliest, in order, with the ids the hub gave', async () => {
    const recorder = await run({ lastEventId: 'earliest' }, done(3))
    expect(recorder.appMessages().map((m) => [m.type, m.data, m.id])).toEqual([
      ['message', 'one', ids[0]],
      ['update', 'two', ids[1]],
      ['message', 'drei ü 🌍', ids[2]],
    ])
    if (transport.mode !== 'poll') expect(recorder.messages()[0]?.type).toBe('_canary')
    if (ends) {
      expect(recorder.messages().at(-1)?.type).toBe('_end')
      expect(recorder.kinds().at(-1)).toBe('end')
    }
  })

  test('resumes after a cursor', async () => {
    const recorder = await run({ lastEventId: ids[0] }, done(2))
    expect(recorder.appMessages().map((m) => m.id)).toEqual([ids[1], ids[2]])
  })

  test('an unknown cursor is a _gap whose id is where delivery continues (the head)', async () => {
    const recorder = await run({ lastEventId: 'not-an-id' }, (r) =>
      ends ? r.settled : r.nextMessage((m) => m.type === '_gap'),
    )
    const gap = recorder.messages().find((m) => m.type === '_gap')
    expect(gap?.id).toBe(ids[2])
    expect(JSON.parse(gap!.data)).toMatchObject({ reason: 'unknown', head: ids[2] })
    expect(recorder.appMessages()).toEqual([])
  })
})

test('probe recognises the companion', async () => {
  expect(await probe(connectRequest({ url: base }), createEnv())).toBe('companion')
  expect(await probe(connectRequest({ url: base.replace('/events', '/nothing') }), createEnv())).not.toBe(
    'unreachable',
  )
})

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
