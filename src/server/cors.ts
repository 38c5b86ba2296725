import type { IncomingMessage, ServerResponse } from 'node:http'

/** Cross-origin access: an explicit allow-list, never a reflection of any Origin. */
export interface CorsOptions {
  /** Allowed origins, exactly as browsers send them (`https://app.example`), or `'*'` for any. */
  origins: readonly string[] | '*'
  /**
   * Allow cookies / HTTP auth (`withCredentials`). With `'*'` the request's Origin is echoed,
   * since browsers refuse `*` on credentialed requests.
   * @defaultValue false
   */
  credentials?: boolean
  /**
   * Extra request headers the app's client sends, beyond `Last-Event-ID`, `Authorization`,
   * `Content-Type`.
   * @defaultValue []
   */
  allowHeaders?: readonly string[]
  /**
   * How long browsers may cache a preflight answer, in seconds.
   * @defaultValue 600
   */
  maxAge?: number
}

const BASE_ALLOW_HEADERS = ['Last-Event-ID', 'Authorization', 'Content-Type']
const EXPOSE_HEADERS = 'Retry-After'

/**
 * Adds CORS headers for an allowed Origin.
 * @returns `'none'` (no Origin header or no CORS configured), `'allowed'` or `'denied'`
 */
export function applyCors(
  req: IncomingMessage,
  res: ServerResponse,
  cors: CorsOptions | undefined,
): 'none' | 'allowed' | 'denied' {
  const origin = req.headers.origin
  if (cors !== undefined) res.setHeader('Vary', 'Origin')
  if (typeof origin !== 'string' || origin === '') return 'none'
  if (cors === undefined) return 'denied'
  const anyOrigin = cors.origins === '*'
  if (!anyOrigin && !cors.origins.includes(origin)) return 'denied'
  const credentials = cors.credentials === true
  res.setHeader('Access-Control-Allow-Origin', anyOrigin && !credentials ? '*' : origin)
  if (credentials) res.setHeader('Access-Control-Allow-Credentials', 'true')
  res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS)
  return 'allowed'
}

/** Adds the preflight-only headers after {@link applyCors} allowed the Origin. */
export function applyPreflight(res: ServerResponse, cors: CorsOptions): void {
  res.setHeader('Access-Control-Allow-Methods', 'GET, OPTIONS')
  res.setHeader('Access-Control-Allow-Headers', [...BASE_ALLOW_HEADERS, ...(cors.allowHeaders ?? [])].join(', '))
  res.setHeader('Access-Control-Max-Age', String(cors.maxAge ?? 600))
}
