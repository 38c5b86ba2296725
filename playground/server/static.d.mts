import type { IncomingMessage, ServerResponse } from 'node:http'

/** A directory served below a URL prefix. */
export interface StaticMount {
  /** URL prefix, e.g. `/pkg/` (a trailing slash is added when missing). */
  prefix: string
  /** Directory on disk. */
  dir: string
}

/** Serves files of its mounts. */
export interface StaticHandler {
  /** @returns whether a file was served (`false`: no such file, or not GET/HEAD; nothing was written) */
  serve(req: IncomingMessage, res: ServerResponse): Promise<boolean>
}

/**
 * Serves files below a few directories, each mounted at a URL prefix.
 * @example
 * const files = createStaticHandler({ mounts: [{ prefix: '/', dir: 'playground/public' }] })
 */
export declare function createStaticHandler(options: { mounts: readonly StaticMount[] }): StaticHandler
