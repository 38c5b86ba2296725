import type { ConnectRequest, TransportMode } from './types'

/** Query parameters the protocol owns; an app value for one of them is replaced, not doubled. */
const PROTOCOL_KEYS = ['mode', 'lastEventId', 'start', 'ping', 'wait']

/** Extra protocol query parameters, set last (they replace the request's own, e.g. `wait: 0`). */
export type RequestUrlExtra = Readonly<Record<string, string | number | undefined>>

/**
 * Builds the URL of one attempt: the app's URL and query untouched, plus the protocol's
 * parameters (`mode`, `lastEventId`, `start`, `ping`, `wait`) when `request.protocolQuery` is
 * true. Headers and tokens never go into the URL.
 *
 * The query is rewritten by hand rather than with `URL`/`URLSearchParams`: those re-encode the
 * app's own parameters (`%20` → `+`) and need an absolute base.
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
export function buildRequestUrl(request: ConnectRequest, mode: TransportMode, extra: RequestUrlExtra = {}): string {
  let url = request.url
  if (request.protocolQuery) {
    const [, base, query = '', hash = ''] = /^([^?#]*)(?:\?([^#]*))?([^]*)$/.exec(url)!
    const owned = [...PROTOCOL_KEYS, ...Object.keys(extra)]
    const parts = query.split('&').filter((part) => part && !owned.includes(decodeKey(part)))
    const params: RequestUrlExtra = {
      mode,
      lastEventId: request.lastEventId,
      // A real cursor always wins over the start token, so the token is left out once there is one.
      start: request.lastEventId === undefined ? request.startToken : undefined,
      ping: request.ping,
      wait: request.wait,
      ...extra,
    }
    for (const key in params) if (params[key] !== undefined) parts.push(key + '=' + encodeURIComponent(params[key]!))
    url = base + (parts.length ? '?' + parts.join('&') : '') + hash
  }
  const href = (globalThis as { location?: { href?: unknown } }).location?.href
  try {
    return /^[a-z][a-z\d+\-.]*:/i.test(url) || typeof href !== 'string' ? url : new URL(url, href).href
  } catch {
    return url
  }
}

function decodeKey(part: string): string {
  const key = part.split('=')[0]!.replace(/\+/g, ' ')
  try {
    return decodeURIComponent(key)
  } catch {
    return key
  }
}
