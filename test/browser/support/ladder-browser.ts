import type { BrowserContext, Page } from 'playwright-core'
import type { NetworkMode, NetworkModeOptions } from '../../../playground/network/index.mjs'
import { createEventHub, type EventHub, type EventHubOptions } from '../../../src/server/index'
import { createSequencePublisher } from '../../support/sequence-publisher.mjs'
import { startLadderApp, type LadderApp } from './ladder-app.mjs'

/** What the page recorder (ladder-page.js) keeps in `window.__log`. */
export interface PageLog {
  messages: { type: string; data: string; id: string; at: number }[]
  changes: { transport: string; previous: string | null; reason: string; at: number }[]
  errors: { code: string | null; status: number | null; message: string }[]
  opens: number
  startedAt: number
  transport: string | null
  reconnects: number
  native: boolean
}

/** What the hub side saw of one request to `/events`. */
export interface HubRequestLog {
  /** The `mode` query parameter (`stream`, `close`, `poll`), `null` without one. */
  mode: string | null
  /** The `Last-Event-ID` header, `null` when absent. */
  lastEventIdHeader: string | null
  /** The `lastEventId` query parameter, `null` when absent. */
  lastEventIdQuery: string | null
}

/** A hub behind the app server and a simulated proxy, for Chromium pages. */
export interface BrowserLadderRig {
  hub: EventHub
  app: LadderApp
  /** Every request that reached the hub, in order. */
  readonly requests: HubRequestLog[]
  /** The page URL (through the proxy). */
  readonly pageUrl: string
  /**
   * Publishes `count` events `every` ms apart with data `"1"`, `"2"`, … (continuing the
   * sequence); `eventName` picks the SSE event name per sequence number (default `message`).
   */
  publish(count: number, every?: number, eventName?: (n: number) => string | undefined): Promise<void>
  /** Resolves once the hub has seen `n` start tokens (first requests of clients). */
  firstRequest(n?: number): Promise<void>
  close(): Promise<void>
}

/**
 * Starts a companion hub and serves the ladder page from the same server, with a simulated proxy
 * in front of both (one origin). The proxy starts in `direct` so the page loads cleanly; call
 * `rig.app.proxy.setMode()` before starting the stream.
 */
export async function startBrowserLadderRig(hubOptions: EventHubOptions = {}): Promise<BrowserLadderRig> {
  const hub = createEventHub({ wait: 5, ...hubOptions })
  const requests: HubRequestLog[] = []
  const app = await startLadderApp({
    handler: (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      const header = req.headers['last-event-id']
      requests.push({
        mode: url.searchParams.get('mode'),
        lastEventIdHeader: typeof header === 'string' ? header : null,
        lastEventIdQuery: url.searchParams.get('lastEventId'),
      })
      return hub.handle(req, res)
    },
  })
  return {
    hub,
    app,
    requests,
    pageUrl: `${app.url}/`,
    publish: createSequencePublisher(hub).publish,
    async firstRequest(n = 1) {
      const start = Date.now()
      while (hub.stats().startTokens < n) {
        if (Date.now() - start > 10_000) throw new Error(`the hub saw ${hub.stats().startTokens} start tokens, expected ${n}`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    },
    async close() {
      await app.close()
      await hub.close({ timeout: 500 })
    },
  }
}

/** Opens the ladder page in `profile` and waits until the package is loaded. */
export async function openLadderPage(profile: BrowserContext, url: string): Promise<Page> {
  const page = await profile.newPage()
  await page.goto(url)
  await page.waitForFunction(() => (window as unknown as { __sdkReady?: boolean }).__sdkReady === true, undefined, { timeout: 10_000 })
  return page
}

/** Reads the page recorder's log. */
export function readLog(page: Page): Promise<PageLog> {
  return page.evaluate(() => (window as unknown as { __log: PageLog }).__log)
}

/** Starts a ResilientEventSource on the page (options must be JSON-serialisable). */
export async function startStream(page: Page, url: string, options: Record<string, unknown> = {}, types: string[] = []): Promise<void> {
  await page.evaluate(
    ([u, o, t]) => (window as unknown as { __start(u: string, o: unknown, t: string[]): void }).__start(u, o, t),
    [url, options, types] as const,
  )
}

/** Closes the page's stream. */
export async function stopStream(page: Page): Promise<void> {
  await page.evaluate(() => (window as unknown as { __stop(): void }).__stop())
}

/**
 * Waits until `condition(log)` holds, polling the page's log every 25 ms; on timeout the error
 * names `what` and shows the log's transports, errors and the last messages.
 */
export async function waitForLog(page: Page, condition: (log: PageLog) => boolean, what: string, timeout = 10_000): Promise<PageLog> {
  const start = Date.now()
  for (;;) {
    const log = await readLog(page)
    if (condition(log)) return log
    if (Date.now() - start > timeout) {
      const summary = {
        transport: log.transport,
        changes: describeChanges(log),
        errors: log.errors.map((e) => `${e.code}${e.status ? `:${e.status}` : ''}`),
        received: log.messages.length,
        last: log.messages.slice(-5).map((m) => m.data),
      }
      throw new Error(`timed out after ${timeout} ms waiting for: ${what}\n${JSON.stringify(summary)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** `previous>transport:reason` per transport change, the form the assertions use. */
export function describeChanges(log: PageLog): string[] {
  return log.changes.map((c) => `${c.previous}>${c.transport}:${c.reason}`)
}

/** `["1", "2", …, String(n)]`. */
export function sequence(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(i + 1))
}

/** Re-exported for tests that set the proxy mode. */
export type { NetworkMode, NetworkModeOptions }
