import { Buffer } from 'node:buffer'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type HubContext, randomRetry } from '../context'
import { formatEventFrame, formatReservedFrame, formatRetryFrame } from '../frames'
import { sendStoreFailure } from '../http'
import type { HubRequest } from '../query'
import { collectBatch } from './batch'

/**
 * Serves `mode=close`: one batch as a complete event stream with `Content-Length` (so buffering
 * proxies pass it on at once): `_canary`, `retry:`, [`_gap`], events, `_end`; when nothing
 * arrived within `wait`: `_canary`, `retry:`, `_ping`, `_end`.
 * @returns a promise that settles when the response is sent or abandoned
 */
export async function serveClose(ctx: HubContext, _req: IncomingMessage, res: ServerResponse, request: HubRequest): Promise<void> {
  let batch
  try {
    batch = await collectBatch(ctx, res, request, 'close')
  } catch (error) {
    if (!res.headersSent) sendStoreFailure(res, error)
    return
  }
  if (batch === undefined) return
  const { resolved } = batch
  const t = ctx.now()
  let body =
    formatReservedFrame('_canary', {
      v: 1,
      mode: 'close',
      t,
      ping: request.ping,
      head: resolved.head,
      oldest: resolved.oldest,
      cursor: resolved.from,
      ordered: true,
    }) + formatRetryFrame(randomRetry(ctx.random))
  if (resolved.gap !== undefined) body += formatReservedFrame('_gap', resolved.gap, resolved.from)
  for (const event of batch.events) body += formatEventFrame(event)
  if (batch.events.length === 0 && resolved.gap === undefined) body += formatReservedFrame('_ping', { t, n: 1 })
  body += formatReservedFrame('_end', { reason: batch.reason })
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  })
  res.end(body)
}
