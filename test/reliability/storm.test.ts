import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, describe, expect, test } from 'vitest'
import { ResilientEventSource } from '../../src/client'
import type { ResilientEventSourceOptions } from '../../src/options'
import type { TransportName } from '../../src/transports/types'
import { createEventHub, type EventHub } from '../../src/server/index'
import { until } from '../unit/client/helpers'
import { createSeededRandom } from '../../playground/network/prng.mjs'

// 1,000 clients on one loopback hub, then the hub "restarts": every socket is destroyed at once
// and a fresh hub answers on the same port (the listening socket stays, so no client meets a
// refused connection and the arrivals show the backoff alone). We record when each client's first
// request reaches the new hub and look at the busiest 100 ms window.
const CLIENTS = 1000
const WINDOW_MS = 100

/** The largest number of arrivals in any `WINDOW_MS` window. */
function busiestWindow(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b)
  let best = 0
  let start = 0
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= WINDOW_MS) start++
    best = Math.max(best, end - start + 1)
  }
  return best
}

interface StormRig {
  server: Server
  origin: string
  hub: EventHub
  clients: ResilientEventSource[]
  /** First request time (ms after the cut) of each client at the current hub. */
  arrivals: Map<number, number>
  /** Per client, ms after the cut: its first `error` event, and its first `fetch` call after that. */
  errorAt: Map<number, number>
  dispatchAt: Map<number, number>
  /** Per client, the reconnect delay it chose (the timer it armed right after its `error`). */
  delayOf: Map<number, number>
  /** Swaps in a new hub; returns the old one. */
  swap(): EventHub
  cutAt: number
  close(): Promise<void>
}

async function startStorm(transports: TransportName[], retry: ResilientEventSourceOptions['retry']): Promise<StormRig> {
  let hub = createEventHub({ wait: 10 })
  const arrivals = new Map<number, number>()
  const rig: StormRig = {
    server: undefined as unknown as Server,
    origin: '',
    get hub() {
      return hub
    },
    clients: [],
    arrivals,
    errorAt: new Map(),
    dispatchAt: new Map(),
    delayOf: new Map(),
    cutAt: 0,
    swap() {
      const old = hub
      hub = createEventHub({ wait: 10 })
      arrivals.clear()
      rig.errorAt.clear()
      rig.dispatchAt.clear()
      rig.delayOf.clear()
      rig.cutAt = performance.now()
      return old
    },
    async close() {
      for (const client of rig.clients) client.close()
      await hub.close({ timeout: 0 })
      rig.server.closeAllConnections()
      await new Promise<void>((resolve) => rig.server.close(() => resolve()))
    },
  }
  rig.server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const id = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('c'))
    if (!arrivals.has(id)) arrivals.set(id, performance.now() - rig.cutAt)
    void hub.handle(req, res)
  })
  rig.server.maxConnections = CLIENTS * 3
  await new Promise<void>((resolve) => rig.server.listen(0, '127.0.0.1', 2048, resolve))
  rig.origin = `http://127.0.0.1:${(rig.server.address() as AddressInfo).port}`
  let opens = 0
  for (let i = 0; i < CLIENTS; i++) {
    // The client dispatches `error` and then arms its retry timer: the first timer after the
    // error is the reconnect delay it chose.
    let afterError = false
    const es = new ResilientEventSource(`${rig.origin}/events?c=${i}`, {
      remember: false,
      transports,
      retry,
      env: {
        random: createSeededRandom(1000 + i),
        setTimeout: (callback, ms) => {
          if (afterError) {
            afterError = false
            rig.delayOf.set(i, ms)
          }
          return setTimeout(callback, ms)
        },
        clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      },
      // Global fetch, wrapped to see when the client decides to reconnect.
      fetch: (input, init) => {
        if (rig.cutAt > 0 && !rig.dispatchAt.has(i)) rig.dispatchAt.set(i, performance.now() - rig.cutAt)
        return globalThis.fetch(input, init)
      },
    })
    es.addEventListener('open', () => void (opens += 1), { once: true })
    es.addEventListener('error', () => {
      if (rig.cutAt > 0 && !rig.errorAt.has(i)) {
        rig.errorAt.set(i, performance.now() - rig.cutAt)
        afterError = true
      }
    })
    rig.clients.push(es)
  }
  await until(() => opens === CLIENTS, `${CLIENTS} clients open`, 30_000)
  // Cut only when every client has a request held by the hub (a long-poll client is between a
  // response and its next request for a moment), so every client sees the cut.
  const mode = transports[0] === 'long-poll' ? 'poll' : 'stream'
  await until(() => hub.stats().connections[mode] === CLIENTS, `${CLIENTS} held ${mode} requests`, 30_000)
  return rig
}

interface Row {
  scenario: string
  back: number
  /** Busiest 100 ms window of server arrivals (absolute; one event loop serves all clients). */
  arrivals100ms: string
  /** Busiest 100 ms window of the delays the clients chose (what hits a server when every client sees the cut at once). */
  chosen100ms: string
  /** Busiest 100 ms window of the planned reconnect moments (error seen + chosen delay). */
  planned100ms: string
  /** Busiest 100 ms window of the moments the clients called fetch again (event-loop bound). */
  dispatched100ms: string
  /** Spread of the moments the clients saw the cut (event-loop artefact of a single process). */
  detectSpreadMs: number
  firstMs: number
  lastMs: number
}
const rows: Row[] = []
afterAll(() => {
  console.log(`\nreconnect storm (${CLIENTS} clients, ms after the cut)`)
  console.table(rows)
})

let rig: StormRig | undefined
afterEach(async () => {
  await rig?.close()
  rig = undefined
})

const pct = (n: number): string => `${((100 * n) / CLIENTS).toFixed(1)} %`

/** Summarises the storm; returns the busiest windows as fractions. */
function summarise(scenario: string, storm: StormRig): { arrivals: number; chosen: number; planned: number; times: number[] } {
  const times = [...storm.arrivals.values()]
  const chosen = [...storm.delayOf.values()]
  const planned = [...storm.delayOf].map(([i, ms]) => ms + (storm.errorAt.get(i) ?? 0))
  const errors = [...storm.errorAt.values()]
  const row: Row = {
    scenario,
    back: times.length,
    arrivals100ms: pct(busiestWindow(times)),
    chosen100ms: pct(busiestWindow(chosen)),
    planned100ms: pct(busiestWindow(planned)),
    dispatched100ms: pct(busiestWindow([...storm.dispatchAt.values()])),
    detectSpreadMs: errors.length ? Math.round(Math.max(...errors) - Math.min(...errors)) : -1,
    firstMs: Math.round(Math.min(...times)),
    lastMs: Math.round(Math.max(...times)),
  }
  rows.push(row)
  return { arrivals: busiestWindow(times) / CLIENTS, chosen: busiestWindow(chosen) / CLIENTS, planned: busiestWindow(planned) / CLIENTS, times }
}

async function restart(storm: StormRig): Promise<void> {
  const old = storm.swap()
  storm.server.closeAllConnections()
  void old.close({ timeout: 0 })
  await until(() => storm.arrivals.size === CLIENTS, 'every client back', 25_000)
}

const retries = [
  ['default backoff', undefined, 0.2],
  ['retry { initialDelay: 3000 }', { initialDelay: 3000 }, 0.1],
] as const

describe.each([['fetch'], ['long-poll']] as const)('reconnect storm, %s transport', (transport) => {
  test.each(retries)('hub restart, %s: no 100 ms window holds more than the bound', async (name, retry, bound) => {
    rig = await startStorm([transport], retry)
    await restart(rig)
    const { arrivals, chosen, planned } = summarise(`${transport}, restart, ${name}`, rig)
    expect(rig.errorAt.size).toBe(CLIENTS)
    expect(rig.delayOf.size).toBe(CLIENTS)
    expect(chosen).toBeLessThanOrEqual(bound)
    expect(planned).toBeLessThanOrEqual(bound)
    // Measured at the server (one event loop serves all 2,000 sockets) the herd stays spread too.
    expect(arrivals).toBeLessThanOrEqual(bound + 0.15)
  })

  test('hub restart, fixed 3 s retry (native EventSource): the whole herd in one window', async () => {
    rig = await startStorm([transport], () => 3000)
    await restart(rig)
    const { chosen, planned, times } = summarise(`${transport}, restart, fixed 3000 ms`, rig)
    expect(rig.delayOf.size).toBe(CLIENTS)
    expect(chosen).toBe(1)
    // Everyone saw the cut within ~100–200 ms (one process, 1,000 sockets), so the planned moments
    // crowd one or two windows; the server then takes them as fast as one event loop can.
    expect(planned).toBeGreaterThanOrEqual(0.4)
    expect(Math.min(...times)).toBeGreaterThanOrEqual(2900)
  })
})

describe('drain: hub.close({ spread: 5000 })', () => {
  test('fetch streams get _end drain spread over 5 s and reconnect at once: arrivals follow the spread', async () => {
    rig = await startStorm(['fetch'], undefined)
    const old = rig.swap()
    const drained = old.close({ spread: 5000, timeout: 1000 })
    await until(() => rig!.arrivals.size === CLIENTS, 'every client back', 20_000)
    await drained
    const { arrivals, times } = summarise('fetch, drain spread 5000 ms', rig)
    // Uniform over 5 s is ~2 % per 100 ms; timer batching in one busy process lumps a little.
    expect(arrivals).toBeLessThanOrEqual(0.1)
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(4500)
    // The last drain frame leaves at ≤ 5 s; 1 s of slack for a loaded 2-core event loop.
    expect(Math.max(...times)).toBeLessThan(6000)
    // Each second of the spread holds roughly a fifth of the clients.
    for (let s = 0; s < 5; s++) {
      const inSecond = times.filter((t) => t >= s * 1000 && t < (s + 1) * 1000).length
      expect(inSecond / CLIENTS).toBeGreaterThan(0.14)
      expect(inSecond / CLIENTS).toBeLessThan(0.26)
    }
  })
})
