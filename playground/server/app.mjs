// @ts-check
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { createNetworkProxy, NETWORK_MODES } from '../network/index.mjs'
import { createApi } from './api.mjs'
import { createForwarder } from './forward.mjs'
import { createPublisher } from './publisher.mjs'
import { createStaticHandler } from './static.mjs'

/** @typedef {import('./app.d.mts').Playground} Playground */
/** @typedef {import('./app.d.mts').PlaygroundOptions} PlaygroundOptions */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * @param {http.Server} server
 * @param {number} port
 * @param {string} host
 * @returns {Promise<void>}
 */
function listen(server, port, host) {
  return new Promise((done, fail) => {
    const onError = (/** @type {Error} */ error) => {
      server.off('listening', onListening)
      fail(error)
    }
    const onListening = () => {
      server.off('error', onError)
      done()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

/**
 * @param {http.Server} server
 * @returns {Promise<void>}
 */
function closeServer(server) {
  return new Promise((done) => {
    if (!server.listening) {
      done()
      return
    }
    server.close(() => done())
    server.closeAllConnections()
  })
}

/**
 * Starts the playground: an event hub publishing `{ seq, t }` at an adjustable rate, the simulated
 * network in front of it, and one loopback server for the browser that serves the page, the
 * built package (`/pkg/` → `dist/`), uPlot (`/vendor/uplot/`), the control API (`/api/`) and
 * forwards `/events` through the simulated network to the hub:
 * page → playground server → simulated network → hub.
 *
 * @param {PlaygroundOptions} options
 * @returns {Promise<Playground>}
 */
export async function startPlayground(options) {
  const host = options.host ?? '127.0.0.1'
  const hub = options.createEventHub({ ...options.hubOptions })
  const hubServer = http.createServer({ noDelay: true }, (req, res) => {
    void hub.handle(req, res)
  })
  /** @type {import('../network/index.mjs').NetworkProxy | undefined} */
  let proxy
  /** @type {ReturnType<typeof createForwarder> | undefined} */
  let forwarder
  const server = http.createServer({ noDelay: true })
  const publisher = createPublisher({
    rate: options.rate ?? 5,
    publish: (event) => hub.publish(event),
    onError: options.onPublishError,
  })

  try {
    await listen(hubServer, 0, host)
    const hubAddress = /** @type {import('node:net').AddressInfo} */ (hubServer.address())
    proxy = await createNetworkProxy({
      target: `http://${host}:${hubAddress.port}`,
      mode: options.mode ?? 'direct',
      options: options.modeOptions ?? {},
      host,
    })
    const activeProxy = proxy
    const activeForwarder = (forwarder = createForwarder({ target: proxy.url }))
    const api = createApi({ proxy, publisher, hub, modes: NETWORK_MODES })
    const files = createStaticHandler({
      mounts: [
        { prefix: '/', dir: options.publicDir ?? `${ROOT}playground/public` },
        { prefix: '/pkg/', dir: options.distDir ?? `${ROOT}dist` },
        { prefix: '/vendor/uplot/', dir: options.uplotDir ?? `${ROOT}node_modules/uplot/dist` },
      ],
    })

    server.on('request', (req, res) => {
      const pathname = new URL(req.url ?? '/', 'http://localhost').pathname
      if (pathname === '/events' || pathname.startsWith('/events/')) {
        void activeForwarder.forward(req, res)
        return
      }
      if (pathname.startsWith('/api/')) {
        void api.handle(req, res)
        return
      }
      files.serve(req, res).then(
        (served) => {
          if (served) return
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
          res.end('Not found\n')
        },
        () => res.destroy(),
      )
    })

    const attempts = Math.max(1, options.portAttempts ?? 1)
    const firstPort = options.port ?? 0
    for (let attempt = 0; ; attempt++) {
      try {
        await listen(server, firstPort === 0 ? 0 : firstPort + attempt, host)
        break
      } catch (error) {
        const inUse = /** @type {NodeJS.ErrnoException} */ (error).code === 'EADDRINUSE'
        if (!inUse || firstPort === 0 || attempt + 1 >= attempts) throw error
      }
    }
    const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port
    publisher.start()

    /** @type {Promise<void> | undefined} */
    let closing
    return {
      url: `http://${host}:${port}/`,
      port,
      hub,
      proxy: activeProxy,
      publisher,
      api,
      close(closeOptions) {
        closing ??= (async () => {
          await publisher.stop()
          // Draining ends every stream with `_end drain`; the page sees it before the sockets go.
          await hub.close({ timeout: closeOptions?.timeout ?? 3000 })
          // The hub's last bytes (`_end drain`) are still on their way through the simulated
          // network and the forwarder: let them reach the browser before cutting anything.
          const deadline = Date.now() + 1000
          while (
            (activeProxy.stats().openRequests > 0 || activeForwarder.openRequests > 0) &&
            Date.now() < deadline
          ) {
            await new Promise((done) => setTimeout(done, 10))
          }
          await activeProxy.close()
          activeForwarder.close()
          await Promise.all([closeServer(server), closeServer(hubServer)])
        })()
        return closing
      },
    }
  } catch (error) {
    await publisher.stop()
    await hub.close({ timeout: 0 }).catch(() => undefined)
    await proxy?.close().catch(() => undefined)
    forwarder?.close()
    await Promise.all([closeServer(server), closeServer(hubServer)])
    throw error
  }
}
