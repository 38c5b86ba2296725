// A loopback app for multi-tab tests and the tabs benchmark: one origin serving the page, the
// built package, the SharedWorker script, another page, and a companion hub at /events.
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { BrowserContext, Page } from 'playwright-core'
import { createEventHub, type EventHub } from '../../../src/server/index'
import { startStaticServer, type StaticServer } from '../../support/chromium'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const DIST = path.join(ROOT, 'dist')
const PAGE_SCRIPT = fileURLToPath(new URL('./tabs-page.js', import.meta.url))

const PAGE_HTML =
  '<!doctype html><html><head><meta charset="utf-8"><title>tabs</title>' +
  '<script type="module" src="/tabs-page.js"></script></head><body>tabs</body></html>'

/** What one tab recorded (see tabs-page.js). */
export interface TabLog {
  messages: { type: string; data: string; id: string; at: number }[]
  opens: number
  errors: string[]
  transport: string | null
}

/** The running app. */
export interface TabsApp {
  readonly url: string
  readonly hub: EventHub
  /** Requests that reached `/events`, in order (their `mode` query parameter). */
  readonly eventRequests: { mode: string | null; at: number }[]
  /** How many times the worker script was fetched. */
  workerFetches(): number
  /** Publishes `count` events `every` ms apart, data `"1"`, `"2"`, … continuing the sequence. */
  publish(count: number, every?: number): Promise<void>
  published(): number
  /** Open responses of the hub, all modes together. */
  openConnections(): number
  close(): Promise<void>
}

/**
 * Waits (up to 60 s, a concurrent `tsup` may be rebuilding) for `dist/index.js`.
 * @throws Error naming the build command
 */
export async function assertBuilt(): Promise<void> {
  const start = Date.now()
  while (!existsSync(path.join(DIST, 'index.js'))) {
    if (Date.now() - start > 60_000) {
      throw new Error('dist/index.js is missing: the tabs tests load the built package. Run `npx tsup` (npm run test:browser builds first).')
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/**
 * Copies the built browser files into a temp folder (a snapshot: a concurrent rebuild cannot
 * pull them away mid-run) and bundles `src/worker.ts` the way the package ships it: one file,
 * no imports, no exports (a classic worker script).
 * @returns the folder; pass it to {@link startTabsApp}, remove it with {@link removeFiles}
 */
export async function prepareFiles(): Promise<string> {
  await assertBuilt()
  const dir = await mkdtemp(path.join(tmpdir(), 'resilient-sse-tabs-'))
  for (const name of await readdir(DIST)) if (name.endsWith('.js')) await copyFile(path.join(DIST, name), path.join(dir, name))
  await copyFile(PAGE_SCRIPT, path.join(dir, 'tabs-page.js'))
  await build({
    entryPoints: [path.join(ROOT, 'src/worker.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    outfile: path.join(dir, 'worker.js'),
    logLevel: 'silent',
  })
  return dir
}

/** Removes the folder of {@link prepareFiles}. */
export function removeFiles(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true })
}

/** Starts the app on 127.0.0.1 (plain HTTP/1.1, an OS-chosen port), serving `dir` from {@link prepareFiles}. */
export async function startTabsApp(dir: string): Promise<TabsApp> {
  const hub = createEventHub({})
  const eventRequests: { mode: string | null; at: number }[] = []
  let workerFetches = 0
  let sequence = 0
  const server: StaticServer = await startStaticServer({
    root: dir,
    routes: {
      '/': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE_HTML)
      },
      '/other': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end('<!doctype html><p>another page</p>')
      },
      '/events': (req, res, url) => {
        eventRequests.push({ mode: url.searchParams.get('mode'), at: Date.now() })
        return hub.handle(req, res)
      },
    },
  })
  // Count worker fetches without changing how the file is served.
  server.route('/worker.js', async (_req, res) => {
    workerFetches += 1
    const body = await readFile(path.join(dir, 'worker.js'))
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store', 'content-length': body.length })
    res.end(body)
  })
  return {
    url: server.url,
    hub,
    eventRequests,
    workerFetches: () => workerFetches,
    async publish(count, every = 10) {
      for (let i = 0; i < count; i++) {
        sequence += 1
        await hub.publish({ data: String(sequence) })
        if (every > 0) await new Promise((resolve) => setTimeout(resolve, every))
      }
    },
    published: () => sequence,
    openConnections: () => Object.values(hub.stats().connections).reduce((sum, n) => sum + n, 0),
    async close() {
      await hub.close({ timeout: 200 })
      await server.close()
    },
  }
}

/** Opens a tab of `profile` on the app and waits until the package loaded. */
export async function openTab(profile: BrowserContext, app: TabsApp): Promise<Page> {
  const page = await profile.newPage()
  await page.goto(`${app.url}/`)
  await page.waitForFunction(() => (window as unknown as { __sdkReady?: boolean }).__sdkReady === true, undefined, { timeout: 10_000 })
  return page
}

/** Starts a stream on the tab (options must be JSON-serialisable). */
export async function startStream(page: Page, options: Record<string, unknown>, types: string[] = []): Promise<void> {
  await page.evaluate(
    ([o, t]) => (window as unknown as { __start(u: string, o: unknown, t: string[]): void }).__start('/events', o, t),
    [options, types] as const,
  )
}

export function readTab(page: Page): Promise<TabLog> {
  return page.evaluate(() => (window as unknown as { __log: TabLog }).__log)
}

/** Waits until `condition` holds for the tab's log (polling every 25 ms). */
export async function waitForTab(page: Page, condition: (log: TabLog) => boolean, what: string, timeout = 10_000): Promise<TabLog> {
  const start = Date.now()
  for (;;) {
    const log = await readTab(page)
    if (condition(log)) return log
    if (Date.now() - start > timeout) {
      throw new Error(`timed out after ${timeout} ms waiting for: ${what} (received ${log.messages.length}, last ${JSON.stringify(log.messages.slice(-3).map((m) => m.data))}, errors ${JSON.stringify(log.errors)})`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Waits until `condition()` holds (polling every 10 ms). */
export async function until(condition: () => boolean, what: string, timeout = 10_000): Promise<void> {
  const start = Date.now()
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error(`timed out after ${timeout} ms waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Samples `read()` every 5 ms until stopped; `max` is the largest value seen. */
export function sampleMax(read: () => number): { readonly max: number; stop(): void } {
  let max = read()
  const timer = setInterval(() => {
    max = Math.max(max, read())
  }, 5)
  return {
    get max() {
      return max
    },
    stop: () => clearInterval(timer),
  }
}

/** `["from", …, "to"]`. */
export function range(from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => String(from + i))
}
