import { afterEach, describe, expect, test, vi } from 'vitest'
import { PROTOCOL_VERSION } from '../../../src/multiplexer/protocol'
import { createSharedWorkerCoordinator, WORKER_ACK_TIMEOUT, type MessagePortLike } from '../../../src/multiplexer/shared-worker'
import type { Coordinator, SharedLink, SharedLinkRequest } from '../../../src/multiplexer/types'
import { createWorkerScope, HEADERS_TIMEOUT, HEARTBEAT_INTERVAL, type WorkerScope } from '../../../src/multiplexer/worker-scope'
import { createFakeEngine, createFakeSharedWorkers, createPortPair, flush, range, recordTab, tabRequest, WIRE, type TabRecord } from './fakes'

const SHARED = { workerUrl: '/worker.js' }
let cleanup: (() => void)[] = []

afterEach(() => {
  for (const fn of cleanup.splice(0)) fn()
  vi.useRealTimers()
})

function setup(options: { silent?: boolean; fallback?: Coordinator[] } = {}) {
  const engine = createFakeEngine()
  const workers = createFakeSharedWorkers(engine.run, options)
  cleanup.push(workers.close)
  const coordinator = createSharedWorkerCoordinator({ SharedWorker: workers.SharedWorker, run: engine.run, fallback: options.fallback })
  const links: SharedLink[] = []
  cleanup.push(() => links.forEach((link) => link.close()))
  const open = (overrides: Partial<SharedLinkRequest> = {}): { link: SharedLink; record: TabRecord } => {
    const record = recordTab()
    const link = coordinator.connect(tabRequest(overrides), record.sink, SHARED)
    links.push(link)
    return { link, record }
  }
  return { engine, workers, coordinator, open }
}

/** One worker scope on a fake engine, closed after the test (no coordinator in front). */
function workerScope() {
  const engine = createFakeEngine()
  const scope = createWorkerScope({ run: engine.run })
  cleanup.push(scope.close)
  return { engine, scope }
}

/** The page end of a port pair whose worker end `scope` already serves. */
function portTo(scope: WorkerScope): MessagePortLike {
  const [page, worker] = createPortPair()
  scope.connect(worker)
  return page
}

/** A `join` from tab `tab` as a page posts it to the worker (protocol version `v`). */
function joinMessage(tab: string, hasHeaders: boolean, v = PROTOCOL_VERSION) {
  return { v, key: 'k', kind: 'join', tab, url: 'u', options: hasHeaders ? { ...WIRE, hasHeaders } : WIRE, lastEventId: '', eventTypes: [], hasHeaders }
}

/** A `SharedWorker` constructor whose page port is entangled with a port handed to `onWorkerPort`. */
function sharedWorkerClass(onWorkerPort: (port: MessagePortLike) => void) {
  return class {
    readonly port
    onerror = null
    constructor() {
      const [page, worker] = createPortPair()
      onWorkerPort(worker)
      this.port = page
    }
  }
}

describe('shared-worker coordinator and the worker scope, in-memory', () => {
  test('needs SharedWorker and a workerUrl', () => {
    const { coordinator } = setup()
    expect(coordinator.isSupported(SHARED)).toBe(true)
    expect(coordinator.isSupported({})).toBe(false)
    expect(createSharedWorkerCoordinator().isSupported(SHARED)).toBe(typeof (globalThis as { SharedWorker?: unknown }).SharedWorker === 'function')
  })

  test('five tabs share one worker (named by key) and one stream; every event once, in order', async () => {
    const { engine, workers, open } = setup()
    const tabs = Array.from({ length: 5 }, () => open())
    await flush()
    expect(workers.constructed).toEqual(Array.from({ length: 5 }, () => ({ url: '/worker.js', name: 'resilient-sse@1:test' })))
    expect(engine.live()).toHaveLength(1)
    engine.publish(20)
    await flush()
    for (const tab of tabs) {
      expect(tab.record.data).toEqual(range(1, 20))
      expect(tab.record.states.at(-1)).toBe(1)
    }
  })

  test('a late tab is replayed after its own cursor; a tab older than the buffer catches up by itself', async () => {
    const { engine, open } = setup()
    open()
    await flush()
    engine.publish(6)
    await flush()
    const late = open({ lastEventId: 'e2' })
    await flush()
    expect(late.record.data).toEqual(range(3, 6))
    const unknown = open({ lastEventId: 'e0' })
    await flush()
    // e0 is not in the worker's buffer: a catch-up from e0 (the fake server resends everything).
    expect(engine.streams.map((stream) => stream.request.lastEventId)).toEqual(['', 'e0'])
    expect(engine.live()).toHaveLength(1)
    engine.publish(2)
    await flush()
    expect(late.record.data).toEqual(range(3, 8))
    expect(unknown.record.data).toEqual(range(1, 8))
  })

  test('the last tab leaving closes the stream; a new tab starts a new one', async () => {
    const { engine, open } = setup()
    const tabs = [open(), open(), open()]
    await flush()
    tabs[0]!.link.close()
    tabs[1]!.link.close()
    await flush()
    expect(engine.live()).toHaveLength(1)
    tabs[2]!.link.close()
    await flush()
    expect(engine.live()).toHaveLength(0)
    open()
    await flush()
    expect(engine.live()).toHaveLength(1)
  })

  test('headers are asked from a live tab; a silent tab is skipped after the timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
    const { engine, scope } = workerScope()
    // Tab "mute" joins first but never answers; tab "live" does.
    portTo(scope).postMessage(joinMessage('mute', true))
    const coordinator = createSharedWorkerCoordinator({ SharedWorker: sharedWorkerClass((worker) => scope.connect(worker)), run: engine.run })
    const asked: boolean[] = []
    coordinator.connect(
      tabRequest({ key: 'k', options: { ...WIRE, hasHeaders: true }, resolveHeaders: async (refresh) => (asked.push(refresh), { authorization: 'live' }) }),
      recordTab().sink,
      SHARED,
    )
    await flush()
    const headers = engine.live()[0]!.request.resolveHeaders!(true)
    await vi.advanceTimersByTimeAsync(HEADERS_TIMEOUT + 10)
    await expect(headers).resolves.toEqual({ authorization: 'live' })
    expect(asked).toEqual([true])
    // The silent tab is now asked last: the next connect gets an answer at once.
    const again = engine.live()[0]!.request.resolveHeaders!(false)
    await flush()
    await expect(again).resolves.toEqual({ authorization: 'live' })
    expect(asked).toEqual([true, false])
  })

  test("a tab's headers error is reported as a typed headers error", async () => {
    const { engine, open } = setup()
    open({ options: { ...WIRE, hasHeaders: true }, resolveHeaders: () => Promise.reject(new Error('logged out')) })
    await flush()
    const error = await engine.live()[0]!.request.resolveHeaders!(false).catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'StreamError', code: 'headers', retryable: true })
  })

  test('a tab that stops answering heartbeats is dropped; the stream closes with the last one', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
    const { engine, scope } = workerScope()
    portTo(scope).postMessage(joinMessage('gone', false))
    await flush()
    expect(engine.live()).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(HEARTBEAT_INTERVAL * 2)
    expect(engine.live()).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(HEARTBEAT_INTERVAL * 2)
    expect(engine.live()).toHaveLength(0)
  })

  test('a live tab answers heartbeats and keeps the stream; when dropped anyway it is asked to join again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
    const { engine, open } = setup()
    const tab = open()
    await flush()
    await vi.advanceTimersByTimeAsync(HEARTBEAT_INTERVAL * 6)
    expect(engine.live()).toHaveLength(1)
    engine.publish(2)
    await flush()
    expect(tab.record.data).toEqual(range(1, 2))
  })

  test('a silent worker (no answer within 1 s) sends the tab to the fallback with its cursor', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const connected: SharedLinkRequest[] = []
    const fallback: Coordinator = {
      name: 'in-page',
      isSupported: () => true,
      connect: (request) => (connected.push(request), { close: () => {}, addEventType: () => {} }),
    }
    const { open } = setup({ silent: true, fallback: [fallback] })
    open({ lastEventId: 'e7' })
    await vi.advanceTimersByTimeAsync(WORKER_ACK_TIMEOUT - 50)
    expect(connected).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(100)
    expect(connected.map((request) => request.lastEventId)).toEqual(['e7'])
  })

  test('a worker that answers late takes the tab back from the fallback: one stream again, nothing lost or repeated', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
    const { engine, scope } = workerScope()
    const inPage: Coordinator = { name: 'in-page', isSupported: () => true, connect: (request, sink) => engine.run(request, sink) }
    const coordinator = createSharedWorkerCoordinator({
      // The worker script takes 1.5 s to start.
      SharedWorker: sharedWorkerClass((worker) => setTimeout(() => scope.connect(worker), WORKER_ACK_TIMEOUT + 500)),
      run: engine.run,
      fallback: [inPage],
    })
    const record = recordTab()
    cleanup.push(coordinator.connect(tabRequest(), record.sink, SHARED).close)
    await vi.advanceTimersByTimeAsync(WORKER_ACK_TIMEOUT + 10)
    expect(engine.live()).toHaveLength(1)
    engine.publish(3)
    await flush()
    expect(record.data).toEqual(range(1, 3))
    await vi.advanceTimersByTimeAsync(600)
    engine.publish(2)
    await flush(50)
    engine.publish(1)
    await flush(50)
    expect(record.data).toEqual(range(1, 6))
    expect(engine.live()).toHaveLength(1)
    expect(engine.live()[0]!.request.lastEventId).toBe('')
  })

  test('a worker that answers in time is kept (no fallback)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const connected: SharedLinkRequest[] = []
    const fallback: Coordinator = { name: 'in-page', isSupported: () => true, connect: (r) => (connected.push(r), { close() {}, addEventType() {} }) }
    const { engine, open } = setup({ fallback: [fallback] })
    open()
    await vi.advanceTimersByTimeAsync(WORKER_ACK_TIMEOUT * 3)
    expect(connected).toHaveLength(0)
    expect(engine.live()).toHaveLength(1)
  })

  test('messages of another protocol version are ignored by the worker and by tabs', async () => {
    const { engine, scope } = workerScope()
    const [page, worker] = createPortPair()
    const received: unknown[] = []
    page.onmessage = ({ data }) => void received.push(data)
    page.start!()
    scope.connect(worker)
    page.postMessage(joinMessage('t', false, PROTOCOL_VERSION + 1))
    page.postMessage({ v: PROTOCOL_VERSION + 1, key: 'k', kind: 'alive', tab: 't' })
    await flush()
    expect(engine.streams).toHaveLength(0)
    expect(received).toEqual([])
    // The same heartbeat in version 1 from a tab the worker does not know: asked to join.
    page.postMessage({ v: PROTOCOL_VERSION, key: 'k', kind: 'alive', tab: 't' })
    await flush()
    expect(received).toEqual([{ v: PROTOCOL_VERSION, key: 'k', kind: 'rejoin' }])

    // The tab side: a "worker" speaking version 2 is not heard, version 1 is.
    let workerSide: MessagePortLike | undefined
    let tabId = ''
    const coordinator = createSharedWorkerCoordinator({
      SharedWorker: sharedWorkerClass((workerPort) => {
        workerPort.onmessage = ({ data }) => void (tabId = (data as { tab: string }).tab)
        workerPort.start!()
        workerSide = workerPort
      }),
      fallback: [],
    })
    const record = recordTab()
    cleanup.push(coordinator.connect(tabRequest(), record.sink, SHARED).close)
    await flush()
    const joined = { key: 'resilient-sse@1:test', kind: 'joined', to: tabId, lastEventId: '', behind: false, state: { readyState: 1, transport: 'fetch' } }
    const event = { key: 'resilient-sse@1:test', kind: 'event', to: tabId, type: 'message', data: 'x', id: 'x', lastEventId: 'x' }
    workerSide!.postMessage({ v: PROTOCOL_VERSION + 1, ...joined })
    workerSide!.postMessage({ v: PROTOCOL_VERSION + 1, ...event })
    await flush()
    expect(record.data).toEqual([])
    expect(record.states).toEqual([])
    workerSide!.postMessage({ v: PROTOCOL_VERSION, ...joined })
    workerSide!.postMessage({ v: PROTOCOL_VERSION, ...event })
    await flush()
    expect(record.data).toEqual(['x'])
    expect(record.states).toEqual([1])
  })
})
