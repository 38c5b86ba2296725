import { randomUUID } from 'node:crypto'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { createNetworkProxy, type NetworkProxy } from '../../playground/network/index.mjs'
import { createEventHub, type EventHub } from '../../src/server/index'
import { launchChromium, newProfile } from '../support/chromium'
import { removeSnapshot, snapshotDist, startSecurityApp, type LoggedRequest, type SecurityApp } from './support-security/security-app'

// Credentials and cross-tab sharing in a real Chromium: no token in a URL or in anything the
// origin persists; the SDK's channel, lock and worker names are origin-scoped (a second origin
// using the same stream URL and the same names gets its own connection and hears nothing of the
// first); an unknown origin is refused by the companion's CORS allow-list. The strict-CSP run of
// the IIFE with `dist/worker.js` is in the last block.

/** What `window.__log` of security-page.js holds. */
interface PageLog {
  messages: { type: string; data: string; id: string }[]
  opens: number
  errors: { code: string | null; status: number | null; message: string }[]
  transport: string | null
  headerCalls: boolean[]
}
interface PageNames {
  broadcast: string[]
  locks: string[]
  workers: { url: string; name: string }[]
}
interface PageStorage {
  local: Record<string, string>
  session: Record<string, string>
  cookie: string
  indexedDB: string[]
  caches: string[]
}
type Shared = boolean | { workerUrl: string }

// The SDK key form, `resilient-sse@<major>:<hash>`; the hash encoding is the SDK's own business.
const KEY_PATTERN = /^resilient-sse@\d+:[0-9a-z]{4,}$/

let browser: Browser
let dir: string
const cleanups: (() => Promise<unknown>)[] = []

beforeAll(async () => {
  dir = await snapshotDist()
  browser = await launchChromium()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
})
afterAll(async () => {
  await browser?.close()
  if (dir) await removeSnapshot(dir)
})

function secret(label: string): string {
  return `${label}-${randomUUID()}`
}

/** The secrets (or their random part) found in `text`, raw or percent-decoded. */
function leaked(text: string, secrets: readonly string[]): string[] {
  let decoded = text
  try {
    decoded = decodeURIComponent(text)
  } catch {
    // keep the raw text
  }
  return secrets.filter((value) => {
    const random = value.slice(value.indexOf('-') + 1)
    return [value, random, Buffer.from(value).toString('base64')].some((form) => text.includes(form) || decoded.includes(form))
  })
}

function expectNoSecretInUrls(log: readonly LoggedRequest[], secrets: readonly string[]): void {
  expect(log.length).toBeGreaterThan(0)
  expect(log.flatMap((entry) => leaked(entry.url, secrets).map((value) => `${value} in ${entry.url}`))).toEqual([])
}

async function profile(): Promise<BrowserContext> {
  const context = await newProfile(browser)
  cleanups.push(() => context.close())
  return context
}

async function openTab(context: BrowserContext, origin: string): Promise<Page> {
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(String(error)))
  await page.goto(`${origin}/`)
  await page.waitForFunction(() => (window as unknown as { __sdkReady?: boolean }).__sdkReady === true, undefined, { timeout: 15_000 }).catch((error: unknown) => {
    throw new Error(`the page at ${origin} did not load the SDK: ${String(error)} ${problems.join('; ')}`)
  })
  return page
}

function start(page: Page, url: string, token: string | null, shared: Shared, canaryTimeout?: number): Promise<void> {
  return page.evaluate(
    ([u, o]) => (window as unknown as { __start(url: string, options: unknown): void }).__start(u, o),
    [url, { token, shared, canaryTimeout }] as const,
  )
}

const readLog = (page: Page): Promise<PageLog> => page.evaluate(() => (window as unknown as { __log: PageLog }).__log)
const readNames = (page: Page): Promise<PageNames> => page.evaluate(() => (window as unknown as { __names: PageNames }).__names)
const readStorage = (page: Page): Promise<PageStorage> => page.evaluate(() => (window as unknown as { __storage(): Promise<PageStorage> }).__storage())
const readLocks = (page: Page): Promise<{ held: string[]; pending: string[] }> =>
  page.evaluate(() => (window as unknown as { __locks(): Promise<{ held: string[]; pending: string[] }> }).__locks())
const readPosted = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { __posted: string[] }).__posted)
const readHeard = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { __heard: string[] }).__heard)

async function waitForLog(page: Page, condition: (log: PageLog) => boolean, what: string, timeout = 15_000): Promise<PageLog> {
  const started = Date.now()
  for (;;) {
    const log = await readLog(page)
    if (condition(log)) return log
    if (Date.now() - started > timeout) {
      throw new Error(`timed out after ${timeout} ms waiting for: ${what} (messages ${JSON.stringify(log.messages.map((m) => m.data))}, errors ${JSON.stringify(log.errors)}, transport ${log.transport})`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

async function until(condition: () => boolean, what: string, timeout = 10_000): Promise<void> {
  const started = Date.now()
  while (!condition()) {
    if (Date.now() - started > timeout) throw new Error(`timed out after ${timeout} ms waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function hubFor(options: Parameters<typeof createEventHub>[0] = {}): EventHub {
  const hub = createEventHub({ wait: 2, ...options })
  cleanups.push(() => hub.close({ spread: 0, timeout: 100 }))
  return hub
}

async function app(events: Parameters<typeof startSecurityApp>[1]): Promise<SecurityApp> {
  const started = await startSecurityApp(dir, events)
  cleanups.push(() => started.close())
  return started
}

const streamConnections = (hub: EventHub): number => Object.values(hub.stats().connections).reduce((sum, n) => sum + n, 0)

/** Asserts nothing the origin persisted holds a secret; returns the dump for further checks. */
async function expectCleanStorage(page: Page, secrets: readonly string[]): Promise<PageStorage> {
  const storage = await readStorage(page)
  expect(leaked(JSON.stringify(storage), secrets)).toEqual([])
  expect(storage.cookie).toBe('')
  expect(storage.session).toEqual({})
  expect(storage.indexedDB).toEqual([])
  expect(storage.caches).toEqual([])
  return storage
}

describe('security: a headers function with shared mode leaves no token in URLs or storage', () => {
  test('shared: true (Web Locks leader) behind a buffering proxy: probe, step-down, verdict stored, no token anywhere', async () => {
    const hub = hubFor()
    const site = await app((req, res) => hub.handle(req, res))
    // hold-until-close: the stream's canary never arrives, so the leader probes, steps down to
    // sse-close and stores that verdict in localStorage: the storage check is not vacuous.
    const proxy: NetworkProxy = await createNetworkProxy({ target: site.url, mode: 'hold-until-close' })
    cleanups.push(() => proxy.close())
    const token = secret('token')
    const context = await profile()
    const tabs = [await openTab(context, proxy.url), await openTab(context, proxy.url)]
    for (const tab of tabs) await start(tab, '/events', token, true, 1000)
    await waitForLog(tabs[0]!, (log) => log.transport === 'sse-close', 'the step-down to sse-close', 30_000)
    for (let i = 1; i <= 3; i++) await hub.publish({ data: String(i) })
    for (const tab of tabs) await waitForLog(tab, (log) => log.messages.length >= 3, '3 events in every tab')

    const events = site.log.filter((entry) => entry.url.startsWith('/events'))
    // Every request carried the token as a header (so native EventSource, which cannot, was
    // never used) and the control probe was among them.
    expect(events.every((entry) => entry.authorization === `Bearer ${token}` && entry.apiKey === `${token}-key`)).toBe(true)
    expect(events.some((entry) => /[?&]mode=poll(&|$)/.test(entry.url) && /[?&]wait=0(&|$)/.test(entry.url))).toBe(true)
    expect(events.some((entry) => /[?&]mode=close(&|$)/.test(entry.url))).toBe(true)
    expectNoSecretInUrls(site.log, [token])

    const names = await Promise.all(tabs.map(readNames))
    const used = new Set(names.flatMap((n) => [...n.broadcast, ...n.locks]))
    expect(used.size).toBe(1)
    const [key] = [...used]
    expect(key).toMatch(KEY_PATTERN)
    for (const tab of tabs) {
      const storage = await expectCleanStorage(tab, [token])
      expect(Object.keys(storage.local)).toEqual([`resilient-sse:v1:${proxy.url}/events`])
      expect(JSON.parse(Object.values(storage.local)[0]!)).toMatchObject({ transport: 'sse-close' })
    }
  })

  test('shared: { workerUrl } (SharedWorker): the worker asks the tabs for headers; no token in URLs, names or storage', async () => {
    const hub = hubFor()
    const site = await app((req, res) => hub.handle(req, res))
    const token = secret('token')
    const context = await profile()
    const tabs = [await openTab(context, site.url), await openTab(context, site.url)]
    for (const tab of tabs) await start(tab, '/events', token, { workerUrl: '/worker.js' })
    for (const tab of tabs) await waitForLog(tab, (log) => log.opens >= 1, 'open')
    for (let i = 1; i <= 3; i++) await hub.publish({ data: String(i) })
    for (const tab of tabs) await waitForLog(tab, (log) => log.messages.length >= 3, '3 events in every tab')
    expect(streamConnections(hub)).toBe(1)

    const names = await Promise.all(tabs.map(readNames))
    // The SharedWorker was used, not the Web Locks fallback: no tab took a lock.
    expect(names.flatMap((n) => n.locks)).toEqual([])
    const workerNames = new Set(names.flatMap((n) => n.workers.map((w) => w.name)))
    expect(workerNames.size).toBe(1)
    expect([...workerNames][0]).toMatch(KEY_PATTERN)
    expect(leaked(JSON.stringify(names), [token])).toEqual([])
    const logs = await Promise.all(tabs.map(readLog))
    // The worker's connect asked a tab's headers function.
    expect(logs.reduce((sum, log) => sum + log.headerCalls.length, 0)).toBeGreaterThanOrEqual(1)

    const events = site.log.filter((entry) => entry.url.startsWith('/events'))
    expect(events.every((entry) => entry.authorization === `Bearer ${token}`)).toBe(true)
    expectNoSecretInUrls(site.log, [token])
    for (const tab of tabs) await expectCleanStorage(tab, [token])
  })
})

describe('security: cross-tab channels are origin-scoped', () => {
  // http://127.0.0.1:PORT and http://localhost:PORT are two origins of one server. Both open the
  // same absolute stream URL with the same options, so the SDK derives the same key, and with it
  // the same BroadcastChannel, Web Lock and SharedWorker names. Each origin must still get its own
  // connection and never hear the other's events. The hub behind each origin is chosen by its
  // token, so "the other origin's events" are distinct events.
  test.each([
    ['Web Locks + BroadcastChannel', true],
    ['SharedWorker', { workerUrl: '/worker.js' }],
  ] as const)("%s: a second origin using the same names gets its own connection and none of the first origin's events", async (_coordinator, shared) => {
    const tokenA = secret('token-a')
    const tokenB = secret('token-b')
    const hubA = hubFor()
    let hubB: EventHub | undefined
    const site = await app((req, res) => (req.headers.authorization === `Bearer ${tokenA}` ? hubA : hubB!).handle(req, res))
    // Only the second origin is cross-origin to the stream URL: it is on the CORS allow-list.
    hubB = hubFor({ cors: { origins: [site.altUrl], allowHeaders: ['X-Api-Key'] } })
    const streamUrl = `${site.url}/events`
    const context = await profile()
    const a = [await openTab(context, site.url), await openTab(context, site.url)]
    const b = [await openTab(context, site.altUrl), await openTab(context, site.altUrl)]
    for (const tab of a) await start(tab, streamUrl, tokenA, shared)
    for (const tab of a) await waitForLog(tab, (log) => log.opens >= 1, 'open in origin A')
    for (const tab of b) await start(tab, streamUrl, tokenB, shared)
    for (const tab of b) await waitForLog(tab, (log) => log.opens >= 1, 'open in origin B')

    // Same names in both origins: the isolation comes from the origin, not from the name.
    const names = await Promise.all([...a, ...b].map(readNames))
    const used = names.map((n) => (shared === true ? [...new Set([...n.broadcast, ...n.locks])] : [...new Set(n.workers.map((w) => w.name))]))
    expect(used.every((list) => list.length === 1)).toBe(true)
    const key = used[0]![0]!
    expect(key).toMatch(KEY_PATTERN)
    expect(used.map((list) => list[0])).toEqual([key, key, key, key])
    expect(leaked(JSON.stringify(names), [tokenA, tokenB])).toEqual([])
    if (shared !== true) {
      // One worker script per origin: each resolved against its own origin.
      expect(new Set(names.flatMap((n) => n.workers.map((w) => new URL(w.url).origin)))).toEqual(new Set([site.url, site.altUrl]))
      expect(new Set(site.log.filter((entry) => entry.url === '/worker.js').map((entry) => entry.host))).toEqual(new Set([new URL(site.url).host, new URL(site.altUrl).host]))
      // The worker did the sharing (no tab fell back to a Web Lock).
      expect(names.flatMap((n) => n.locks)).toEqual([])
    } else {
      // Each origin has its own leader holding the same-named lock.
      for (const tab of [a[0]!, b[0]!]) expect((await readLocks(tab)).held).toEqual([key])
    }
    // A raw listener on the SDK's channel name in every tab: what does it hear?
    for (const tab of [...a, ...b]) await tab.evaluate((k) => (window as unknown as { __listen(name: string): void }).__listen(k), key)

    await until(() => streamConnections(hubA) === 1 && streamConnections(hubB!) === 1, 'one connection per origin', 20_000)
    const secretA = `only-for-A-${randomUUID()}`
    const forB = `for-B-${randomUUID()}`
    await hubA.publish({ data: secretA })
    await hubB.publish({ data: forB })
    for (const tab of a) await waitForLog(tab, (log) => log.messages.some((m) => m.data === secretA), "origin A's event in origin A")
    for (const tab of b) await waitForLog(tab, (log) => log.messages.some((m) => m.data === forB), "origin B's event in origin B")
    // Room for a leak to arrive late.
    await new Promise((resolve) => setTimeout(resolve, 300))
    for (const tab of a) expect((await readLog(tab)).messages.map((m) => m.data)).toEqual([secretA])
    for (const tab of b) expect((await readLog(tab)).messages.map((m) => m.data)).toEqual([forB])
    for (const tab of b) expect((await readHeard(tab)).filter((text) => text.includes(secretA))).toEqual([])
    for (const tab of a) expect((await readHeard(tab)).filter((text) => text.includes(forB))).toEqual([])
    // Not even the own origin's tabs hear a token on the channel: the leader asks its own
    // headers function. A SharedWorker asks one tab, which answers over its private port.
    for (const tab of [...a, ...b]) expect(leaked((await readHeard(tab)).join('\n'), [tokenA, tokenB])).toEqual([])
    const posted = await Promise.all([...a, ...b].map(readPosted))
    expect(posted.every((list) => list.length > 0)).toBe(true)
    const onChannels = posted.flat().filter((text) => text.startsWith('channel '))
    expect(leaked(onChannels.join('\n'), [tokenA, tokenB])).toEqual([])
    if (shared !== true) {
      // The worker got the headers from the tabs, each origin's own token only.
      const ports = posted.map((list) => list.filter((text) => text.startsWith('port ')).join('\n'))
      expect(ports.slice(0, 2).some((text) => text.includes(tokenA))).toBe(true)
      expect(ports.slice(2).some((text) => text.includes(tokenB))).toBe(true)
      expect(ports.flatMap((text, i) => leaked(text, [i < 2 ? tokenB : tokenA]))).toEqual([])
    }
    if (shared === true) {
      // The raw listener works: in the leader's origin it heard its own origin's event broadcast.
      expect((await readHeard(a[1]!)).some((text) => text.includes(secretA))).toBe(true)
      expect((await readHeard(b[1]!)).some((text) => text.includes(forB))).toBe(true)
    }
    expect(streamConnections(hubA)).toBe(1)
    expect(streamConnections(hubB)).toBe(1)
    expect(site.log.filter((entry) => entry.url.startsWith('/events') && entry.method === 'GET').every((entry) =>
      entry.origin === site.altUrl ? entry.authorization === `Bearer ${tokenB}` : entry.authorization === `Bearer ${tokenA}`)).toBe(true)
    expectNoSecretInUrls(site.log, [tokenA, tokenB])
  })
})

describe("security: the companion's CORS allow-list refuses unknown origins", () => {
  // Server-side coverage (headers, 403 preflight) is in test/unit/server/http.test.ts ("CORS");
  // this is the browser's view: a page on an origin that is not on the list gets nothing.
  test('an unknown origin: preflight refused, no Access-Control-Allow-Origin, no event delivered; an allowed one works', async () => {
    let hub: EventHub | undefined
    const site = await app((req, res) => hub!.handle(req, res))
    hub = hubFor({ cors: { origins: [site.altUrl], allowHeaders: ['X-Api-Key'] } })
    // A second server: http://127.0.0.1:OTHER_PORT is a third origin, not on the list.
    const other = await app(() => {
      throw new Error('the stream is on the first server')
    })
    const streamUrl = `${site.url}/events`
    const token = secret('token')
    const context = await profile()
    const allowed = await openTab(context, site.altUrl)
    const withHeaders = await openTab(context, other.url)
    const withoutHeaders = await (await profile()).newPage()
    await withoutHeaders.goto(`${other.url}/`)
    await withoutHeaders.waitForFunction(() => (window as unknown as { __sdkReady?: boolean }).__sdkReady === true, undefined, { timeout: 15_000 })
    await start(allowed, streamUrl, token, false)
    await start(withHeaders, streamUrl, token, false)
    await start(withoutHeaders, streamUrl, null, false)
    await waitForLog(allowed, (log) => log.opens >= 1, 'open on the allowed origin')
    const fromUnknown = (): LoggedRequest[] => site.log.filter((entry) => entry.origin === other.url)
    await until(() => fromUnknown().some((entry) => entry.method === 'OPTIONS') && fromUnknown().some((entry) => entry.method === 'GET'), 'requests from the unknown origin', 20_000)
    const data = `event-${randomUUID()}`
    await hub.publish({ data })
    await waitForLog(allowed, (log) => log.messages.some((m) => m.data === data), 'the event on the allowed origin')
    // The stream on the allowed origin shows how fast delivery is; give the others ample time.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    for (const page of [withHeaders, withoutHeaders]) {
      const log = await readLog(page)
      expect(log.messages).toEqual([])
      expect(log.opens).toBe(0)
      expect(log.errors.length).toBeGreaterThanOrEqual(1)
    }
    const unknown = fromUnknown()
    // With headers the browser asks first: refused, so no GET carrying the token is ever sent.
    const preflights = unknown.filter((entry) => entry.method === 'OPTIONS')
    expect(preflights.length).toBeGreaterThanOrEqual(1)
    expect(preflights.every((entry) => entry.status() === 403 && entry.allowOrigin() === undefined)).toBe(true)
    // Without headers (native EventSource, a simple request) the GET arrives and is answered
    // without Access-Control-Allow-Origin, so the browser withholds the body.
    const gets = unknown.filter((entry) => entry.method === 'GET')
    expect(gets.length).toBeGreaterThanOrEqual(1)
    expect(gets.every((entry) => entry.authorization === undefined && entry.allowOrigin() === undefined)).toBe(true)
    const fromAllowed = site.log.filter((entry) => entry.origin === site.altUrl && entry.method === 'GET')
    expect(fromAllowed.length).toBeGreaterThanOrEqual(1)
    expect(fromAllowed.every((entry) => entry.allowOrigin() === site.altUrl)).toBe(true)
  })
})

describe('security: IIFE + dist/worker.js under a strict CSP', () => {
  // test/browser/cdn.test.ts runs the IIFE under this CSP and shares through /worker.js, but the
  // worker script there is served without a policy of its own (a worker from a URL gets the CSP
  // of its own response, not the page's), and a worker that failed would fall back to Web Locks
  // unnoticed. Here both page and worker carry the policy, the worker must be the one sharing,
  // and violations anywhere, the worker included, are reported to /csp-report.
  const CSP = "script-src 'self'; worker-src 'self'; connect-src 'self'; report-uri /csp-report"

  test('two tabs share through the SharedWorker with the policy on page and worker: no violation; a violating worker is reported', async () => {
    const hub = hubFor()
    const token = secret('token')
    const reports: string[] = []
    const page = `<!doctype html><html><head><meta charset="utf-8"><title>csp</title>
<script src="/pkg/resilient-sse.global.js"></script><script src="/csp-app.js"></script></head><body>csp</body></html>`
    let altUrl = ''
    const app = `
window.violations = []
document.addEventListener('securitypolicyviolation', (event) => window.violations.push(event.violatedDirective + ' ' + event.blockedURI))
window.received = []
const es = new ResilientSSE.ResilientEventSource('/events', {
  remember: false,
  shared: { workerUrl: '/worker.js' },
  headers: async () => ({ Authorization: 'Bearer ${token}' }),
})
es.addEventListener('open', () => { window.opened = true })
es.addEventListener('message', (event) => window.received.push(event.data))
window.stream = es
window.heldLocks = async () => (await navigator.locks.query()).held.map((lock) => lock.name)
window.startViolatingWorker = () => new SharedWorker('/violating-worker.js').port.start()
`
    const site = await startSecurityApp(
      dir,
      (req, res) => hub.handle(req, res),
      {
        '/csp': (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP }).end(page)
        },
        '/csp-app.js': (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(app)
        },
        // Positive control: a worker under the same policy that fetches another origin.
        '/violating-worker.js': (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'content-security-policy': CSP })
          res.end(`fetch(${JSON.stringify(`${altUrl}/events?mode=poll&wait=0`)}).catch(() => {})`)
        },
        '/csp-report': (req, res) => {
          let body = ''
          req.setEncoding('utf8')
          req.on('data', (chunk: string) => (body += chunk))
          req.on('end', () => {
            reports.push(body)
            res.writeHead(204).end()
          })
        },
      },
      { 'content-security-policy': CSP },
    )
    cleanups.push(() => site.close())
    altUrl = site.altUrl
    const context = await profile()
    const tabs: Page[] = []
    const problems: string[] = []
    for (let i = 0; i < 2; i++) {
      const tab = await context.newPage()
      tab.on('pageerror', (error) => problems.push(String(error)))
      tab.on('console', (message) => {
        if (message.type() === 'error' || /content security policy/i.test(message.text())) problems.push(message.text())
      })
      await tab.goto(`${site.url}/csp`)
      tabs.push(tab)
    }
    for (const tab of tabs) await tab.waitForFunction(() => (window as unknown as { opened?: boolean }).opened === true, undefined, { timeout: 15_000 })
    const data = `event-${randomUUID()}`
    await hub.publish({ data })
    for (const tab of tabs) await tab.waitForFunction((d) => (window as unknown as { received: string[] }).received.includes(d), data, { timeout: 15_000 })
    expect(streamConnections(hub)).toBe(1)

    // The SharedWorker runs and did the sharing: no tab fell back to a Web Lock.
    const cdp = await browser.newBrowserCDPSession()
    const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: { type: string; url: string }[] }
    await cdp.detach()
    // (Filtered to this test's server: a worker of an earlier test may still be shutting down.)
    expect(targetInfos.filter((target) => target.type === 'shared_worker' && target.url.startsWith(`${site.url}/`)).map((target) => target.url)).toEqual([`${site.url}/worker.js`])
    for (const tab of tabs) expect(await tab.evaluate(() => (window as unknown as { heldLocks(): Promise<string[]> }).heldLocks())).toEqual([])
    const workerFetches = site.log.filter((entry) => entry.url === '/worker.js')
    expect(workerFetches.length).toBeGreaterThanOrEqual(1)
    const events = site.log.filter((entry) => entry.url.startsWith('/events'))
    expect(events.length).toBeGreaterThanOrEqual(1)
    expect(events.every((entry) => entry.authorization === `Bearer ${token}`)).toBe(true)
    expectNoSecretInUrls(site.log, [token])

    // Give a late report time to arrive, then: nothing from the pages or the worker.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(reports).toEqual([])
    for (const tab of tabs) expect(await tab.evaluate(() => (window as unknown as { violations: string[] }).violations)).toEqual([])
    expect(problems).toEqual([])

    // The report channel works for workers: the violating one is reported.
    await tabs[0]!.evaluate(() => (window as unknown as { startViolatingWorker(): void }).startViolatingWorker())
    await until(() => reports.length > 0, 'a CSP report from the violating worker', 15_000)
    const report = (JSON.parse(reports[0]!) as { 'csp-report': Record<string, string> })['csp-report']
    expect(report['document-uri']).toBe(`${site.url}/violating-worker.js`)
    expect(report['violated-directive'] ?? report['effective-directive']).toMatch(/^connect-src/)
    expect(report['blocked-uri']).toContain(site.altUrl)
    for (const tab of tabs) {
      await tab.evaluate(() => (window as unknown as { stream: { close(): void } }).stream.close())
    }
  })
})
