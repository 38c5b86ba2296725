// @ts-check
import http from 'node:http'
import { HOP_BY_HOP_HEADERS as HOP_BY_HOP } from '../network/proxy.mjs'

/** @typedef {import('./forward.d.mts').Forwarder} Forwarder */

/**
 * @param {http.IncomingHttpHeaders} headers
 * @returns {http.OutgoingHttpHeaders}
 */
function endToEnd(headers) {
  /** @type {http.OutgoingHttpHeaders} */
  const result = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) result[name] = value
  }
  return result
}

/**
 * Forwards requests to `target` without buffering: status and headers are flushed as soon as
 * they arrive, every body chunk is written the moment it is read, and a client that goes away
 * takes its upstream request with it. An upstream that dies mid-body drops the client too, so
 * cuts and resets of the simulated network reach the browser as they are.
 *
 * @param {{ target: string }} options
 * @returns {Forwarder}
 */
export function createForwarder({ target }) {
  const base = new URL(target)
  if (base.protocol !== 'http:') throw new TypeError(`Only http: targets are supported, got ${target}`)
  // One upstream connection per request: the simulated network drops connections on purpose,
  // and a pooled socket it just dropped would turn the next request into a spurious failure.
  const agent = new http.Agent({ keepAlive: false })
  /** @type {Set<http.ClientRequest>} */
  const open = new Set()

  return {
    forward(req, res) {
      return new Promise((settle) => {
        const headers = endToEnd(req.headers)
        headers.host = base.host
        const upstream = http.request({
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          method: req.method,
          path: req.url,
          headers,
          agent,
        })
        open.add(upstream)
        upstream.on('socket', (socket) => socket.setNoDelay(true))
        upstream.on('close', () => open.delete(upstream))

        res.on('close', () => {
          // The browser went away (or the response is done): nothing more to fetch.
          if (!res.writableFinished) upstream.destroy()
          settle()
        })

        upstream.on('error', (error) => {
          if (res.destroyed || res.writableFinished) return
          // Only an unreachable network is our failure (502); a connection the simulated network
          // cut before its headers reaches the browser as what it is: a network error.
          if (res.headersSent || /** @type {NodeJS.ErrnoException} */ (error).code !== 'ECONNREFUSED') {
            res.destroy()
            return
          }
          res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
          res.end('Bad Gateway: the simulated network is not reachable\n')
        })

        upstream.on('response', (incoming) => {
          if (res.destroyed) {
            incoming.destroy()
            return
          }
          res.writeHead(incoming.statusCode ?? 502, incoming.statusMessage, endToEnd(incoming.headers))
          res.flushHeaders()
          incoming.on('data', (chunk) => {
            // Node writes each chunk to the socket at once; only backpressure may hold the reader.
            if (!res.write(chunk)) {
              incoming.pause()
              res.once('drain', () => incoming.resume())
            }
          })
          incoming.on('end', () => res.end())
          incoming.on('close', () => {
            if (!incoming.complete && !res.destroyed) res.destroy()
          })
        })

        req.pipe(upstream)
      })
    },
    get openRequests() {
      return open.size
    },
    close() {
      for (const request of open) request.destroy()
      agent.destroy()
    },
  }
}
