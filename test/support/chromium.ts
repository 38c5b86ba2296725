import { existsSync } from 'node:fs'
import { realpath } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from 'playwright-core'

import { CHROMIUM_ARGS, CHROMIUM_BINARY, CHROMIUM_INSTALL_HINT } from './chromium-flags.mjs'
import { listenOnLoopback, notFound, sendFile } from './loopback-http.mjs'

export { CHROMIUM_ARGS, CHROMIUM_BINARY, CHROMIUM_INSTALL_HINT }

/** Options of {@link launchChromium}. */
export interface LaunchChromiumOptions {
  /** Flags added after {@link CHROMIUM_ARGS}. */
  args?: readonly string[]
  /**
   * Launch timeout.
   * @defaultValue `30000`
   */
  timeoutMs?: number
}

/**
 * Launches the system Chromium through playwright-core (no downloaded browser build).
 *
 * @param options - Extra flags and timeout.
 * @returns The browser; close it in `afterAll`.
 * @throws Error with the install command when {@link CHROMIUM_BINARY} is missing.
 * @example
 * const browser = await launchChromium()
 * const profile = await newProfile(browser)
 * const page = await profile.newPage()
 */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_BINARY)) {
    throw new Error(`Chromium is not installed (${CHROMIUM_BINARY} missing). Install it with: ${CHROMIUM_INSTALL_HINT}`)
  }
  return chromium.launch({
    executablePath: CHROMIUM_BINARY,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
    timeout: options.timeoutMs ?? 30_000,
  })
}

/**
 * Opens one browser "profile": an isolated context with its own storage, cookies, Web Locks,
 * BroadcastChannel and SharedWorker scope. Pages of one profile act like tabs of one browser;
 * two profiles act like two browsers.
 *
 * @param browser - From {@link launchChromium}.
 * @param options - Playwright context options.
 * @returns The context; its pages are the "tabs".
 */
export function newProfile(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  return browser.newContext(options)
}

/** A custom route of {@link startStaticServer}: full control over the response. */
export type StaticRouteHandler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void | Promise<void>

/** Options of {@link startStaticServer}. */
export interface StaticServerOptions {
  /** Directory served for paths no route claims (`/` serves `index.html`). Without it only routes answer. */
  root?: string
  /** Handlers by exact pathname (query ignored), tried before files, e.g. `{ '/sse': handler }`. */
  routes?: Record<string, StaticRouteHandler>
}

/** A running loopback server from {@link startStaticServer}. */
export interface StaticServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  readonly port: number
  /** Adds or replaces a route while running. */
  route(pathname: string, handler: StaticRouteHandler): void
  /** Destroys open connections (streams included) and stops listening. */
  close(): Promise<void>
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
}

async function serveFile(root: string, url: URL, res: http.ServerResponse): Promise<void> {
  const relative = decodeURIComponent(url.pathname).replace(/^\/+/, '') || 'index.html'
  const resolvedRoot = await realpath(root)
  const file = path.resolve(resolvedRoot, relative)
  // Refuse anything outside root, including through symlinks.
  const real = await realpath(file).catch(() => undefined)
  if (!real || (real !== resolvedRoot && !real.startsWith(resolvedRoot + path.sep))) {
    notFound(res)
    return
  }
  await sendFile(res, real, CONTENT_TYPES)
}

/**
 * Starts a loopback node:http server for browser tests: custom routes (pages, SSE endpoints,
 * a server companion) first, then static files from `root`.
 *
 * @param options - Root directory and routes.
 * @returns The listening server.
 * @example
 * const server = await startStaticServer({ root: 'dist', routes: { '/': (_req, res) => res.end(html) } })
 */
export async function startStaticServer(options: StaticServerOptions = {}): Promise<StaticServer> {
  const routes = new Map(Object.entries(options.routes ?? {}))
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const route = routes.get(url.pathname)
    const served = route
      ? Promise.resolve(route(req, res, url))
      : options.root
        ? serveFile(options.root, url, res)
        : Promise.resolve(notFound(res))
    served.catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
      res.end(`server error: ${String(error)}\n`)
    })
  })
  const { url, port, close } = await listenOnLoopback(server)
  return {
    url,
    port,
    route(pathname, handler) {
      routes.set(pathname, handler)
    },
    close,
  }
}
