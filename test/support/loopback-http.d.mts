import type { Server, ServerResponse } from 'node:http'

/** Answers 404 with a short plain-text body. */
export declare function notFound(res: ServerResponse): void

/**
 * Sends `file` uncached (200, its length, `cache-control: no-store`), typed by its extension from
 * `types` (`application/octet-stream` for others); 404 when it cannot be read.
 */
export declare function sendFile(res: ServerResponse, file: string, types: Readonly<Record<string, string>>): Promise<void>

/** A server listening on loopback, from {@link listenOnLoopback}. */
export interface LoopbackListener {
  readonly port: number
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  /** Destroys open connections and stops listening. */
  close(): Promise<void>
}

/**
 * Listens on 127.0.0.1 on a port the OS picks, keeping track of open sockets so that `close()`
 * can destroy them: open event streams would otherwise keep `server.close()` waiting.
 */
export declare function listenOnLoopback(server: Server): Promise<LoopbackListener>
