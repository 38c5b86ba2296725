import type { IncomingMessage } from 'node:http'

/** How the log is rendered for one request: the `mode` query parameter. */
export type HubMode = 'stream' | 'close' | 'poll'

/** The protocol's part of a request, parsed and clamped. */
export interface HubRequest {
  readonly mode: HubMode
  /** The cursor as sent (header wins over query), `undefined` when absent or empty. */
  readonly cursor: string | undefined
  /** A valid start token, only when there is no cursor. */
  readonly startToken: string | undefined
  /** Seconds to hold `close`/`poll` when nothing is pending. */
  readonly wait: number
  /** Heartbeat interval in seconds. */
  readonly ping: number
}

/** Limits applied while parsing. */
export interface QueryLimits {
  readonly defaultWait: number
  readonly maxWait: number
  readonly defaultPing: number
  readonly minPing: number
  readonly maxPing: number
}

/** Why a request was refused with 400. */
export interface QueryProblem {
  readonly code: 'invalid-mode' | 'invalid-url'
  readonly message: string
}

const MODES: readonly HubMode[] = ['stream', 'close', 'poll']
const START_TOKEN = /^[A-Za-z0-9_-]{16,64}$/

function clampSeconds(raw: string | null, fallback: number, min: number, max: number): number {
  if (raw === null || raw.trim() === '') return fallback
  const value = Number(raw)
  if (Number.isNaN(value)) return fallback
  return Math.min(max, Math.max(min, value))
}

/**
 * @param token - anything
 * @returns whether it is a start token: base64url, 16–64 characters (≥ 96 bits)
 */
export function isStartToken(token: unknown): token is string {
  return typeof token === 'string' && START_TOKEN.test(token)
}

/**
 * Reads `mode`, the cursor (`Last-Event-ID` header, else `lastEventId` query), `wait`, `ping` and
 * `start`. Out-of-range or non-numeric `wait`/`ping` are clamped or defaulted, an invalid start
 * token is ignored (apps may have their own `start` parameter); only an unknown `mode` fails.
 */
export function parseHubRequest(req: IncomingMessage, limits: QueryLimits): HubRequest | QueryProblem {
  let params: URLSearchParams
  try {
    params = new URL(req.url ?? '/', 'http://localhost').searchParams
  } catch {
    return { code: 'invalid-url', message: 'The request URL cannot be parsed' }
  }
  const rawMode = params.get('mode')
  const mode = rawMode === null || rawMode === '' ? 'stream' : rawMode
  if (!(MODES as readonly string[]).includes(mode)) {
    return { code: 'invalid-mode', message: `Unknown mode ${JSON.stringify(mode.slice(0, 40))}; use stream, close or poll` }
  }
  // The header wins: a native EventSource reconnects with its original URL (stale query cursor)
  // but an up-to-date Last-Event-ID header.
  const header = req.headers['last-event-id']
  const headerCursor = typeof header === 'string' && header !== '' ? header : undefined
  const queryCursor = params.get('lastEventId') || undefined
  const cursor = headerCursor ?? queryCursor
  const start = params.get('start')
  return {
    mode: mode as HubMode,
    cursor,
    startToken: cursor === undefined && isStartToken(start) ? start : undefined,
    wait: clampSeconds(params.get('wait'), limits.defaultWait, 0, limits.maxWait),
    ping: clampSeconds(params.get('ping'), limits.defaultPing, limits.minPing, limits.maxPing),
  }
}

/** Narrows the result of {@link parseHubRequest}. */
export function isQueryProblem(value: HubRequest | QueryProblem): value is QueryProblem {
  return 'code' in value
}
