import { Buffer } from 'node:buffer'
import type { ServerResponse } from 'node:http'

/** Headers every response carries, errors included. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  // no-transform keeps compression middleware and proxies from re-encoding (and buffering) streams.
  'Cache-Control': 'no-store, no-transform',
  'X-Accel-Buffering': 'no',
  'X-Content-Type-Options': 'nosniff',
}

/** Error codes of the JSON bodies the hub answers with (400, 403, 405, 500, 503). */
export type HubResponseErrorCode =
  | 'invalid-mode'
  | 'invalid-url'
  | 'invalid-topic'
  | 'method-not-allowed'
  | 'origin-not-allowed'
  | 'closing'
  | 'overloaded'
  | 'store-unavailable'
  | 'internal-error'

/** Sends a complete JSON response with `Content-Length`. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
  })
  res.end(text)
}

/** Sends `{ error: { code, message } }`. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: HubResponseErrorCode,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { code, message } }, headers)
}

/** Answers 503 `store-unavailable` when the store failed before anything was sent. */
export function sendStoreFailure(res: ServerResponse, error: unknown): void {
  const message = error instanceof Error ? error.message : 'The event store failed'
  sendError(res, 503, 'store-unavailable', message, { 'Retry-After': '5' })
}
