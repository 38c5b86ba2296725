import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { launchChromium, newProfile } from '../support/chromium'
import { assertBuilt } from './support/ladder-app.mjs'
import {
  describeChanges,
  openLadderPage,
  readLog,
  sequence,
  startBrowserLadderRig,
  startStream,
  stopStream,
  waitForLog,
  type BrowserLadderRig,
  type PageLog,
} from './support/ladder-browser'

// The ladder in real Chromium: native EventSource is the top rung here. Page and events share
// one origin, the simulated proxy's, which forwards everything to a server running the companion
// hub (and serving the page and dist/). The proxy starts `direct` so the page loads; each test
// then switches it to the behaviour under test before the stream starts.

let browser: Browser
let rig: BrowserLadderRig | undefined
const profiles: BrowserContext[] = []

beforeAll(async () => {
  assertBuilt()
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
})

afterEach(async () => {
  for (const profile of profiles.splice(0)) await profile.close()
  await rig?.close()
  rig = undefined
})

async function profile(): Promise<BrowserContext> {
  const context = await newProfile(browser)
  profiles.push(context)
  return context
}

/** Options every test uses unless it says otherwise: no remembered verdicts, no jitter surprises. */
const BASE = { remember: false }

function data(log: PageLog): string[] {
  return log.messages.map((m) => m.data)
}

/** Gives stray duplicates a moment to show up before asserting exactly-once. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 150))
}

/** Polls `condition` every 25 ms; fails naming `what` after `timeout` ms. */
async function waitUntil(condition: () => boolean, what: string, timeout: number): Promise<void> {
  const start = Date.now()
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error(`timed out after ${timeout} ms waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/**
 * Waits (up to `timeout` ms) for `count` events, gives stray duplicates a moment, then asserts the
 * page received `"1"`…`String(count)` exactly once, in order; returns that final log.
 */
async function expectEveryEventOnce(page: Page, count: number, timeout?: number): Promise<PageLog> {
  await waitForLog(page, (l) => l.messages.length >= count, `${count} events`, timeout)
  await settle()
  const final = await readLog(page)
  expect(data(final)).toEqual(sequence(count))
  return final
}

/** Events published before and after a step down: `count` events `every` ms apart. */
interface Batch {
  count: number
  every: number
}

/**
 * Once the first request reached the hub, publishes `early` (while the client still waits on the
 * rung the proxy spoils), waits up to `within` ms for the step down to `to`, publishes `late`, and
 * asserts every event arrived once, in order (waiting up to 15 s for them).
 */
async function stepDownThenDeliver(page: Page, early: Batch, to: string, within: number, late: Batch): Promise<PageLog> {
  await rig!.firstRequest()
  await rig!.publish(early.count, early.every)
  await waitForLog(page, (l) => l.transport === to, `step down to ${to}`, within)
  await rig!.publish(late.count, late.every)
  return expectEveryEventOnce(page, early.count + late.count, 15_000)
}

describe('the ladder in Chromium behind simulated intermediaries', () => {
  test('direct: stays on native EventSource; named events and message both delivered once, in order', async () => {
    rig = await startBrowserLadderRig()
    const page = await openLadderPage(await profile(), rig.pageUrl)
    await startStream(page, '/events', BASE, ['tick'])
    await waitForLog(page, (log) => log.opens === 1, 'open')
    await rig.publish(40, 5, (n) => (n % 3 === 0 ? 'tick' : undefined))
    const final = await expectEveryEventOnce(page, 40)
    expect(final.messages.map((m) => m.type)).toEqual(sequence(40).map((n) => (Number(n) % 3 === 0 ? 'tick' : 'message')))
    expect(final.messages.every((m) => m.id !== '')).toBe(true)
    expect(describeChanges(final)).toEqual(['null>eventsource:initial'])
    expect(final.transport).toBe('eventsource')
    expect(final.errors).toEqual([])
  })

  test('direct then cut-after: resumes with Last-Event-ID on eventsource, nothing lost or repeated', async () => {
    rig = await startBrowserLadderRig()
    const page = await openLadderPage(await profile(), rig.pageUrl)
    await startStream(page, '/events', BASE)
    await waitForLog(page, (log) => log.opens === 1, 'open')
    await rig.publish(10, 5)
    await waitForLog(page, (l) => l.messages.length >= 10, '10 events')
    // Every request from now on is cut 400 ms after it arrives, the open stream included once it reconnects.
    rig.app.proxy.setMode('cut-after', { afterMs: 400 })
    rig.app.proxy.disconnectAll()
    await rig.publish(40, 25)
    await waitForLog(page, (l) => l.messages.length >= 50, '50 events', 20_000)
    // The reconnect may replay all 40 before its own 400 ms cut falls: wait for that cut (and the
    // resume after it) before the last events, so a resume across a proxy cut is what is tested.
    await waitUntil(() => rig!.app.proxy.stats().byMode['cut-after'].proxyDestroys > 0, 'a cut by the proxy', 10_000)
    await rig.publish(10, 25)
    const final = await expectEveryEventOnce(page, 60, 20_000)
    // Every reconnect resumed from an id the page had already received (header or query cursor).
    const delivered = new Set(final.messages.map((m) => m.id))
    const resumes = rig.requests.slice(1).filter((r) => r.mode === 'stream')
    expect(resumes.length, JSON.stringify({ requests: rig.requests, stats: rig.app.proxy.stats().byMode, reconnects: final.reconnects })).toBeGreaterThan(0)
    for (const request of resumes) expect(delivered).toContain(request.lastEventIdHeader ?? request.lastEventIdQuery)
    expect(rig.app.proxy.stats().byMode['cut-after'].proxyDestroys).toBeGreaterThan(0)
    expect(final.reconnects).toBeGreaterThan(0)
    expect(final.transport).toBe('eventsource')
    expect(describeChanges(final)).toEqual(['null>eventsource:initial'])
  })

  test('headers option: native EventSource cannot send them → fetch (unsupported)', async () => {
    rig = await startBrowserLadderRig()
    const page = await openLadderPage(await profile(), rig.pageUrl)
    await startStream(page, '/events', { ...BASE, headers: { 'x-token': 'abc' } })
    await waitForLog(page, (log) => log.opens === 1, 'open')
    await rig.publish(20, 5)
    const final = await expectEveryEventOnce(page, 20)
    expect(describeChanges(final)).toEqual(['null>fetch:unsupported'])
    expect(final.transport).toBe('fetch')
  })

  test.each([
    // Headers pass at once (most corporate proxies): the verdict falls 2 s after them.
    ['immediate', 1500, 8000],
    // Headers held with the body: nothing at all arrives, the full 5 s canaryTimeout applies.
    ['held', 4500, 11_000],
  ] as const)(
    'hold-until-close (headers %s), default options: eventsource → sse-close (buffered); early events not lost',
    async (headers, atLeast, below) => {
      rig = await startBrowserLadderRig()
      const page = await openLadderPage(await profile(), rig.pageUrl)
      rig.app.proxy.setMode('hold-until-close', { headers })
      // Truly default options: a fresh profile has no remembered verdict.
      await startStream(page, '/events')
      // Events published while the client is still stuck on the held native stream.
      const final = await stepDownThenDeliver(page, { count: 5, every: 50 }, 'sse-close', 20_000, { count: 20, every: 20 })
      expect(describeChanges(final)).toEqual(['null>eventsource:initial', 'eventsource>sse-close:buffered'])
      // Nothing came through the held native stream; the start token replayed the early events.
      expect(final.messages.every((m) => m.at > final.changes[1]!.at)).toBe(true)
      const stepDown = final.changes[1]!.at - final.startedAt
      expect(stepDown).toBeGreaterThanOrEqual(atLeast)
      expect(stepDown).toBeLessThan(below)
    },
  )

  test('hold-until-bytes 4096: eventsource → sse-close (buffered), every event once', async () => {
    rig = await startBrowserLadderRig()
    const page = await openLadderPage(await profile(), rig.pageUrl)
    rig.app.proxy.setMode('hold-until-bytes', { bytes: 4096 })
    await startStream(page, '/events', { ...BASE, canaryTimeout: 1500 })
    const final = await stepDownThenDeliver(page, { count: 5, every: 50 }, 'sse-close', 15_000, { count: 20, every: 20 })
    expect(describeChanges(final)).toEqual(['null>eventsource:initial', 'eventsource>sse-close:buffered'])
  })

  test('reset-event-stream: both event-stream rungs fail while a poll answers → long-poll', async () => {
    rig = await startBrowserLadderRig()
    const page = await openLadderPage(await profile(), rig.pageUrl)
    rig.app.proxy.setMode('reset-event-stream')
    await startStream(page, '/events', { ...BASE, canaryTimeout: 1500 })
    const final = await stepDownThenDeliver(page, { count: 3, every: 20 }, 'long-poll', 20_000, { count: 17, every: 10 })
    expect(describeChanges(final)).toEqual([
      'null>eventsource:initial',
      'eventsource>sse-close:buffered',
      'sse-close>long-poll:buffered',
    ])
  })

  /** Two 503s, then the path is fine: a short overload or a deploy. */
  async function statusBurst(): Promise<PageLog> {
    rig = await startBrowserLadderRig()
    const page = await openLadderPage(await profile(), rig.pageUrl)
    rig.app.proxy.setMode('status-burst', { status: 503, retryAfter: 1, burst: 2 })
    await startStream(page, '/events', BASE)
    // The rejected requests never reach the hub: the stream starts when one does.
    await rig.firstRequest()
    await waitForLog(page, (l) => l.opens >= 1, 'open after the burst', 15_000)
    await rig.publish(10, 10)
    const final = await expectEveryEventOnce(page, 10, 10_000)
    expect(rig.app.proxy.stats().byMode['status-burst'].rejected).toBe(2)
    // Native EventSource hides the status: the refusal hands over to fetch, which sees the 503.
    expect(final.errors[0]).toMatchObject({ code: 'unsupported', status: null })
    expect(final.errors[0]!.message).toMatch(/refused/)
    expect(final.errors[1]).toMatchObject({ code: 'http-status', status: 503 })
    return final
  }

  test('status-burst: two 503s, then every event once, in order', async () => {
    await statusBurst()
  })

  test('status-burst: a refusal is not buffering: fetch reads the 503, nothing is remembered', async () => {
    const final = await statusBurst()
    expect(describeChanges(final)).toEqual(['null>eventsource:initial', 'eventsource>fetch:unsupported'])
  })

  test('a remembered verdict: a reload starts on sse-close; a fresh profile starts at the top again', async () => {
    rig = await startBrowserLadderRig()
    const first = await profile()
    const page = await openLadderPage(first, rig.pageUrl)
    rig.app.proxy.setMode('hold-until-close')
    await startStream(page, '/events', { canaryTimeout: 1500 })
    await waitForLog(page, (l) => l.transport === 'sse-close', 'step down to sse-close', 15_000)
    await rig.publish(1, 0)
    await waitForLog(page, (l) => l.messages.length === 1, 'first event on sse-close', 15_000)
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }))
    expect(stored).toContain('sse-close')

    await page.reload()
    await page.waitForFunction(() => (window as unknown as { __sdkReady?: boolean }).__sdkReady === true)
    await startStream(page, '/events', { canaryTimeout: 1500 })
    const reloaded = await waitForLog(page, (l) => l.changes.length >= 1, 'a transport after reload')
    expect(describeChanges(reloaded)).toEqual(['null>sse-close:remembered'])
    await stopStream(page)

    const fresh = await openLadderPage(await profile(), rig.pageUrl)
    await startStream(fresh, '/events', { canaryTimeout: 1500 })
    const log = await waitForLog(fresh, (l) => l.changes.length >= 1, 'a transport in a fresh profile')
    expect(log.changes[0]).toMatchObject({ previous: null, transport: 'eventsource', reason: 'initial' })
  })

  test.each(['this page', 'a remembered verdict'] as const)(
    'after a step-down (%s), going offline and online again probes upward: back on eventsource once the path is clean',
    async (origin) => {
      rig = await startBrowserLadderRig()
      const context = await profile()
      let page = await openLadderPage(context, rig.pageUrl)
      rig.app.proxy.setMode('hold-until-close')
      await startStream(page, '/events', { canaryTimeout: 1500 })
      await waitForLog(page, (l) => l.transport === 'sse-close', 'step down to sse-close', 15_000)
      // The verdict is stored once the rung delivered.
      await rig.publish(5, 20)
      await waitForLog(page, (l) => l.messages.length >= 5, '5 events on sse-close', 15_000)
      let first = 1
      if (origin === 'a remembered verdict') {
        await page.close()
        page = await openLadderPage(context, rig.pageUrl)
        await startStream(page, '/events', { canaryTimeout: 1500 })
        const log = await waitForLog(page, (l) => l.changes.length >= 1, 'a transport after reload')
        expect(describeChanges(log)).toEqual(['null>sse-close:remembered'])
        await rig.firstRequest(2)
        await rig.publish(5, 20)
        await waitForLog(page, (l) => l.messages.length >= 5, '5 events on the remembered sse-close', 15_000)
        first = 6
      }
      // The network changes: the buffering proxy is gone.
      rig.app.proxy.setMode('direct')
      await context.setOffline(true)
      await rig.publish(5, 20)
      await context.setOffline(false)
      await waitForLog(page, (l) => l.transport === 'eventsource', 'upgrade to eventsource', 15_000)
      await rig.publish(10, 20)
      const total = first === 1 ? 20 : 25
      await waitForLog(page, (l) => l.messages.length >= total - first + 1, `events ${first}–${total}`, 15_000)
      await settle()
      const final = await readLog(page)
      expect(data(final)).toEqual(sequence(total).slice(first - 1))
      expect(describeChanges(final).at(-1)).toBe('sse-close>eventsource:upgrade')
    },
  )

  test('an upward probe on a path that still buffers steps down again; nothing lost or repeated', async () => {
    rig = await startBrowserLadderRig()
    const context = await profile()
    const page = await openLadderPage(context, rig.pageUrl)
    rig.app.proxy.setMode('hold-until-close')
    await startStream(page, '/events', { ...BASE, canaryTimeout: 1500 })
    await waitForLog(page, (l) => l.transport === 'sse-close', 'step down to sse-close', 15_000)
    await rig.publish(5, 20)
    await waitForLog(page, (l) => l.messages.length >= 5, '5 events on sse-close', 15_000)
    await context.setOffline(true)
    await context.setOffline(false)
    await waitForLog(page, (l) => l.changes.some((c) => c.reason === 'upgrade'), 'an upward probe', 15_000)
    // Published while the probe is held by the proxy.
    await rig.publish(5, 20)
    await waitForLog(page, (l) => l.changes.length >= 4 && l.transport === 'sse-close', 'back on sse-close', 15_000)
    await rig.publish(5, 20)
    const final = await expectEveryEventOnce(page, 15, 15_000)
    expect(describeChanges(final)).toEqual([
      'null>eventsource:initial',
      'eventsource>sse-close:buffered',
      'sse-close>eventsource:upgrade',
      'eventsource>sse-close:buffered',
    ])
  })

  test('chaos: cut-after 200–800 ms (seeded), 150 events at 50/s: exactly once, in order, on eventsource', async () => {
    rig = await startBrowserLadderRig()
    const page = await openLadderPage(await profile(), rig.pageUrl)
    rig.app.proxy.setMode('cut-after', { minMs: 200, maxMs: 800, seed: 11 })
    await startStream(page, '/events', BASE)
    await rig.firstRequest()
    await rig.publish(150, 20)
    const final = await expectEveryEventOnce(page, 150, 30_000)
    expect(final.transport).toBe('eventsource')
    // 3 s of publishing, cuts every 200–800 ms plus the backoff before each reconnect (≤ 1 s at first).
    expect(final.reconnects).toBeGreaterThanOrEqual(2)
    expect(describeChanges(final)).toEqual(['null>eventsource:initial'])
    expect(rig.app.proxy.stats().byMode['cut-after'].proxyDestroys).toBeGreaterThanOrEqual(2)
  })
})
