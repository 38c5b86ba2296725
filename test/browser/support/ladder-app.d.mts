import type { IncomingMessage, ServerResponse } from 'node:http'
import type { NetworkMode, NetworkModeOptions, NetworkProxy } from '../../../playground/network/index.mjs'

/** The built package directory the page loads `/pkg/index.js` from. */
export declare const DIST_DIR: string

/** The HTML of the ladder page (loads `/ladder-page.js`). */
export declare const LADDER_PAGE_HTML: string

/**
 * Throws a clear error when `dist/index.js` is missing.
 * @throws Error naming the build command
 */
export declare function assertBuilt(distDir?: string): void

/** Arguments of {@link startLadderApp}. */
export interface LadderAppInit {
  /** Serves every path the app does not: normally `(req, res) => hub.handle(req, res)`. */
  handler: (req: IncomingMessage, res: ServerResponse) => unknown
  /** Initial proxy mode. @defaultValue `'direct'` */
  mode?: NetworkMode
  /** Options of the initial mode. */
  options?: NetworkModeOptions
  /** Where `/pkg/*` is served from. @defaultValue {@link DIST_DIR} */
  distDir?: string
}

/** A running app server with a simulated proxy in front. */
export interface LadderApp {
  /** The proxy origin: open `${url}/` in the browser, stream from `/events`. */
  readonly url: string
  /** The app server itself, without the proxy. */
  readonly origin: string
  readonly proxy: NetworkProxy
  close(): Promise<void>
}

/**
 * Starts the page + package + handler server and a simulated proxy in front of all of it (one
 * origin for page and events).
 * @throws Error when dist/index.js is missing
 */
export declare function startLadderApp(init: LadderAppInit): Promise<LadderApp>

/** `performance.timeOrigin + performance.now()`: the clock the page stamps arrivals with. */
export declare function preciseNow(): number
