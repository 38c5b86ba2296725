import { existsSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startStaticServer, type StaticRouteHandler, type StaticServer } from '../../support/chromium'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const DIST = path.join(ROOT, 'dist')
const PAGE_SCRIPT = fileURLToPath(new URL('./security-page.js', import.meta.url))

const PAGE_HTML =
  '<!doctype html><html><head><meta charset="utf-8"><title>security</title>' +
  '<script type="module" src="/security-page.js"></script></head><body>security</body></html>'

/**
 * Copies the built browser files (dist/*.js: ESM entry and chunks, the IIFE, the worker) to a
 * temporary directory, so a rebuild running at the same time cannot change them mid-test.
 * @throws Error naming the build command when dist/ has not been built
 */
export async function snapshotDist(): Promise<string> {
  for (const file of ['index.js', 'worker.js', 'resilient-sse.global.js']) {
    if (!existsSync(path.join(DIST, file))) {
      throw new Error(`dist/${file} is missing: the security browser tests load the built package. Run \`npm run build\` first (npm run test:browser does).`)
    }
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'resilient-sse-security-'))
  await mkdir(path.join(dir, 'pkg'))
  for (const name of await readdir(DIST)) if (name.endsWith('.js')) await copyFile(path.join(DIST, name), path.join(dir, 'pkg', name))
  await copyFile(PAGE_SCRIPT, path.join(dir, 'security-page.js'))
  return dir
}

export function removeSnapshot(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true })
}

/** One request as the server saw it; status and CORS header are read from the live response. */
export interface LoggedRequest {
  method: string
  url: string
  host: string
  origin: string | undefined
  authorization: string | undefined
  apiKey: string | undefined
  status(): number
  allowOrigin(): string | undefined
}

/** A loopback app: the page, the built package under /pkg/, the worker, `/events` and whatever `routes` add. */
export interface SecurityApp {
  server: StaticServer
  /** `http://127.0.0.1:PORT` */
  url: string
  /** `http://localhost:PORT`: the same server, another origin. */
  altUrl: string
  /** Every request to `/events` and `/worker.js`, in arrival order. */
  log: LoggedRequest[]
  close(): Promise<void>
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

function logged(log: LoggedRequest[], handler: StaticRouteHandler): StaticRouteHandler {
  return (req: IncomingMessage, res: ServerResponse, url: URL) => {
    log.push({
      method: req.method ?? '',
      url: req.url ?? '',
      host: header(req, 'host') ?? '',
      origin: header(req, 'origin'),
      authorization: header(req, 'authorization'),
      apiKey: header(req, 'x-api-key'),
      status: () => res.statusCode,
      allowOrigin: () => {
        const value = res.getHeader('access-control-allow-origin')
        return value === undefined ? undefined : String(value)
      },
    })
    return handler(req, res, url)
  }
}

/**
 * Starts the app.
 * @param dir - from {@link snapshotDist}
 * @param events - the `/events` handler (a hub, or a router between hubs)
 * @param routes - more routes (CSP pages, report endpoints)
 * @param workerHeaders - extra response headers of `/worker.js` (a CSP)
 */
export async function startSecurityApp(
  dir: string,
  events: StaticRouteHandler,
  routes: Record<string, StaticRouteHandler> = {},
  workerHeaders: Record<string, string> = {},
): Promise<SecurityApp> {
  const log: LoggedRequest[] = []
  const page = await readFile(path.join(dir, 'security-page.js'))
  const worker = await readFile(path.join(dir, 'pkg', 'worker.js'))
  const server = await startStaticServer({
    root: dir,
    routes: {
      '/': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE_HTML)
      },
      '/security-page.js': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(page)
      },
      '/worker.js': logged(log, (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store', ...workerHeaders }).end(worker)
      }),
      '/events': logged(log, events),
      '/favicon.ico': (_req, res) => {
        res.writeHead(204).end()
      },
      ...routes,
    },
  })
  return {
    server,
    url: server.url,
    altUrl: `http://localhost:${server.port}`,
    log,
    close: () => server.close(),
  }
}
