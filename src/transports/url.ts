import type { ConnectRequest, TransportMode } from './types'

/** Query parameters the protocol owns; an app value for one of them is replaced, not doubled. */
const PROTOCOL_KEYS = ['mode', 'lastEventId', 'start', 'ping', 'wait'] as const

/** Extra protocol query parameters, set last (they replace the request's own, e.g. `wait: 0`). */
export type RequestUrlExtra = Readonly<Record<string, string | number | undefined>>

/**
 * Builds the URL of one attempt: the app's URL and query untouched, plus the protocol's
 * parameters (`mode`, `lastEventId`, `start`, `ping`, `wait`) when `request.protocolQuery` is
 * true. Headers and tokens never go into the URL.
 *
 * A relative URL is resolved against `globalThis.location.href` when there is one (page,
 * worker); without a location (Node) it stays relative, so nothing is invented.
 *
 * @param request - the attempt: `url`, cursor, start token, `ping`, `wait`, `protocolQuery`
 * @param mode - the rendering to ask the companion for
 * @param extra - more parameters, set after the others (`undefined` values are left out)
 * @returns the URL to request
 * @example
 * ```ts
 * buildRequestUrl({ ...request, url: '/events?topic=a', lastEventId: '5-0' }, 'poll', { wait: 0 })
 * // '/events?topic=a&mode=poll&lastEventId=5-0&wait=0' (resolved against location in a page)
 * ```
 */
export function buildRequestUrl(
  request: ConnectRequest,
  mode: TransportMode,
  extra?: RequestUrlExtra,
): string {
  let url = request.url
  if (request.protocolQuery) {
    const params: Array<[string, string | number | undefined]> = [['mode', mode]]
    if (request.lastEventId !== undefined) params.push(['lastEventId', request.lastEventId])
    // A real cursor always wins over the start token, so the token is left out once there is one.
    else if (request.startToken !== undefined) params.push(['start', request.startToken])
    params.push(['ping', request.ping], ['wait', request.wait])
    const merged = new Map<string, string>()
    for (const [key, value] of params) if (value !== undefined) merged.set(key, String(value))
    for (const [key, value] of Object.entries(extra ?? {})) {
      if (value === undefined) merged.delete(key)
      else merged.set(key, String(value))
    }
    url = setQuery(url, merged, [...PROTOCOL_KEYS, ...Object.keys(extra ?? {})])
  }
  return resolve(url)
}

/**
 * Rewrites the query by hand rather than with `URL`/`URLSearchParams`: those re-encode the
 * app's own parameters (`%20` → `+`) and need an absolute base.
 */
function setQuery(url: string, params: Map<string, string>, owned: readonly string[]): string {
  const hashAt = url.indexOf('#')
  const hash = hashAt === -1 ? '' : url.slice(hashAt)
  const withoutHash = hashAt === -1 ? url : url.slice(0, hashAt)
  const queryAt = withoutHash.indexOf('?')
  const base = queryAt === -1 ? withoutHash : withoutHash.slice(0, queryAt)
  const query = queryAt === -1 ? '' : withoutHash.slice(queryAt + 1)
  const kept = query.split('&').filter((part) => part !== '' && !owned.includes(decodeKey(part)))
  for (const [key, value] of params) {
    kept.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
  }
  return kept.length === 0 ? base + hash : `${base}?${kept.join('&')}${hash}`
}

function decodeKey(part: string): string {
  const equalsAt = part.indexOf('=')
  const key = (equalsAt === -1 ? part : part.slice(0, equalsAt)).replace(/\+/g, ' ')
  try {
    return decodeURIComponent(key)
  } catch {
    return key
  }
}

const ABSOLUTE = /^[a-z][a-z\d+\-.]*:/i

function resolve(url: string): string {
  if (ABSOLUTE.test(url)) return url
  const location = (globalThis as { location?: { href?: unknown } }).location
  if (typeof location?.href !== 'string') return url
  try {
    return new URL(url, location.href).href
  } catch {
    return url
  }
}
