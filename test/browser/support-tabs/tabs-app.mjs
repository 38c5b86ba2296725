// A loopback app for the multi-tab tests and the tabs benchmark: one origin (plain HTTP/1.1)
// serving the page, a snapshot of the built package, the SharedWorker script, another page, and
// a companion hub at /events. Plain ESM so `node bench/tabs.mjs` can use it too.
import { existsSync } from 'node:fs'
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { notFound, sendFile } from '../../support/loopback-http.mjs'
import { createSequencePublisher } from '../../support/sequence-publisher.mjs'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const DIST = path.join(ROOT, 'dist')
const PAGE_SCRIPT = fileURLToPath(new URL('./tabs-page.js', import.meta.url))

const PAGE_HTML =
  '<!doctype html><html><head><meta charset="utf-8"><title>tabs</title>' +
  '<script type="module" src="/tabs-page.js"></script></head><body>tabs</body></html>'

export async function assertBuilt() {
  const start = Date.now()
  while (!existsSync(path.join(DIST, 'index.js'))) {
    if (Date.now() - start > 60_000) {
      throw new Error('dist/index.js is missing: the tabs tests load the built package. Run `npx tsup` (npm run test:browser builds first).')
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

export async function prepareFiles() {
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

export function removeFiles(dir) {
  return rm(dir, { recursive: true, force: true })
}

/** Only `.js` files are served (the route below checks the name). */
const TYPES = { '.js': 'text/javascript; charset=utf-8' }

export async function startTabsApp(dir, hub) {
  const eventRequests = []
  let workerFetches = 0
  const { publish, published } = createSequencePublisher(hub)
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE_HTML)
    } else if (url.pathname === '/other') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end('<!doctype html><p>another page</p>')
    } else if (url.pathname === '/events') {
      eventRequests.push({ mode: url.searchParams.get('mode'), at: Date.now() })
      void hub.handle(req, res)
    } else if (/^\/[\w-][\w.-]*\.js$/.test(url.pathname)) {
      if (url.pathname === '/worker.js') workerFetches += 1
      void sendFile(res, path.join(dir, url.pathname.slice(1)), TYPES)
    } else {
      notFound(res)
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    hub,
    eventRequests,
    workerFetches: () => workerFetches,
    publish,
    published,
    openConnections: () => Object.values(hub.stats().connections).reduce((sum, n) => sum + n, 0),
    async close() {
      await hub.close({ timeout: 200 })
      server.closeAllConnections()
      await new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

export async function openTab(profile, app) {
  const page = await profile.newPage()
  await page.goto(`${app.url}/`)
  await page.waitForFunction(() => window.__sdkReady === true, undefined, { timeout: 15_000 })
  return page
}

export async function startStream(page, options, types = []) {
  await page.evaluate(([o, t]) => window.__start('/events', o, t), [options, types])
}

export function readTab(page) {
  return page.evaluate(() => window.__log)
}

export async function waitForTab(page, condition, what, timeout = 10_000) {
  const start = Date.now()
  for (;;) {
    const log = await readTab(page)
    if (condition(log)) return log
    if (Date.now() - start > timeout) {
      const last = JSON.stringify(log.messages.slice(-3).map((m) => m.data))
      throw new Error(`timed out after ${timeout} ms waiting for: ${what} (received ${log.messages.length}, last ${last}, errors ${JSON.stringify(log.errors)})`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

export async function until(condition, what, timeout = 10_000) {
  const start = Date.now()
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error(`timed out after ${timeout} ms waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export function sampleMax(read) {
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

export function range(from, to) {
  return Array.from({ length: to - from + 1 }, (_, i) => String(from + i))
}
