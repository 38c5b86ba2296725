import { describe, expect, test, vi } from 'vitest'
import { createBroadcastCoordinator } from '../../../src/multiplexer/broadcast'
import { REPLAY_LIMIT, type StreamRunner } from '../../../src/multiplexer/host'
import { PROTOCOL_VERSION } from '../../../src/multiplexer/protocol'
import type { SharedLink } from '../../../src/multiplexer/types'
import { createFakeBrowser, createFakeEngine, flush, range, recordTab, tabRequest, type FakePage, type TabRecord } from './fakes'

interface Tab {
  page: FakePage
  link: SharedLink
  record: TabRecord
  /** The page goes away: channels, locks and the connections it ran. */
  crash(): void
}

function setup() {
  const browser = createFakeBrowser()
  const engine = createFakeEngine()
  const open = (overrides: Parameters<typeof tabRequest>[0] = {}): Tab => {
    const page = browser.page()
    const record = recordTab()
    const owned: SharedLink[] = []
    const run: StreamRunner = (request, sink) => {
      const link = engine.run(request, sink)
      owned.push(link)
      return link
    }
    const coordinator = createBroadcastCoordinator({ BroadcastChannel: page.BroadcastChannel, locks: page.locks, run })
    expect(coordinator.isSupported({})).toBe(true)
    const link = coordinator.connect(tabRequest(overrides), record.sink, {})
    return {
      page,
      link,
      record,
      crash: () => {
        page.crash()
        for (const stream of owned) stream.close()
      },
    }
  }
  return { browser, engine, open }
}

describe('broadcast coordinator (Web Locks leader + BroadcastChannel), in-memory', () => {
  test('is unsupported without BroadcastChannel or Web Locks', () => {
    const page = createFakeBrowser().page()
    vi.stubGlobal('BroadcastChannel', undefined)
    vi.stubGlobal('navigator', undefined)
    try {
      expect(createBroadcastCoordinator({ locks: page.locks }).isSupported({})).toBe(false)
      expect(createBroadcastCoordinator({ BroadcastChannel: page.BroadcastChannel }).isSupported({})).toBe(false)
      expect(createBroadcastCoordinator({ BroadcastChannel: page.BroadcastChannel, locks: page.locks }).isSupported({})).toBe(true)
    } finally {
      vi.unstubAllGlobals()
    }
  })

  test('three tabs: one stream, every tab gets every event once, in order', async () => {
    const { engine, open } = setup()
    const tabs = [open(), open(), open()]
    await flush()
    expect(engine.live()).toHaveLength(1)
    engine.publish(10)
    await flush()
    for (const tab of tabs) {
      expect(tab.record.data).toEqual(range(1, 10))
      expect(tab.record.states.at(-1)).toBe(1)
    }
  })

  test('hand-over when the leader closes: the next tab resumes from its cursor, nothing lost or repeated', async () => {
    const { engine, open, browser } = setup()
    const [leader, ...others] = [open(), open(), open()]
    await flush()
    engine.publish(5)
    await flush()
    expect(browser.holder('resilient-sse@1:test')).toBe(leader!.page)
    leader!.link.close()
    // Published while nobody holds the connection: the new leader's resume fetches them.
    engine.publish(3)
    await flush()
    expect(engine.live()).toHaveLength(1)
    expect(engine.live()[0]!.request.lastEventId).toBe('e5')
    expect(browser.holder('resilient-sse@1:test')).toBe(others[0]!.page)
    engine.publish(4)
    await flush()
    for (const tab of others) expect(tab.record.data).toEqual(range(1, 12))
    expect(leader!.record.data).toEqual(range(1, 5))
  })

  test('hand-over when the leader page crashes mid-stream, twice in a row', async () => {
    const { engine, open } = setup()
    const tabs = [open(), open(), open(), open()]
    await flush()
    engine.publish(3)
    await flush()
    tabs[0]!.crash()
    engine.publish(2)
    await flush()
    engine.publish(2)
    tabs[1]!.crash()
    engine.publish(2)
    await flush()
    engine.publish(1)
    await flush()
    expect(engine.live()).toHaveLength(1)
    for (const tab of tabs.slice(2)) expect(tab.record.data).toEqual(range(1, 10))
  })

  test('a late tab is replayed from its own cursor, then gets live events', async () => {
    const { engine, open } = setup()
    open()
    await flush()
    engine.publish(8)
    await flush()
    const late = open({ lastEventId: 'e3' })
    await flush()
    expect(late.record.data).toEqual(range(4, 8))
    engine.publish(2)
    await flush()
    expect(late.record.data).toEqual(range(4, 10))
    expect(engine.live()).toHaveLength(1)
  })

  test('a tab without a cursor starts at the live edge', async () => {
    const { engine, open } = setup()
    open()
    await flush()
    engine.publish(3)
    await flush()
    const fresh = open()
    await flush()
    engine.publish(2)
    await flush()
    expect(fresh.record.data).toEqual(range(4, 5))
  })

  test('a tab older than the replay buffer catches up on its own stream, then switches to the shared one', async () => {
    const { engine, open } = setup()
    open()
    await flush()
    engine.publish(REPLAY_LIMIT + 10)
    await flush(50)
    const late = open({ lastEventId: 'e2' })
    await flush(50)
    // The catch-up ran from its cursor up to the shared stream's cursor, then closed.
    expect(engine.streams.map((s) => s.request.lastEventId)).toEqual(['', 'e2'])
    expect(engine.live()).toHaveLength(1)
    engine.publish(3)
    await flush()
    expect(late.record.data).toEqual(range(3, REPLAY_LIMIT + 13))
  })

  test('the leader asks its own headers function', async () => {
    const { engine, open } = setup()
    const leader = open({ resolveHeaders: async (refresh) => ({ authorization: refresh ? 'fresh' : 'cached' }) })
    open({ resolveHeaders: async () => ({ authorization: 'follower' }) })
    await flush()
    await expect(engine.live()[0]!.request.resolveHeaders?.(true)).resolves.toEqual({ authorization: 'fresh' })
    leader.link.close()
    await flush()
    await expect(engine.live()[0]!.request.resolveHeaders?.(false)).resolves.toEqual({ authorization: 'follower' })
  })

  test('named types of every tab reach the one stream, also after a hand-over', async () => {
    const { engine, open } = setup()
    const a = open({ eventTypes: ['tick'] })
    const b = open()
    await flush()
    b.link.addEventType('tock')
    await flush()
    expect([...engine.live()[0]!.types]).toEqual(['message', 'tick', 'tock'])
    a.link.close()
    await flush()
    expect(engine.live()[0]!.types.has('tock')).toBe(true)
  })

  test('the last tab leaving closes the connection', async () => {
    const { engine, open } = setup()
    const tabs = [open(), open(), open()]
    await flush()
    tabs[1]!.link.close()
    tabs[0]!.link.close()
    await flush()
    expect(engine.live()).toHaveLength(1)
    tabs[2]!.link.close()
    await flush()
    expect(engine.live()).toHaveLength(0)
    expect(engine.streams).toHaveLength(2)
  })

  test('messages of another protocol version or another stream are ignored', async () => {
    const { engine, open, browser } = setup()
    open()
    const follower = open()
    await flush()
    engine.publish(1)
    await flush()
    const intruder = new (browser.page().BroadcastChannel)('resilient-sse@1:test')
    intruder.postMessage({ v: PROTOCOL_VERSION + 1, key: 'resilient-sse@1:test', kind: 'event', type: 'message', data: 'v2', id: 'x', lastEventId: 'x' })
    intruder.postMessage({ v: PROTOCOL_VERSION, key: 'resilient-sse@1:other', kind: 'event', type: 'message', data: 'other', id: 'y', lastEventId: 'y' })
    intruder.postMessage({ v: PROTOCOL_VERSION + 1, key: 'resilient-sse@1:test', kind: 'join', tab: 'z', lastEventId: '', eventTypes: ['v2'] })
    await flush()
    engine.publish(1)
    await flush()
    expect(follower.record.data).toEqual(['1', '2'])
    expect(engine.live()[0]!.types.has('v2')).toBe(false)
  })
})
