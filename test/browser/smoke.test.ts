import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { launchChromium, newProfile, startStaticServer, type StaticServer } from '../support/chromium'

const PAGE = '<!doctype html><html><head><meta charset="utf-8"><title>smoke</title></head><body>smoke</body></html>'

let browser: Browser
let server: StaticServer
let sseConnections = 0

beforeAll(async () => {
  browser = await launchChromium()
  server = await startStaticServer({
    routes: {
      '/': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE)
      },
      '/sse': (_req, res) => {
        sseConnections++
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
        res.flushHeaders()
        // Three events written over time; the stream then stays open so EventSource does not reconnect.
        const events = ['id: 1\ndata: alpha\n\n', 'id: 2\nevent: message\ndata: beta\n\n', 'id: 3\ndata: gam\ndata: ma\n\n']
        events.forEach((event, index) => setTimeout(() => res.write(event), 20 * index))
      },
    },
  })
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

describe('Chromium smoke', () => {
  test('the page has the platform APIs the SDK builds on', async () => {
    const profile = await newProfile(browser)
    const page = await profile.newPage()
    await page.goto(`${server.url}/`)
    const apis = await page.evaluate(() => ({
      eventSource: typeof EventSource,
      sharedWorker: typeof SharedWorker,
      broadcastChannel: typeof BroadcastChannel,
      locks: typeof navigator.locks?.request,
      secure: window.isSecureContext,
    }))
    expect(apis).toEqual({
      eventSource: 'function',
      sharedWorker: 'function',
      broadcastChannel: 'function',
      locks: 'function',
      secure: true,
    })
    await profile.close()
  })

  test('a native EventSource receives three events in order from a loopback server', async () => {
    const profile = await newProfile(browser)
    const page = await profile.newPage()
    await page.goto(`${server.url}/`)
    const received = await page.evaluate(
      () =>
        new Promise<Array<{ data: string; id: string; type: string }>>((resolve, reject) => {
          const source = new EventSource('/sse')
          const messages: Array<{ data: string; id: string; type: string }> = []
          const timer = setTimeout(() => reject(new Error(`timed out with ${messages.length} events`)), 10_000)
          source.onmessage = (event) => {
            messages.push({ data: event.data, id: event.lastEventId, type: event.type })
            if (messages.length === 3) {
              clearTimeout(timer)
              source.close()
              resolve(messages)
            }
          }
        }),
    )
    expect(received).toEqual([
      { data: 'alpha', id: '1', type: 'message' },
      { data: 'beta', id: '2', type: 'message' },
      { data: 'gam\nma', id: '3', type: 'message' },
    ])
    expect(sseConnections).toBe(1)
    await profile.close()
  })

  test('static files from root load as modules; paths outside root are refused', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'resilient-sse-static-'))
    await writeFile(path.join(root, 'index.html'), '<!doctype html><script type="module" src="/app.mjs"></script>')
    await writeFile(path.join(root, 'app.mjs'), 'document.title = "loaded " + (1 + 1)\n')
    const files = await startStaticServer({ root })
    try {
      const profile = await newProfile(browser)
      const page = await profile.newPage()
      await page.goto(`${files.url}/`)
      await expect.poll(() => page.title()).toBe('loaded 2')
      await profile.close()

      const status = await new Promise<number>((resolve, reject) => {
        http
          .get(`${files.url}/..%2f..%2f..%2fetc%2fhostname`, (res) => {
            res.resume()
            resolve(res.statusCode ?? 0)
          })
          .on('error', reject)
      })
      expect(status).toBe(404)
    } finally {
      await files.close()
      await rm(root, { recursive: true, force: true })
    }
  })
})
