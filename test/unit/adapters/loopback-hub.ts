import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createEventHub, type EventHub } from '../../../src/server/index'

/** A companion hub on 127.0.0.1 (OS-chosen port) that counts the requests it answers. */
export interface LoopbackHub {
  readonly hub: EventHub
  /** `http://127.0.0.1:<port>/events` */
  readonly url: string
  /** Requests answered per path + `mode` query parameter, e.g. `stream`. */
  readonly requests: string[]
  /** The `x-token` request header of each request in `requests` (`''` when absent). */
  readonly tokens: string[]
  /** Open stream responses right now. */
  streams(): number
  close(): Promise<void>
}

/**
 * Starts a hub that any page origin may read (happy-dom pages are on another origin), with a
 * short heartbeat floor so nothing waits on the defaults.
 */
export async function startLoopbackHub(): Promise<LoopbackHub> {
  const hub = createEventHub({ cors: { origins: '*' }, minPing: 1, rotateAfter: 0 })
  const requests: string[] = []
  const tokens: string[] = []
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (req.method !== 'OPTIONS') {
      requests.push(`${url.pathname}:${url.searchParams.get('mode') ?? ''}`)
      tokens.push(String(req.headers['x-token'] ?? ''))
    }
    void hub.handle(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    hub,
    url: `http://127.0.0.1:${port}/events`,
    requests,
    tokens,
    streams: () => hub.stats().connections.stream,
    async close() {
      await hub.close({ spread: 0, timeout: 100 })
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Polls `condition` every 5 ms until it holds; fails after `timeout` ms naming `what`. */
export async function until(condition: () => boolean, what: string, timeout = 5000): Promise<void> {
  const start = Date.now()
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Lets pending effects, microtasks and a few network round trips settle, for "nothing happens" checks. */
export function settle(ms = 150): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
