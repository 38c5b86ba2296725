import { afterEach, describe, expect, test, vi } from 'vitest'
import { sequence, startLadderRig, type LadderRig } from '../../support/ladder-rig'
import { record, until } from '../client/helpers'
import { createFakeBrowser } from './fakes'

// The real client with `shared: true` against a real companion hub on loopback; the browser's
// BroadcastChannel and Web Locks are the in-memory fakes, installed as globals (the coordinators
// read them at call time). All "tabs" live in one page here: what is under test is the client's
// tab side together with the coordinator, not page lifecycles.

let rig: LadderRig | undefined
afterEach(async () => {
  vi.unstubAllGlobals()
  await rig?.close()
  rig = undefined
})

function openConnections(hub: LadderRig['hub']): number {
  return Object.values(hub.stats().connections).reduce((sum, n) => sum + n, 0)
}

describe('shared: true through the Web Locks + BroadcastChannel coordinator (real client, real hub)', () => {
  test('three clients, one connection; hand-over when the leader closes; the last one closes it', async () => {
    const page = createFakeBrowser().page()
    vi.stubGlobal('BroadcastChannel', page.BroadcastChannel)
    vi.stubGlobal('navigator', { locks: page.locks, onLine: true })
    rig = await startLadderRig('direct')
    const hub = rig.hub
    const tabs = [record(rig.url, { shared: true }, ['tick'])]
    await until(() => tabs[0]!.opens === 1, 'leader open')
    tabs.push(record(rig.url, { shared: true }, ['tick']), record(rig.url, { shared: true }, ['tick']))
    await until(() => tabs.every((tab) => tab.opens >= 1), 'all open')
    await rig.publish(20, 2)
    await until(() => tabs.every((tab) => tab.messages.length === 20), '20 events everywhere')
    expect(openConnections(hub)).toBe(1)
    for (const tab of tabs) expect(tab.messages.map((m) => m.data)).toEqual(sequence(20))

    tabs[0]!.es.close()
    const publishing = rig.publish(20, 5)
    await until(() => tabs.slice(1).every((tab) => tab.messages.length === 40), '40 events after the hand-over', 10_000)
    await publishing
    for (const tab of tabs.slice(1)) {
      expect(tab.messages.map((m) => m.data)).toEqual(sequence(40))
      expect(tab.es.lastEventId).toBe(tab.messages.at(-1)!.lastEventId)
    }
    expect(openConnections(hub)).toBe(1)
    expect(tabs[0]!.messages).toHaveLength(20)

    tabs[1]!.es.close()
    tabs[2]!.es.close()
    await until(() => openConnections(hub) === 0, 'connection closed with the last client')
  })
})
