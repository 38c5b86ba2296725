import { Buffer } from 'node:buffer'
import type { ServerResponse } from 'node:http'
import type { HubContext } from '../context'
import { formatReservedFrame, formatRetryFrame } from '../frames'
import { sendError } from '../http'
import type { HubRequest } from '../query'

/**
 * Refuses a request while the hub is at `maxConnections`. `stream`/`close` get a complete
 * 200 event stream (`_canary`, `retry:`, `_backoff`) because a native EventSource treats any
 * non-200 status as fatal and never reconnects; `poll` gets 503 with `Retry-After`.
 */
export function sendOverload(ctx: HubContext, res: ServerResponse, request: HubRequest, retryMs: number): void {
  if (request.mode === 'poll') {
    sendError(res, 503, 'overloaded', 'Too many open connections', {
      'Retry-After': String(Math.max(1, Math.ceil(retryMs / 1000))),
    })
    return
  }
  const body =
    formatReservedFrame('_canary', {
      v: 1,
      mode: request.mode,
      t: ctx.now(),
      ping: request.ping,
      head: null,
      oldest: null,
      ordered: true,
    }) +
    formatRetryFrame(retryMs) +
    formatReservedFrame('_backoff', { retryMs, reason: 'overload' })
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  })
  res.end(body)
}
