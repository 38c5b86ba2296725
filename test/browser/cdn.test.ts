import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEventHub, type EventHub } from '../../src/server/index'
import { launchChromium, newProfile, startStaticServer, type StaticServer } from '../support/chromium'

// The IIFE build, loaded by a <script src> tag on a page whose CSP forbids inline scripts and
// eval: `window.ResilientSSE` must work there. Run after `npm run build` (`npm run test:browser`).
const BUNDLE = path.resolve('dist/resilient-sse.global.js')
const WORKER = path.resolve('dist/worker.js')
const CSP = "script-src 'self'; worker-src 'self'; connect-src 'self'"

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>cdn</title>
<script src="/resilient-sse.global.js"></script>
<script src="/app.js"></script>
</head><body><ul id="log"></ul></body></html>`

// The page's own code: an external same-origin file, as the CSP requires.
const APP = `
window.violations = []
document.addEventListener('securitypolicyviolation', (event) => {
  window.violations.push(event.violatedDirective + ' ' + event.blockedURI)
})
window.received = []
window.transports = []
const { ResilientEventSource, StreamError, isStreamError, createEventStreamParser } = window.ResilientSSE
const parsed = []
const parser = createEventStreamParser({ onEvent: (event) => parsed.push(event.data) })
parser.feed('data: a\\r\\n\\r\\ndata: b\\n\\n')
window.checks = {
  keys: Object.keys(window.ResilientSSE).sort(),
  parsed,
  guard: isStreamError(new StreamError('network', 'x', { retryable: true })),
}
// ?shared: share one connection between tabs through the app-hosted worker (dist/worker.js).
const shared = new URLSearchParams(location.search).has('shared')
const es = new ResilientEventSource('/events', shared ? { remember: false, shared: { workerUrl: '/worker.js' } } : { remember: false })
es.addEventListener('transportchange', (event) => window.transports.push(event.transport))
es.addEventListener('open', () => { window.opened = true })
es.addEventListener('price', (event) => {
  window.received.push(event.data + '@' + event.lastEventId)
  const item = document.createElement('li')
  item.textContent = event.data
  document.getElementById('log').append(item)
})
window.stream = es
`

let browser: Browser
let server: StaticServer
let hub: EventHub
let workerRequests = 0

beforeAll(async () => {
  const bundle = await readFile(BUNDLE)
  const worker = await readFile(WORKER)
  hub = createEventHub({ rotateAfter: 0 })
  browser = await launchChromium()
  server = await startStaticServer({
    routes: {
      '/': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP }).end(PAGE)
      },
      '/resilient-sse.global.js': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle)
      },
      '/app.js': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(APP)
      },
      '/worker.js': (_req, res) => {
        workerRequests += 1
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(worker)
      },
      '/events': (req, res) => hub.handle(req, res),
      // No favicon: a 404 would be a console error.
      '/favicon.ico': (_req, res) => {
        res.writeHead(204).end()
      },
    },
  })
})

afterAll(async () => {
  await browser?.close()
  await hub?.close({ spread: 0, timeout: 100 })
  await server?.close()
})

describe('CDN build (IIFE) under a strict Content-Security-Policy', () => {
  test('the built file uses no eval and no Function constructor', async () => {
    const text = await readFile(BUNDLE, 'utf8')
    expect(text).toMatch(/^"use strict";var ResilientSSE=/)
    expect(text).not.toMatch(/\beval\s*\(|\bnew\s+Function\b|[^.\w$]Function\s*\(/)
  })

  test('window.ResilientSSE connects to a same-origin companion and receives events, with no CSP violation', async () => {
    const profile = await newProfile(browser)
    const page = await profile.newPage()
    const consoleErrors: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error' || /content security policy/i.test(message.text())) consoleErrors.push(message.text())
    })
    page.on('pageerror', (error) => consoleErrors.push(String(error)))
    await page.goto(`${server.url}/`)
    await page.waitForFunction(() => (window as unknown as { opened?: boolean }).opened === true, undefined, { timeout: 15_000 })
    const ids = [await hub.publish({ event: 'price', data: '1' }), await hub.publish({ event: 'price', data: '2' })]
    await hub.publish({ data: 'unlistened' })
    await page.waitForFunction(() => (window as unknown as { received: string[] }).received.length >= 2, undefined, { timeout: 15_000 })
    const state = await page.evaluate(() => {
      const w = window as unknown as {
        received: string[]
        transports: string[]
        violations: string[]
        checks: unknown
        stream: { readyState: number; close(): void }
      }
      const readyState = w.stream.readyState
      w.stream.close()
      return { received: w.received, transports: w.transports, violations: w.violations, checks: w.checks, readyState, items: document.querySelectorAll('#log li').length }
    })
    expect(state.received).toEqual([`1@${ids[0]}`, `2@${ids[1]}`])
    expect(state.items).toBe(2)
    expect(state.readyState).toBe(1)
    expect(state.transports).toEqual(['eventsource'])
    expect(state.checks).toEqual({
      keys: ['GapEvent', 'ResilientEventSource', 'StreamError', 'StreamErrorEvent', 'TransportChangeEvent', 'createEventStreamParser', 'isStreamError'],
      parsed: ['a', 'b'],
      guard: true,
    })
    expect(state.violations).toEqual([])
    expect(consoleErrors).toEqual([])
    await profile.close()
  })

  test('two tabs share one connection through the same-origin worker (worker-src self), with no CSP violation', async () => {
    const profile = await newProfile(browser)
    const consoleErrors: string[] = []
    const tabs = [await profile.newPage(), await profile.newPage()]
    for (const tab of tabs) {
      tab.on('console', (message) => {
        if (message.type() === 'error' || /content security policy/i.test(message.text())) consoleErrors.push(message.text())
      })
      tab.on('pageerror', (error) => consoleErrors.push(String(error)))
      await tab.goto(`${server.url}/?shared`)
    }
    for (const tab of tabs) {
      await tab.waitForFunction(() => (window as unknown as { opened?: boolean }).opened === true, undefined, { timeout: 15_000 })
    }
    const id = await hub.publish({ event: 'price', data: 'shared' })
    const received: { received: string[]; violations: string[] }[] = []
    for (const tab of tabs) {
      await tab.waitForFunction(() => (window as unknown as { received: string[] }).received.length >= 1, undefined, { timeout: 15_000 })
      received.push(
        await tab.evaluate(() => {
          const w = window as unknown as { received: string[]; violations: string[]; stream: { transport: string | null } }
          return { received: w.received, violations: w.violations }
        }),
      )
    }
    expect(received.map((state) => state.received)).toEqual([[`shared@${id}`], [`shared@${id}`]])
    expect(received.map((state) => state.violations)).toEqual([[], []])
    expect(hub.stats().connections.stream).toBe(1)
    // The worker script was fetched (one SharedWorker per origin and name; a tab may re-check it).
    expect(workerRequests).toBeGreaterThanOrEqual(1)
    expect(consoleErrors).toEqual([])
    await profile.close()
  })

  test('a violation would be seen: an inline script on the same page is blocked and reported', async () => {
    // Proves the two checks above can fail: the page's CSP is live and the listener records.
    const profile = await newProfile(browser)
    const page = await profile.newPage()
    const consoleErrors: string[] = []
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) consoleErrors.push(message.text())
    })
    await page.goto(`${server.url}/`)
    await page.waitForFunction(() => (window as unknown as { opened?: boolean }).opened === true, undefined, { timeout: 15_000 })
    await page.evaluate(() => {
      const script = document.createElement('script')
      script.textContent = 'window.inlineRan = true'
      document.head.append(script)
    })
    await page.waitForFunction(() => (window as unknown as { violations: string[] }).violations.length > 0, undefined, { timeout: 5000 })
    const result = await page.evaluate(() => {
      const w = window as unknown as { violations: string[]; inlineRan?: boolean; stream: { close(): void } }
      w.stream.close()
      return { violations: w.violations, inlineRan: w.inlineRan ?? false }
    })
    expect(result.inlineRan).toBe(false)
    expect(result.violations[0]).toMatch(/^script-src/)
    expect(consoleErrors.length).toBeGreaterThan(0)
    await profile.close()
  })
})
