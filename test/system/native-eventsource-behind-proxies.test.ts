import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { launchChromium, newProfile, startStaticServer, type StaticServer } from '../support/chromium'
import { createNetworkProxy, type NetworkProxy } from '../support/proxies'

// What Chromium's native EventSource does behind each simulated network: the facts the SDK's
// transport ladder is built on, checked against a real browser rather than assumed.

interface Observation {
  opens: number[]
  messages: Array<{ at: number; data: string; id: string }>
  errors: Array<{ at: number; readyState: number }>
}

let browser: Browser
let server: StaticServer
let proxy: NetworkProxy
let profile: BrowserContext
let page: Page
let streams = 0
let lastEventIds: Array<string | undefined> = []

beforeAll(async () => {
  browser = await launchChromium()
  server = await startStaticServer({
    routes: {
      '/': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>es</title>')
      },
      '/poll': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"events":[]}')
      },
      '/sse': (req, res, url) => {
        streams++
        lastEventIds.push(req.headers['last-event-id'] as string | undefined)
        const count = Number(url.searchParams.get('count') ?? 3)
        const intervalMs = Number(url.searchParams.get('interval') ?? 100)
        const end = url.searchParams.get('end') === '1'
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
        // A short retry keeps reconnect observations fast.
        res.write('retry: 100\n\n')
        let index = 0
        const timer = setInterval(() => {
          index++
          if (index <= count) res.write(`id: ${index}\ndata: event ${index}\n\n`)
          else if (end) {
            clearInterval(timer)
            res.end()
          }
        }, intervalMs)
        res.on('close', () => clearInterval(timer))
      },
    },
  })
  proxy = await createNetworkProxy({ target: server.url })
  profile = await newProfile(browser)
  page = await profile.newPage()
})

afterAll(async () => {
  await profile?.close()
  await browser?.close()
  await proxy?.close()
  await server?.close()
})

beforeEach(async () => {
  proxy.setMode('direct')
  streams = 0
  lastEventIds = []
  // One tab for the file (a renderer costs seconds on a loaded machine); a fresh navigation per test.
  await page.goto(`${proxy.url}/`)
})

function observe(path: string, options: { messages: number; timeoutMs: number }): Promise<Observation> {
  return page.evaluate(
    ({ path, messages, timeoutMs }) =>
      new Promise<Observation>((resolve) => {
        const started = performance.now()
        const seen: Observation = { opens: [], messages: [], errors: [] }
        const source = new EventSource(path)
        const finish = () => {
          source.close()
          resolve(seen)
        }
        const timer = setTimeout(finish, timeoutMs)
        source.onopen = () => seen.opens.push(performance.now() - started)
        source.onerror = () => seen.errors.push({ at: performance.now() - started, readyState: source.readyState })
        source.onmessage = (event) => {
          seen.messages.push({ at: performance.now() - started, data: event.data, id: event.lastEventId })
          if (seen.messages.length >= messages) {
            clearTimeout(timer)
            finish()
          }
        }
      }),
    { path, ...options },
  )
}

describe('native EventSource in Chromium behind the simulated network', () => {
  test('direct: events arrive spread over time', async () => {
    const seen = await observe('/sse?count=3&interval=100', { messages: 3, timeoutMs: 5000 })
    expect(seen.messages.map((message) => message.data)).toEqual(['event 1', 'event 2', 'event 3'])
    expect(seen.messages[2]!.at - seen.messages[0]!.at).toBeGreaterThanOrEqual(150)
    expect(seen.errors).toEqual([])
  })

  test('hold-until-close: open fires at once, then all events arrive together at the end', async () => {
    proxy.setMode('hold-until-close')
    const seen = await observe('/sse?count=3&interval=100&end=1', { messages: 3, timeoutMs: 5000 })
    expect(seen.messages.map((message) => message.id)).toEqual(['1', '2', '3'])
    expect(seen.opens.length).toBeGreaterThanOrEqual(1)
    // Headers passed at once; the body waited for the ~400 ms upstream response to end.
    expect(seen.messages[0]!.at - seen.opens[0]!).toBeGreaterThanOrEqual(250)
    expect(seen.messages[2]!.at - seen.messages[0]!.at).toBeLessThan(50)
  })

  test('reset-event-stream: the stream errors and stays CONNECTING while a JSON poll passes', async () => {
    proxy.setMode('reset-event-stream')
    const seen = await observe('/sse?count=100&interval=50', { messages: 1, timeoutMs: 1500 })
    expect(seen.messages).toEqual([])
    expect(seen.errors.length).toBeGreaterThanOrEqual(1)
    // CONNECTING: a network error makes EventSource retry on its own (after its default delay,
    // since the reset swallowed the stream's `retry:` field).
    expect(seen.errors[0]!.readyState).toBe(0)
    expect(streams).toBe(1)
    const poll = await page.evaluate(async () => {
      const response = await fetch('/poll?mode=poll')
      return { status: response.status, body: await response.text() }
    })
    expect(poll).toEqual({ status: 200, body: '{"events":[]}' })
  })

  test('status-burst: a 503 closes a native EventSource for good', async () => {
    proxy.setMode('status-burst', { burst: 1, retryAfter: 1 })
    const seen = await observe('/sse?count=3&interval=50', { messages: 1, timeoutMs: 1500 })
    expect(seen.messages).toEqual([])
    expect(seen.opens).toEqual([])
    // CLOSED, and no second attempt although the next request would have passed: the
    // retry (and Retry-After) are the SDK's job.
    expect(seen.errors.map((error) => error.readyState)).toEqual([2])
    expect(streams).toBe(0)
    expect(proxy.stats().byMode['status-burst'].requests).toBe(1)
  })

  test('cut-after: a cut stream reconnects with Last-Event-ID', async () => {
    proxy.setMode('cut-after', { afterMs: 250 })
    const seen = await observe('/sse?count=100&interval=50', { messages: 6, timeoutMs: 5000 })
    expect(seen.errors.length).toBeGreaterThanOrEqual(1)
    expect(seen.errors[0]!.readyState).toBe(0)
    expect(streams).toBeGreaterThanOrEqual(2)
    // The server in this test ignores Last-Event-ID, so ids restart: the browser itself does no de-dup.
    const ids = seen.messages.map((message) => message.id)
    const restart = ids.lastIndexOf('1')
    expect(ids[0]).toBe('1')
    expect(restart).toBeGreaterThan(0)
    expect(lastEventIds[0]).toBeUndefined()
    expect(lastEventIds[1]).toBe(ids[restart - 1])
  })
})
