import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createNetworkProxy } from '../../../playground/network/index.mjs'
import { sendFile } from '../../support/loopback-http.mjs'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
/** The built package; `npx tsup` (or `npm run build`) writes it. */
export const DIST_DIR = path.join(ROOT, 'dist')
const PAGE_SCRIPT = fileURLToPath(new URL('./ladder-page.js', import.meta.url))

/** The HTML page: it only loads the recorder module. */
export const LADDER_PAGE_HTML =
  '<!doctype html><html><head><meta charset="utf-8"><title>ladder</title>' +
  '<script type="module" src="/ladder-page.js"></script></head><body>ladder</body></html>'

const TYPES = { '.js': 'text/javascript; charset=utf-8', '.map': 'application/json; charset=utf-8' }

/**
 * Throws a clear error when the built browser entry is missing.
 * @throws Error naming the build command
 */
export function assertBuilt(distDir = DIST_DIR) {
  if (!existsSync(path.join(distDir, 'index.js'))) {
    throw new Error('dist/index.js is missing: the browser ladder tests load the built package. Run `npx tsup` (npm run test:browser builds first).')
  }
}

/**
 * Starts the app server (page, `/pkg/*` from dist, `/ladder-page.js`, everything else to
 * `handler`, normally `hub.handle`) and a simulated proxy in front of all of it, so the page and
 * the event stream share one origin: the proxy's.
 */
export async function startLadderApp({ handler, mode = 'direct', options = {}, distDir = DIST_DIR }) {
  assertBuilt(distDir)
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(LADDER_PAGE_HTML)
    } else if (url.pathname === '/ladder-page.js') {
      void sendFile(res, PAGE_SCRIPT, TYPES)
    } else if (url.pathname.startsWith('/pkg/')) {
      const name = url.pathname.slice('/pkg/'.length)
      // Files and sub-directories of dist (chunks, lazily imported modules), never outside it.
      if (!/^[\w-][\w.-]*(\/[\w-][\w.-]*)*$/.test(name)) res.writeHead(404).end()
      else void sendFile(res, path.join(distDir, name), TYPES)
    } else if (url.pathname === '/favicon.ico') {
      res.writeHead(404).end()
    } else {
      void handler(req, res)
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${server.address().port}`
  const proxy = await createNetworkProxy({ target: origin, mode, options })
  return {
    url: proxy.url,
    origin,
    proxy,
    async close() {
      await proxy.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** Wall-clock ms with sub-ms precision, the clock the page stamps arrivals with. */
export function preciseNow() {
  return performance.timeOrigin + performance.now()
}
