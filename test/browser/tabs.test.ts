import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { createEventHub } from '../../src/server/index'
import { launchChromium, newProfile } from '../support/chromium'
import {
  openTab,
  prepareFiles,
  range,
  readTab,
  removeFiles,
  sampleMax,
  startStream,
  startTabsApp,
  until,
  waitForTab,
  type TabLog,
  type TabsApp,
} from './support-tabs/tabs-app.mjs'

// One connection per browser profile in real Chromium: tabs are pages of one context, served
// over plain HTTP/1.1 from loopback, with the companion hub counting open responses.

let browser: Browser
let app: TabsApp | undefined
let files: string
const profiles: BrowserContext[] = []

beforeAll(async () => {
  files = await prepareFiles()
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  if (files) await removeFiles(files)
})

afterEach(async () => {
  for (const profile of profiles.splice(0)) await profile.close()
  await app?.close()
  app = undefined
})

type Mode = 'shared-worker' | 'broadcast'

/** A profile; `broadcast` deletes `window.SharedWorker` before any page script runs. */
async function profile(mode: Mode = 'shared-worker'): Promise<BrowserContext> {
  const context = await newProfile(browser)
  if (mode === 'broadcast') await context.addInitScript(() => void delete (window as { SharedWorker?: unknown }).SharedWorker)
  profiles.push(context)
  return context
}

const SHARED = { remember: false, shared: { workerUrl: '/worker.js' } }

function data(log: TabLog): string[] {
  return log.messages.map((message) => message.data)
}

async function openTabs(context: BrowserContext, count: number, options: Record<string, unknown> = SHARED): Promise<Page[]> {
  const pages: Page[] = []
  // One at a time: each tab has queued for the Web Lock before the next starts, so the lock
  // queue (the order of hand-overs) is the order of the tabs.
  for (let i = 0; i < count; i++) {
    const page = await openTab(context, app!)
    await startStream(page, options)
    await waitForTab(page, (log) => log.opens >= 1, 'open')
    pages.push(page)
  }
  return pages
}

/** Gives stray duplicates a moment to show up before asserting exactly-once. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200))
}

describe.each<Mode>(['shared-worker', 'broadcast'])('shared: one connection for 8 tabs (%s)', (mode) => {
  test('the server holds one stream; every tab gets every event exactly once, in order', async () => {
    app = await startTabsApp(files, createEventHub({}))
    const context = await profile(mode)
    const connections = sampleMax(() => app!.openConnections())
    const tabs = await openTabs(context, 8)
    await app.publish(40, 5)
    for (const tab of tabs) await waitForTab(tab, (log) => log.messages.length >= 40, '40 events')
    await settle()
    connections.stop()
    for (const tab of tabs) expect(data(await readTab(tab))).toEqual(range(1, 40))
    expect(app.openConnections()).toBe(1)
    expect(connections.max).toBe(1)
    expect(app.eventRequests).toHaveLength(1)
    const locks = await tabs[0]!.evaluate(() => (window as unknown as { __locks(): Promise<{ held: number; pending: number }> }).__locks())
    if (mode === 'shared-worker') {
      expect(app.workerFetches()).toBeGreaterThanOrEqual(1)
      expect(locks).toEqual({ held: 0, pending: 0 })
    } else {
      expect(app.workerFetches()).toBe(0)
      // One leader holds the lock, the other seven wait in its queue.
      expect(locks).toEqual({ held: 1, pending: 7 })
    }
    // The last tab leaving closes the connection.
    for (const tab of tabs) await tab.close()
    await until(() => app!.openConnections() === 0, 'connection closed after the last tab')
  })

  test('a tab that opens late receives the events after its own cursor, then live ones', async () => {
    app = await startTabsApp(files, createEventHub({}))
    const context = await profile(mode)
    const [first] = await openTabs(context, 2)
    await app.publish(12, 5)
    const log = await waitForTab(first!, (l) => l.messages.length >= 12, '12 events')
    const cursor = log.messages[3]!.id
    const late = await openTab(context, app)
    await startStream(late, { ...SHARED, lastEventId: cursor })
    await waitForTab(late, (l) => l.messages.length >= 8, 'replay of 5..12')
    await app.publish(4, 5)
    await waitForTab(late, (l) => l.messages.length >= 12, 'live 13..16')
    await settle()
    expect(data(await readTab(late))).toEqual(range(5, 16))
    expect(app.eventRequests).toHaveLength(1)
  })
})

describe('Web Locks leader hand-over (SharedWorker deleted)', () => {
  test('closing the leader tab hands over within 2 s; events published meanwhile arrive exactly once everywhere', async () => {
    app = await startTabsApp(files, createEventHub({}))
    const context = await profile('broadcast')
    const [leader, ...others] = await openTabs(context, 5)
    await app.publish(10, 5)
    for (const tab of others) await waitForTab(tab, (l) => l.messages.length >= 10, '10 events')
    const connections = sampleMax(() => app!.openConnections())
    const publishing = app.publish(60, 10)
    await new Promise((resolve) => setTimeout(resolve, 150))
    const closedAt = Date.now()
    await leader!.close()
    await until(() => app!.eventRequests.length === 2, 'the next leader connects', 2000)
    const handOver = app.eventRequests[1]!.at - closedAt
    await publishing
    for (const tab of others) await waitForTab(tab, (l) => l.messages.length >= 70, '70 events')
    await settle()
    connections.stop()
    for (const tab of others) expect(data(await readTab(tab))).toEqual(range(1, 70))
    expect(handOver).toBeLessThan(2000)
    expect(connections.max).toBeLessThanOrEqual(2)
    expect(app.openConnections()).toBe(1)
    expect(app.eventRequests).toHaveLength(2)
  })

  test('two hand-overs in a row, then the last tab closes the connection', async () => {
    app = await startTabsApp(files, createEventHub({}))
    const context = await profile('broadcast')
    const tabs = await openTabs(context, 3)
    await app.publish(5, 5)
    await tabs[0]!.close()
    await app.publish(5, 5)
    await until(() => app!.eventRequests.length === 2, 'the second tab leads')
    await tabs[1]!.close()
    await app.publish(5, 5)
    await waitForTab(tabs[2]!, (l) => l.messages.length >= 15, '15 events')
    await settle()
    expect(data(await readTab(tabs[2]!))).toEqual(range(1, 15))
    expect(app.eventRequests).toHaveLength(3)
    await tabs[2]!.close()
    await until(() => app!.openConnections() === 0, 'connection closed after the last tab')
  })
})

describe('HTTP/1.1: six connections per host', () => {
  test('shared on: 10 tabs keep receiving and another page of the origin still loads', async () => {
    app = await startTabsApp(files, createEventHub({}))
    const context = await profile('shared-worker')
    const tabs = await openTabs(context, 10)
    await app.publish(10, 5)
    for (const tab of tabs) await waitForTab(tab, (l) => l.messages.length >= 10, '10 events')
    for (const tab of tabs) expect(data(await readTab(tab))).toEqual(range(1, 10))
    const fetched = await tabs[9]!.evaluate(() => (window as unknown as { __fetch(p: string, t: number): Promise<string> }).__fetch('/other', 3000))
    expect(fetched).toBe('ok')
    const locks = await tabs[0]!.evaluate(() => (window as unknown as { __locks(): Promise<{ held: number; pending: number }> }).__locks())
    expect(app.openConnections(), JSON.stringify({ requests: app.eventRequests, locks, worker: app.workerFetches() })).toBe(1)
  })

  test('shared off (the comparison): the 7th tab stalls, and so does another page of the origin', async () => {
    app = await startTabsApp(files, createEventHub({}))
    const context = await profile('shared-worker')
    const tabs: Page[] = []
    for (let i = 0; i < 10; i++) tabs.push(await openTab(context, app))
    for (const tab of tabs.slice(0, 6)) await startStream(tab, { remember: false })
    await until(() => app!.openConnections() === 6, 'six streams open')
    for (const tab of tabs.slice(6)) await startStream(tab, { remember: false })
    await app.publish(10, 5)
    for (const tab of tabs.slice(0, 6)) await waitForTab(tab, (l) => l.messages.length >= 10, '10 events')
    const fetched = await tabs[0]!.evaluate(() => (window as unknown as { __fetch(p: string, t: number): Promise<string> }).__fetch('/other', 1500))
    expect(fetched).toBe('timeout')
    for (const tab of tabs.slice(6)) expect((await readTab(tab)).messages).toHaveLength(0)
    expect(app.openConnections()).toBe(6)
  })
})
