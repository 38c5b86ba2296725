import { afterAll, afterEach, describe, expect, test } from 'vitest'
import { sequence, startLadderRig, type LadderRig } from '../support/ladder-rig'
import { record, until } from '../unit/client/helpers'
import type { NetworkMode, NetworkModeOptions } from '../../playground/network/index.mjs'
import type { TransportName } from '../../src/transports/types'

// 300 events at 50 events/s through a hostile intermediary: every event must arrive exactly once,
// in order, whatever the transport. Node has no native EventSource, so the default ladder starts
// on `fetch` here.
const COUNT = 300
const EVERY_MS = 20

interface Row {
  scenario: string
  delivered: number
  reconnects: number
  /** Requests the proxy saw, and how many of them it cut while still open. */
  requests: number
  cuts: number
  transport: string
  maxDelayMs: number
}
const rows: Row[] = []

let rig: LadderRig | undefined
afterEach(async () => {
  await rig?.close()
  rig = undefined
})
afterAll(() => {
  console.log('\nchaos summary (300 events at 50/s)')
  console.table(rows)
})

async function run(
  scenario: string,
  mode: NetworkMode,
  options: NetworkModeOptions,
  transports: TransportName[] | undefined,
): Promise<Row> {
  rig = await startLadderRig(mode, options)
  const r = record(rig.url, { canaryTimeout: 1000, ...(transports ? { transports } : {}) })
  const received = new Map<string, number>()
  r.es.addEventListener('message', (event: MessageEvent<string>) => {
    if (!received.has(event.data)) received.set(event.data, performance.now())
  })
  await rig.firstRequest()
  const sent: number[] = []
  for (let i = 1; i <= COUNT; i++) {
    sent[i] = performance.now()
    await rig.hub.publish({ data: String(i) })
    await new Promise((resolve) => setTimeout(resolve, EVERY_MS))
  }
  await until(() => r.messages.length >= COUNT, `${COUNT} events`, 20_000)
  // Room for a late duplicate to show up.
  await new Promise((resolve) => setTimeout(resolve, 200))
  expect(r.messages.map((m) => m.data)).toEqual(sequence(COUNT))
  let maxDelayMs = 0
  for (let i = 1; i <= COUNT; i++) maxDelayMs = Math.max(maxDelayMs, (received.get(String(i)) ?? Infinity) - sent[i]!)
  const row = {
    scenario,
    delivered: r.messages.length,
    reconnects: r.es.stats().reconnects,
    requests: rig.proxy.stats().totalRequests,
    cuts: rig.proxy.stats().byMode[mode].proxyDestroys,
    transport: String(r.es.transport),
    maxDelayMs: Math.round(maxDelayMs),
  }
  rows.push(row)
  r.es.close()
  return row
}

describe('chaos: seeded cuts every 200–800 ms', () => {
  test.each([
    ['fetch', ['fetch'] as TransportName[]],
    ['sse-close', ['sse-close'] as TransportName[]],
    ['long-poll', ['long-poll'] as TransportName[]],
    ['default ladder', undefined],
  ] as const)('%s: 300 events, exactly once, in order', async (name, transports) => {
    const row = await run(`cut-after 200–800 ms, ${name}`, 'cut-after', { minMs: 200, maxMs: 800, seed: 7 }, transports ? [...transports] : undefined)
    // 6 s of publishing with a cut at most every 800 ms: a long-lived stream must have been cut
    // (and resumed); the per-request rungs re-request anyway, their short requests are rarely cut.
    if (name === 'fetch' || name === 'default ladder') {
      expect(row.reconnects).toBeGreaterThanOrEqual(5)
      expect(row.cuts).toBeGreaterThanOrEqual(5)
    } else expect(row.requests).toBeGreaterThanOrEqual(10)
    expect(row.maxDelayMs).toBeLessThan(5000)
  })
})

describe('chaos: cuts short enough to land inside per-request rungs (5–40 ms)', () => {
  // At 50 events/s a sse-close or long-poll request lives ~20 ms, so 200–800 ms cuts rarely hit
  // one; these do, mid-response.
  test.each([['sse-close'], ['long-poll']] as const)('%s: 300 events, exactly once, in order', async (name) => {
    const row = await run(`cut-after 5–40 ms, ${name}`, 'cut-after', { minMs: 5, maxMs: 40, seed: 11 }, [name])
    expect(row.cuts).toBeGreaterThanOrEqual(10)
    expect(row.maxDelayMs).toBeLessThan(5000)
  })
})

describe('chaos: buffering intermediaries, default ladder', () => {
  test.each([
    ['hold-until-close', {}],
    ['hold-until-bytes', { bytes: 4096 }],
  ] as const)('%s: steps down, 300 events exactly once, in order', async (mode, options) => {
    const row = await run(`${mode}, default ladder`, mode, options, undefined)
    expect(row.transport).toBe('sse-close')
    expect(row.maxDelayMs).toBeLessThan(10_000)
  })
})
