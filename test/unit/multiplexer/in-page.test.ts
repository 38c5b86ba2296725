import { afterEach, describe, expect, test } from 'vitest'
import { sequence, startLadderRig, type LadderRig } from '../../support/ladder-rig'
import { record, until } from '../client/helpers'

let rig: LadderRig | undefined
afterEach(async () => {
  await rig?.close()
  rig = undefined
})

describe('shared: true where neither SharedWorker nor Web Locks exist (in-page coordinator)', () => {
  test('behaves like an unshared stream: events, transport, open, stats', async () => {
    rig = await startLadderRig('direct')
    const r = record(rig.url, { shared: true }, ['tick'])
    await until(() => r.opens === 1, 'open')
    await rig.publish(20, 2)
    await rig.hub.publish({ event: 'tick', data: 'named' })
    await until(() => r.messages.length === 21, '21 events')
    expect(r.messages.map((m) => m.data)).toEqual([...sequence(20), 'named'])
    expect(r.messages.at(-1)?.type).toBe('tick')
    expect(r.es.transport).toBe('fetch')
    expect(r.changes.map((c) => `${c.transport}:${c.reason}`)).toEqual(['fetch:unsupported'])
    expect(r.es.lastEventId).toMatch(/^\d+-\d+$/)
    expect(r.es.stats()).toMatchObject({ events: 21, duplicates: 0 })
    r.es.close()
    expect(r.es.readyState).toBe(2)
    await until(() => rig!.hub.stats().connections.stream === 0, 'connection closed with the last tab')
  })

  test('steps down behind a buffering proxy like an unshared stream', async () => {
    rig = await startLadderRig('hold-until-close')
    const r = record(rig.url, { shared: true, canaryTimeout: 800 })
    await rig.firstRequest()
    await rig.publish(5, 20)
    await until(() => r.messages.length === 5, '5 events', 8000)
    expect(r.messages.map((m) => m.data)).toEqual(sequence(5))
    expect(r.es.transport).toBe('sse-close')
    r.es.close()
  })
})
