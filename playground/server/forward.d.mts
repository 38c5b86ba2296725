import type { IncomingMessage, ServerResponse } from 'node:http'

/** Forwards requests to one upstream origin. */
export interface Forwarder {
  /** Forwards one request. @returns a promise that settles when the response has closed; it never rejects */
  forward(req: IncomingMessage, res: ServerResponse): Promise<void>
  /** Upstream requests not closed yet. */
  readonly openRequests: number
  /** Destroys the requests still open and the pooled sockets. */
  close(): void
}

/**
 * Forwards requests to `target` (an `http:` origin) without buffering, propagating client aborts
 * and upstream failures.
 * @example
 * const forwarder = createForwarder({ target: proxy.url })
 * server.on('request', (req, res) => forwarder.forward(req, res))
 */
export declare function createForwarder(options: { target: string }): Forwarder
