import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { ResilientEventSource } from '../../src/client'
import type { TransportChangeEvent } from '../../src/events'
import { createEventHub, type EventHub } from '../../src/server/index'
import { assertBuilt, startLadderApp } from '../browser/support/ladder-app.mjs'
import { describeChanges, openLadderPage, readLog, sequence, startStream, waitForLog } from '../browser/support/ladder-browser'
import { launchChromium, newProfile } from '../support/chromium'
import { startNginx } from '../support/nginx'

// The companion hub behind a real nginx configured like a misconfigured ingress: buffering on,
// HTTP/1.0 to the upstream, X-Accel-Buffering ignored. nginx holds the body of an open event
// stream until its buffers fill or the upstream ends it, so the `_canary` never arrives on a
// streaming rung. It holds the response head too (measured: no head within 3 s; a lone head is
// smaller than nginx's `postpone_output`, 1460 bytes, so it waits for body bytes): the client
// sees nothing at all, and the verdict takes the full default `canaryTimeout` (5 s), not the
// 2 s that apply once headers arrived (measured: 5.1 s for the Node client and for Chromium).
// The verdict is "buffered" and the ladder settles on `sse-close`: each `mode=close` response
// carries a Content-Length and ends after its batch, and nginx releases a response once it
// ended, so every batch gets through. It never needs `long-poll` here (that rung is for
// intermediaries that break `text/event-stream` itself).

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function hubServer(): Promise<{ hub: EventHub; origin: string }> {
  const hub = createEventHub({ wait: 5 })
  const server: Server = createServer((req, res) => void hub.handle(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => {
    await hub.close({ timeout: 500 })
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { hub, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

async function waitUntil(condition: () => boolean, what: string, timeout: number): Promise<void> {
  const start = Date.now()
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error(`timed out after ${timeout} ms waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

async function publish(hub: EventHub, from: number, count: number, every: number): Promise<void> {
  for (let n = from; n < from + count; n++) {
    await hub.publish({ data: String(n) })
    await new Promise((resolve) => setTimeout(resolve, every))
  }
}

describe('the ladder behind a real nginx that buffers event streams', () => {
  test('Node client, default options: fetch → sse-close (buffered), every event once, in order', async () => {
    const { hub, origin } = await hubServer()
    const nginx = await startNginx({ upstream: origin, config: 'buffering-ignores-header' })
    cleanups.push(() => nginx.close())

    // Node has no EventSource: the default ladder starts on fetch.
    const es = new ResilientEventSource(`${nginx.url}/events`)
    cleanups.push(async () => es.close())
    const received: string[] = []
    const changes: TransportChangeEvent[] = []
    const startedAt = Date.now()
    let steppedAt = 0
    let receivedBeforeStepDown = -1
    es.addEventListener('message', (event) => received.push(event.data))
    es.addEventListener('transportchange', (event) => {
      changes.push(event)
      if (event.transport === 'sse-close') {
        steppedAt = Date.now()
        receivedBeforeStepDown = received.length
      }
    })

    // Publish while the client is still on the held fetch stream: these must not be lost.
    await waitUntil(() => hub.stats().startTokens >= 1, 'the first request reached the hub', 10_000)
    await publish(hub, 1, 5, 50)
    await waitUntil(() => es.transport === 'sse-close', 'step down to sse-close', 15_000)
    await publish(hub, 6, 30, 20)
    await waitUntil(() => received.length >= 35, `35 events (got ${received.length})`, 20_000)
    await new Promise((resolve) => setTimeout(resolve, 150))

    expect(received).toEqual(sequence(35))
    expect(changes.map((c) => `${c.previous}>${c.transport}:${c.reason}`)).toEqual([
      'null>fetch:unsupported',
      'fetch>sse-close:buffered',
    ])
    // The head is held with the body, so the whole 5 s canaryTimeout runs before the verdict.
    expect(steppedAt - startedAt).toBeGreaterThanOrEqual(4500)
    expect(steppedAt - startedAt).toBeLessThan(10_000)
    expect(es.transport).toBe('sse-close')
    // nginx really held the fetch stream: none of the 5 early events came through it; the start
    // token replayed them on sse-close.
    expect(receivedBeforeStepDown).toBe(0)
  })
})

describe('the ladder behind a well-configured nginx', () => {
  test.each(['buffering-honours-header', 'unbuffered'] as const)(
    '%s: the companion’s X-Accel-Buffering: no (or no buffering) keeps the Node client on fetch, events prompt',
    async (config) => {
      const { hub, origin } = await hubServer()
      const nginx = await startNginx({ upstream: origin, config })
      cleanups.push(() => nginx.close())
      const es = new ResilientEventSource(`${nginx.url}/events`)
      cleanups.push(async () => es.close())
      const received: { data: string; at: number }[] = []
      const changes: string[] = []
      es.addEventListener('message', (event) => received.push({ data: event.data, at: Date.now() }))
      es.addEventListener('transportchange', (event) => changes.push(`${event.previous}>${event.transport}:${event.reason}`))
      await waitUntil(() => es.readyState === 1, 'open', 10_000)
      const publishedAt: number[] = []
      for (let n = 1; n <= 30; n++) {
        publishedAt.push(Date.now())
        await hub.publish({ data: String(n) })
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await waitUntil(() => received.length >= 30, `30 events (got ${received.length})`, 10_000)
      // Past the 2 s canary window: no late step-down either.
      await new Promise((resolve) => setTimeout(resolve, 2500))
      expect(received.map((r) => r.data)).toEqual(sequence(30))
      expect(changes).toEqual(['null>fetch:unsupported'])
      expect(es.transport).toBe('fetch')
      // Streamed, not batched: each event well under a second after it was published (loaded CI bound).
      const lags = received.map((r, i) => r.at - publishedAt[i]!)
      expect(Math.max(...lags)).toBeLessThan(1000)
    },
  )
})

describe('Chromium behind the same nginx', () => {
  let browser: Browser
  beforeAll(async () => {
    assertBuilt()
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
  })

  test('native EventSource rung is held → sse-close (buffered), every event once, in order', async () => {
    const hub = createEventHub({ wait: 5 })
    cleanups.push(() => hub.close({ timeout: 500 }))
    // Page, package and hub on one server; nginx in front of it (the app's own simulated proxy is unused).
    const app = await startLadderApp({ handler: (req, res) => hub.handle(req, res) })
    cleanups.push(() => app.close())
    const nginx = await startNginx({ upstream: app.origin, config: 'buffering-ignores-header' })
    cleanups.push(() => nginx.close())
    const profile = await newProfile(browser)
    cleanups.push(() => profile.close())

    const page = await openLadderPage(profile, `${nginx.url}/`)
    await startStream(page, '/events', { remember: false })
    await waitUntil(() => hub.stats().startTokens >= 1, 'the first request reached the hub', 10_000)
    await publish(hub, 1, 5, 50)
    const stepped = await waitForLog(page, (log) => log.transport === 'sse-close', 'step down to sse-close', 15_000)
    // Nothing came through the held native stream.
    expect(stepped.messages.filter((m) => m.at < stepped.changes[1]!.at)).toEqual([])
    await publish(hub, 6, 30, 20)
    await waitForLog(page, (log) => log.messages.length >= 35, '35 events', 20_000)
    await new Promise((resolve) => setTimeout(resolve, 150))
    const log = await readLog(page)
    expect(log.messages.map((m) => m.data)).toEqual(sequence(35))
    expect(describeChanges(log)).toEqual(['null>eventsource:initial', 'eventsource>sse-close:buffered'])
    // nginx holds the head with the body: the full 5 s canaryTimeout runs before the verdict.
    expect(log.changes[1]!.at - log.startedAt).toBeGreaterThanOrEqual(4500)
    expect(log.changes[1]!.at - log.startedAt).toBeLessThan(10_000)
  })

  test('buffering-honours-header: X-Accel-Buffering: no passes, so Chromium stays on native EventSource', async () => {
    const hub = createEventHub({ wait: 5 })
    cleanups.push(() => hub.close({ timeout: 500 }))
    const app = await startLadderApp({ handler: (req, res) => hub.handle(req, res) })
    cleanups.push(() => app.close())
    const nginx = await startNginx({ upstream: app.origin, config: 'buffering-honours-header' })
    cleanups.push(() => nginx.close())
    const profile = await newProfile(browser)
    cleanups.push(() => profile.close())

    const page = await openLadderPage(profile, `${nginx.url}/`)
    await startStream(page, '/events', { remember: false })
    await waitForLog(page, (log) => log.opens === 1, 'open', 10_000)
    await publish(hub, 1, 30, 20)
    await waitForLog(page, (log) => log.messages.length >= 30, '30 events', 10_000)
    // Past the 2 s canary window: no late step-down either.
    await new Promise((resolve) => setTimeout(resolve, 2500))
    const log = await readLog(page)
    expect(log.messages.map((m) => m.data)).toEqual(sequence(30))
    expect(describeChanges(log)).toEqual(['null>eventsource:initial'])
    expect(log.transport).toBe('eventsource')
  })
})
