// @ts-check
import { isValidRate, MAX_RATE, MIN_RATE } from './publisher.mjs'

/** @typedef {import('./api.d.mts').Api} Api */
/** @typedef {import('./api.d.mts').ApiOptions} ApiOptions */
/** @typedef {import('./api.d.mts').PlaygroundState} PlaygroundState */
/** @typedef {import('../network/index.mjs').NetworkModeOptions} NetworkModeOptions */
/** @typedef {import('node:http').ServerResponse} ServerResponse */
/** @typedef {import('node:http').IncomingMessage} IncomingMessage */

const MAX_BODY = 8 * 1024

/** Numeric options of the simulated network, each with the range the API accepts. */
/** @type {Readonly<Record<string, readonly [number, number]>>} */
const NUMERIC_OPTIONS = {
  bytes: [1, 1_048_576],
  afterMs: [0, 600_000],
  minMs: [0, 600_000],
  maxMs: [0, 600_000],
  seed: [0, 2 ** 31],
  status: [400, 599],
  retryAfter: [0, 3600],
  burst: [0, 1_000_000],
  fraction: [0, 1],
  bytesPerSecond: [64, 100_000_000],
  latencyMs: [0, 60_000],
}

class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/**
 * @param {unknown} raw
 * @returns {NetworkModeOptions}
 */
function parseModeOptions(raw) {
  if (raw === undefined || raw === null) return {}
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ApiError(400, 'invalid-options', '`options` must be an object')
  /** @type {Record<string, unknown>} */
  const result = {}
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'headers') {
      if (value !== 'immediate' && value !== 'held') throw new ApiError(400, 'invalid-options', '`headers` must be "immediate" or "held"')
      result[key] = value
      continue
    }
    const range = NUMERIC_OPTIONS[key]
    if (range === undefined) throw new ApiError(400, 'invalid-options', `Unknown option ${JSON.stringify(key.slice(0, 40))}`)
    // JSON has no Infinity: `null` means "no limit" for `burst`.
    const number = key === 'burst' && value === null ? Infinity : value
    if (typeof number !== 'number' || Number.isNaN(number) || (number !== Infinity && (number < range[0] || number > range[1]))) {
      throw new ApiError(400, 'invalid-options', `\`${key}\` must be a number within ${range[0]}–${range[1]}`)
    }
    result[key] = number
  }
  return /** @type {NetworkModeOptions} */ (result)
}

/**
 * @param {IncomingMessage} req
 * @returns {Promise<unknown>}
 */
async function readJson(req) {
  const type = req.headers['content-type'] ?? ''
  if (!type.startsWith('application/json')) throw new ApiError(415, 'unsupported-media-type', 'Send application/json')
  let size = 0
  /** @type {Buffer[]} */
  const chunks = []
  for await (const chunk of req) {
    size += chunk.length
    if (size > MAX_BODY) throw new ApiError(413, 'too-large', `The body exceeds ${MAX_BODY} bytes`)
    chunks.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new ApiError(400, 'invalid-json', 'The body is not JSON')
  }
}

/**
 * @param {ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 */
function sendJson(res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}

/**
 * The playground's control API below `/api/`:
 * - `GET /api/state`: mode, options, rate, seq, hub and proxy counters;
 * - `POST /api/network` `{ mode, options?, reconnect? }`: switches the simulated network for new
 *   requests; unless `reconnect` is `false` it also drops the open connections so every client
 *   reconnects through the new network at once;
 * - `POST /api/rate` `{ rate }`: events per second, 0.2–50.
 * Each answers with the state; errors are `{ error: { code, message } }` with a 4xx status.
 *
 * @param {ApiOptions} options
 * @returns {Api}
 */
export function createApi({ proxy, publisher, hub, modes }) {
  /** @returns {PlaygroundState} */
  const state = () => ({
    mode: proxy.mode,
    options: proxy.options,
    modes: [...modes],
    rate: publisher.rate,
    minRate: MIN_RATE,
    maxRate: MAX_RATE,
    seq: publisher.seq,
    time: Date.now(),
    hub: hub.stats(),
    proxy: proxy.stats(),
  })

  /**
   * @param {IncomingMessage} req
   * @param {string} pathname
   */
  const route = async (req, pathname) => {
    const method = req.method ?? 'GET'
    if (pathname === '/api/state') {
      if (method !== 'GET' && method !== 'HEAD') throw new ApiError(405, 'method-not-allowed', 'Use GET')
      return state()
    }
    if (pathname === '/api/network') {
      if (method !== 'POST') throw new ApiError(405, 'method-not-allowed', 'Use POST')
      const body = /** @type {{ mode?: unknown, options?: unknown, reconnect?: unknown } | null} */ (await readJson(req))
      const mode = body?.mode
      if (typeof mode !== 'string' || !modes.includes(/** @type {never} */ (mode))) {
        throw new ApiError(400, 'invalid-mode', `\`mode\` must be one of ${modes.join(', ')}`)
      }
      const options = parseModeOptions(body?.options)
      proxy.setMode(/** @type {import('../network/index.mjs').NetworkMode} */ (mode), options)
      if (body?.reconnect !== false) proxy.disconnectAll()
      return state()
    }
    if (pathname === '/api/rate') {
      if (method !== 'POST') throw new ApiError(405, 'method-not-allowed', 'Use POST')
      const body = /** @type {{ rate?: unknown } | null} */ (await readJson(req))
      const rate = body?.rate
      if (!isValidRate(rate)) throw new ApiError(400, 'invalid-rate', `\`rate\` must be a number within ${MIN_RATE}–${MAX_RATE}`)
      publisher.setRate(rate)
      return state()
    }
    throw new ApiError(404, 'not-found', `No API at ${pathname.slice(0, 80)}`)
  }

  return {
    state,
    async handle(req, res) {
      const pathname = new URL(req.url ?? '/', 'http://localhost').pathname
      try {
        sendJson(res, 200, await route(req, pathname))
      } catch (error) {
        if (error instanceof ApiError) {
          if (error.status === 405) res.setHeader('allow', pathname === '/api/state' ? 'GET, HEAD' : 'POST')
          sendJson(res, error.status, { error: { code: error.code, message: error.message } })
        } else {
          sendJson(res, 500, { error: { code: 'internal', message: error instanceof Error ? error.message : String(error) } })
        }
      }
    },
  }
}
