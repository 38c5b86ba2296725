// @ts-check
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { createEventSplitter } from './event-splitter.mjs'
import { createSeededRandom, randomIntBetween } from './prng.mjs'

/** @typedef {import('./proxy.d.mts').NetworkMode} NetworkMode */
/** @typedef {import('./proxy.d.mts').NetworkModeOptions} NetworkModeOptions */
/** @typedef {import('./proxy.d.mts').NetworkProxy} NetworkProxy */
/** @typedef {import('./proxy.d.mts').NetworkProxyInit} NetworkProxyInit */
/** @typedef {import('./proxy.d.mts').RoundRobinProxyInit} RoundRobinProxyInit */
/** @typedef {import('./proxy.d.mts').NetworkProxyStats} NetworkProxyStats */
/** @typedef {import('./proxy.d.mts').NetworkModeStats} NetworkModeStats */

/**
 * Every behaviour the simulated network can apply, in the order the docs describe them.
 * @type {readonly NetworkMode[]}
 */
export const NETWORK_MODES = Object.freeze([
  'direct',
  'hold-until-close',
  'hold-until-bytes',
  'hold-each-event',
  'headers-only',
  'cut-after',
  'reset-event-stream',
  'status-burst',
  'slow',
])

const DEFAULT_HOLD_BYTES = 4096
const DEFAULT_CUT_AFTER_MS = 1000
const DEFAULT_BURST_STATUS = 503
const DEFAULT_RETRY_AFTER_SECONDS = 1
const DEFAULT_BYTES_PER_SECOND = 16 * 1024
const DEFAULT_LATENCY_MS = 50
// Slices of the slow link are released every ~50 ms worth of bytes, which keeps timers few
// while the observed rate stays smooth.
const SLOW_SLICES_PER_SECOND = 20

// Hop-by-hop headers belong to one connection and must not be forwarded (RFC 9110 §7.6.1).
export const HOP_BY_HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/**
 * @param {http.IncomingHttpHeaders} headers
 * @param {readonly string[]} [drop]
 * @returns {http.OutgoingHttpHeaders}
 */
function forwardableHeaders(headers, drop = []) {
  /** @type {http.OutgoingHttpHeaders} */
  const result = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP_HEADERS.has(name) || drop.includes(name)) continue
    result[name] = value
  }
  return result
}

/**
 * @param {unknown} mode
 * @returns {asserts mode is NetworkMode}
 */
function assertMode(mode) {
  if (typeof mode !== 'string' || !NETWORK_MODES.includes(/** @type {NetworkMode} */ (mode))) {
    throw new TypeError(`Unknown network mode ${JSON.stringify(mode)}; expected one of ${NETWORK_MODES.join(', ')}`)
  }
}

/** @returns {NetworkModeStats} */
function emptyModeStats() {
  return {
    requests: 0,
    openRequests: 0,
    connections: 0,
    openConnections: 0,
    clientAborts: 0,
    proxyDestroys: 0,
    rejected: 0,
  }
}

/**
 * Resets a socket (TCP RST) where the runtime supports it, else destroys it.
 * @param {import('node:net').Socket | null} socket
 */
function resetSocket(socket) {
  if (!socket || socket.destroyed) return
  const resettable = /** @type {{ resetAndDestroy?: () => void }} */ (/** @type {unknown} */ (socket))
  if (typeof resettable.resetAndDestroy === 'function') resettable.resetAndDestroy()
  else socket.destroy()
}

/**
 * State of one mode activation: a fresh generator and burst budget per `setMode` call, so a
 * seeded chaos run replays identically after every switch.
 * @typedef {object} ModeState
 * @property {NetworkMode} mode
 * @property {NetworkModeOptions} options
 * @property {() => number} random
 * @property {number} burstRemaining
 */

/**
 * Per-request plumbing handed to a behaviour.
 * @typedef {object} Exchange
 * @property {http.ServerResponse} res
 * @property {http.IncomingMessage} upstream
 * @property {NetworkModeOptions} options
 * @property {(options?: { dropLength?: boolean }) => void} sendHeaders
 * @property {(callback: () => void, ms: number) => void} later
 * @property {(reset: boolean) => void} destroyClient
 */

/**
 * @param {Exchange} exchange
 */
function passThrough({ res, upstream, sendHeaders }) {
  sendHeaders()
  upstream.on('data', (/** @type {Buffer} */ chunk) => res.write(chunk))
  upstream.on('end', () => res.end())
}

/** @type {Record<NetworkMode, (exchange: Exchange) => void>} */
const BEHAVIOURS = {
  direct: passThrough,
  // The cut is a timer armed when the request arrives; requests a burst lets through pass as is.
  'cut-after': passThrough,
  'status-burst': passThrough,

  'hold-until-close'({ res, upstream, options, sendHeaders }) {
    if (options.headers !== 'held') sendHeaders()
    /** @type {Buffer[]} */
    const chunks = []
    upstream.on('data', (/** @type {Buffer} */ chunk) => chunks.push(chunk))
    upstream.on('end', () => {
      sendHeaders()
      res.end(Buffer.concat(chunks))
    })
  },

  'hold-until-bytes'({ res, upstream, options, sendHeaders }) {
    const threshold = Math.max(1, options.bytes ?? DEFAULT_HOLD_BYTES)
    if (options.headers !== 'held') sendHeaders()
    /** @type {Buffer[]} */
    let chunks = []
    let size = 0
    upstream.on('data', (/** @type {Buffer} */ chunk) => {
      chunks.push(chunk)
      size += chunk.length
      if (size < threshold) return
      sendHeaders()
      res.write(Buffer.concat(chunks))
      chunks = []
      size = 0
    })
    upstream.on('end', () => {
      sendHeaders()
      res.end(Buffer.concat(chunks))
    })
  },

  'hold-each-event'({ res, upstream, options, sendHeaders }) {
    if (options.headers !== 'held') sendHeaders()
    const splitter = createEventSplitter()
    /** @type {Buffer | undefined} */
    let held
    upstream.on('data', (/** @type {Buffer} */ chunk) => {
      for (const block of splitter.push(chunk)) {
        if (held) {
          sendHeaders()
          res.write(held)
        }
        held = block
      }
    })
    upstream.on('end', () => {
      sendHeaders()
      res.end(Buffer.concat([held ?? Buffer.alloc(0), splitter.rest()]))
    })
  },

  'headers-only'({ res, upstream, sendHeaders }) {
    // The body is swallowed, so a forwarded Content-Length would be a lie the client waits on.
    sendHeaders({ dropLength: true })
    upstream.resume()
    upstream.on('end', () => res.end())
  },

  'reset-event-stream'(exchange) {
    const { res, upstream, options, sendHeaders, later, destroyClient } = exchange
    const contentType = String(upstream.headers['content-type'] ?? '')
    if (!/^\s*text\/event-stream/i.test(contentType)) {
      passThrough(exchange)
      return
    }
    sendHeaders()
    upstream.resume()
    const socket = res.socket
    const reset = () => later(() => destroyClient(true), options.afterMs ?? 0)
    // Reset only once the headers have left the socket, so the client sees "headers, then a
    // reset" like behind the antivirus proxies that kill event streams.
    if (!socket || socket.writableLength === 0) reset()
    else socket.once('drain', reset)
  },

  slow({ res, upstream, options, sendHeaders, later }) {
    const bytesPerSecond = Math.max(1, options.bytesPerSecond ?? DEFAULT_BYTES_PER_SECOND)
    const latencyMs = Math.max(0, options.latencyMs ?? DEFAULT_LATENCY_MS)
    const sliceSize = Math.max(1, Math.floor(bytesPerSecond / SLOW_SLICES_PER_SECOND))
    // The link is one FIFO drained by a single timer: an item may start once it is `latencyMs`
    // old and the previous item has left, and leaves after size / rate. One timer at a time keeps
    // the order strict even when a loaded event loop fires timers late.
    /** @type {Array<{ readyAt: number, size: number, send: () => void }>} */
    const queue = []
    let linkFreeAt = 0
    let waiting = false
    const pump = () => {
      while (queue.length > 0) {
        const head = /** @type {{ readyAt: number, size: number, send: () => void }} */ (queue[0])
        const leavesAt = Math.max(head.readyAt, linkFreeAt) + (head.size / bytesPerSecond) * 1000
        const now = performance.now()
        if (leavesAt > now) {
          if (!waiting) {
            waiting = true
            later(() => {
              waiting = false
              pump()
            }, Math.ceil(leavesAt - now))
          }
          return
        }
        queue.shift()
        linkFreeAt = leavesAt
        head.send()
      }
    }
    /** @param {number} size @param {() => void} send */
    const enqueue = (size, send) => {
      queue.push({ readyAt: performance.now() + latencyMs, size, send })
      pump()
    }
    enqueue(0, () => sendHeaders())
    upstream.on('data', (/** @type {Buffer} */ chunk) => {
      for (let offset = 0; offset < chunk.length; offset += sliceSize) {
        const slice = chunk.subarray(offset, offset + sliceSize)
        enqueue(slice.length, () => res.write(slice))
      }
    })
    upstream.on('end', () => enqueue(0, () => res.end()))
  },
}

class SimulatedProxy {
  /** @type {http.Server} */
  #server
  /** @type {readonly URL[]} */
  #targets
  #nextTarget = 0
  /** @type {ModeState} */
  #state
  /** @type {Set<import('node:net').Socket>} */
  #sockets = new Set()
  /** @type {Set<http.ClientRequest>} */
  #upstreamRequests = new Set()
  #stats = {
    openConnections: 0,
    totalConnections: 0,
    openRequests: 0,
    totalRequests: 0,
    upstreamAborts: 0,
    /** @type {number[]} */
    cutDelaysMs: [],
    /** @type {number[]} */
    byTarget: [],
    /** @type {Record<NetworkMode, NetworkModeStats>} */
    byMode: /** @type {Record<NetworkMode, NetworkModeStats>} */ (
      Object.fromEntries(NETWORK_MODES.map((mode) => [mode, emptyModeStats()]))
    ),
  }
  #port = 0
  #host
  #requestedPort

  /**
   * @param {readonly URL[]} targets
   * @param {NetworkMode} mode
   * @param {NetworkModeOptions} options
   * @param {string} host
   * @param {number} port
   */
  constructor(targets, mode, options, host, port) {
    this.#targets = targets
    this.#stats.byTarget = targets.map(() => 0)
    this.#state = SimulatedProxy.#activate(mode, options)
    this.#host = host
    this.#requestedPort = port
    this.#server = http.createServer((req, res) => this.#handle(req, res))
    this.#server.on('connection', (socket) => this.#track(socket))
  }

  /**
   * @param {NetworkMode} mode
   * @param {NetworkModeOptions} options
   * @returns {ModeState}
   */
  static #activate(mode, options) {
    assertMode(mode)
    const copy = { ...options }
    return {
      mode,
      options: copy,
      random: createSeededRandom(copy.seed ?? 1),
      burstRemaining: copy.burst ?? Number.POSITIVE_INFINITY,
    }
  }

  /** @returns {Promise<void>} */
  listen() {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.#requestedPort, this.#host, () => {
        this.#server.off('error', reject)
        const address = this.#server.address()
        this.#port = typeof address === 'object' && address ? address.port : 0
        resolve()
      })
    })
  }

  get url() {
    return `http://${this.#host}:${this.#port}`
  }

  get port() {
    return this.#port
  }

  get mode() {
    return this.#state.mode
  }

  get options() {
    return { ...this.#state.options }
  }

  /**
   * @param {NetworkMode} mode
   * @param {NetworkModeOptions} [options]
   */
  setMode(mode, options = {}) {
    this.#state = SimulatedProxy.#activate(mode, options)
  }

  disconnectAll() {
    for (const socket of this.#sockets) socket.destroy()
    for (const request of this.#upstreamRequests) request.destroy()
  }

  /** @returns {NetworkProxyStats} */
  stats() {
    const stats = this.#stats
    return {
      openConnections: stats.openConnections,
      totalConnections: stats.totalConnections,
      openRequests: stats.openRequests,
      totalRequests: stats.totalRequests,
      upstreamAborts: stats.upstreamAborts,
      cutDelaysMs: [...stats.cutDelaysMs],
      byTarget: [...stats.byTarget],
      byMode: /** @type {Record<NetworkMode, NetworkModeStats>} */ (
        Object.fromEntries(NETWORK_MODES.map((mode) => [mode, { ...stats.byMode[mode] }]))
      ),
    }
  }

  /** @returns {Promise<void>} */
  close() {
    return new Promise((resolve) => {
      this.#server.close(() => resolve())
      this.disconnectAll()
    })
  }

  /** @param {import('node:net').Socket} socket */
  #track(socket) {
    const modeStats = this.#stats.byMode[this.#state.mode]
    this.#sockets.add(socket)
    this.#stats.openConnections++
    this.#stats.totalConnections++
    modeStats.connections++
    modeStats.openConnections++
    socket.on('close', () => {
      this.#sockets.delete(socket)
      this.#stats.openConnections--
      modeStats.openConnections--
    })
  }

  /** @returns {{ target: URL, index: number }} */
  #pickTarget() {
    const index = this.#nextTarget
    this.#nextTarget = (index + 1) % this.#targets.length
    return { target: /** @type {URL} */ (this.#targets[index]), index }
  }

  /**
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   */
  #handle(req, res) {
    // Snapshot the mode: a switch applies to the next request, never half-way through this one.
    const state = this.#state
    const { mode, options } = state
    const stats = this.#stats
    const modeStats = stats.byMode[mode]
    stats.totalRequests++
    stats.openRequests++
    modeStats.requests++
    modeStats.openRequests++

    /** @type {Set<NodeJS.Timeout>} */
    const timers = new Set()
    /** @type {http.ClientRequest | undefined} */
    let upstreamRequest
    /** @type {http.IncomingMessage | undefined} */
    let upstreamResponse
    let destroyedByProxy = false

    /** @param {() => void} callback @param {number} ms */
    const later = (callback, ms) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        if (!res.destroyed) callback()
      }, ms)
      timers.add(timer)
    }
    const destroyClient = (/** @type {boolean} */ reset) => {
      if (res.destroyed) return
      destroyedByProxy = true
      modeStats.proxyDestroys++
      if (reset) resetSocket(res.socket)
      else res.destroy()
    }

    res.on('close', () => {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      stats.openRequests--
      modeStats.openRequests--
      if (!res.writableFinished && !destroyedByProxy) modeStats.clientAborts++
      // Whoever closed first, the upstream must see the disconnect, as behind a real proxy.
      if (upstreamRequest && !upstreamResponse?.complete && !upstreamRequest.destroyed) {
        stats.upstreamAborts++
        upstreamRequest.destroy()
      }
    })

    if (mode === 'status-burst' && this.#shouldReject(state)) {
      modeStats.rejected++
      req.resume()
      const body = 'Service Unavailable (simulated)\n'
      res.writeHead(options.status ?? DEFAULT_BURST_STATUS, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
        'retry-after': String(options.retryAfter ?? DEFAULT_RETRY_AFTER_SECONDS),
      })
      res.end(body)
      return
    }

    if (mode === 'cut-after') {
      const delayMs =
        options.afterMs ??
        (options.minMs !== undefined || options.maxMs !== undefined
          ? randomIntBetween(state.random, options.minMs ?? 0, options.maxMs ?? options.minMs ?? 0)
          : DEFAULT_CUT_AFTER_MS)
      stats.cutDelaysMs.push(delayMs)
      later(() => destroyClient(false), delayMs)
    }

    const { target, index } = this.#pickTarget()
    stats.byTarget[index] = (stats.byTarget[index] ?? 0) + 1
    const basePath = target.pathname.replace(/\/+$/, '')
    const headers = forwardableHeaders(req.headers)
    headers.host = target.host

    const request = http.request({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: basePath + (req.url ?? '/'),
      headers,
      // One upstream connection per request: a client abort then closes exactly the socket the
      // server is writing to, which is what disconnect tests observe.
      agent: false,
    })
    upstreamRequest = request
    this.#upstreamRequests.add(request)
    request.on('close', () => this.#upstreamRequests.delete(request))
    request.on('error', () => {
      if (res.destroyed || res.writableFinished) return
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
        res.end('Bad Gateway (simulated proxy could not reach upstream)\n')
      } else {
        destroyClient(false)
      }
    })
    req.pipe(request)

    request.on('response', (upstream) => {
      upstreamResponse = upstream
      if (res.destroyed) {
        upstream.destroy()
        return
      }
      upstream.on('close', () => {
        // The upstream died mid-body: a proxy can only pass that on by dropping the client.
        if (!upstream.complete) destroyClient(false)
      })
      let headersSent = false
      const sendHeaders = (/** @type {{ dropLength?: boolean }} */ { dropLength = false } = {}) => {
        if (headersSent || res.destroyed) return
        headersSent = true
        const drop = dropLength ? ['content-length'] : []
        res.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, forwardableHeaders(upstream.headers, drop))
        res.flushHeaders()
      }
      BEHAVIOURS[mode]({
        res,
        upstream,
        options,
        sendHeaders,
        later,
        destroyClient,
      })
    })
  }

  /** @param {ModeState} state */
  #shouldReject(state) {
    if (state.burstRemaining <= 0) return false
    const fraction = state.options.fraction ?? 1
    if (fraction < 1 && state.random() >= fraction) return false
    state.burstRemaining--
    return true
  }
}

/**
 * @param {string} target
 * @returns {URL}
 */
function parseTarget(target) {
  const url = new URL(target)
  if (url.protocol !== 'http:') throw new TypeError(`Only http: targets are supported, got ${target}`)
  return url
}

/**
 * Starts a loopback HTTP proxy that forwards every request to `target` and applies a switchable
 * network behaviour (buffering, cuts, resets, 503 bursts, slow links) to the responses.
 *
 * @param {NetworkProxyInit} init Target, initial mode and its options.
 * @returns {Promise<NetworkProxy>} The listening proxy.
 * @example
 * const proxy = await createNetworkProxy({ target: 'http://127.0.0.1:8080', mode: 'hold-until-close' })
 * proxy.setMode('cut-after', { minMs: 200, maxMs: 2000, seed: 7 })
 * await proxy.close()
 */
export async function createNetworkProxy(init) {
  const proxy = new SimulatedProxy(
    [parseTarget(init.target)],
    init.mode ?? 'direct',
    init.options ?? {},
    init.host ?? '127.0.0.1',
    init.port ?? 0,
  )
  await proxy.listen()
  return proxy
}

/**
 * Starts a loopback proxy that sends each new request to the next target in turn (A, B, A, …),
 * for multi-node tests; it supports every mode of {@link createNetworkProxy}.
 *
 * @param {readonly string[]} targets Upstream origins, at least one.
 * @param {Omit<NetworkProxyInit, 'target'>} [init] Initial mode, options and host.
 * @returns {Promise<NetworkProxy>} The listening proxy; `stats().byTarget` counts requests per target.
 * @example
 * const balancer = await createRoundRobinProxy([nodeA.url, nodeB.url])
 */
export async function createRoundRobinProxy(targets, init = {}) {
  if (targets.length === 0) throw new TypeError('createRoundRobinProxy needs at least one target')
  const proxy = new SimulatedProxy(
    targets.map(parseTarget),
    init.mode ?? 'direct',
    init.options ?? {},
    init.host ?? '127.0.0.1',
    init.port ?? 0,
  )
  await proxy.listen()
  return proxy
}
