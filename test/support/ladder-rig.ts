import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createNetworkProxy, type NetworkMode, type NetworkModeOptions, type NetworkProxy } from '../../playground/network/index.mjs'
import { createEventHub, type EventHub, type EventHubOptions } from '../../src/server/index'
import { createSequencePublisher } from './sequence-publisher.mjs'

/** A companion hub on loopback with a simulated network in front of it. */
export interface LadderRig {
  hub: EventHub
  proxy: NetworkProxy
  /** The endpoint through the proxy. */
  url: string
  /** The endpoint without the proxy. */
  directUrl: string
  /** Publishes `count` events `every` ms apart with data `"1"`, `"2"`, … (continuing the sequence). */
  publish(count: number, every?: number): Promise<void>
  /** Resolves once the hub has seen the first request of a client (its start token). */
  firstRequest(): Promise<void>
  /** How many events were published so far. */
  published(): number
  close(): Promise<void>
}

export async function startLadderRig(
  mode: NetworkMode = 'direct',
  options: NetworkModeOptions = {},
  hubOptions: EventHubOptions = {},
): Promise<LadderRig> {
  const hub = createEventHub({ wait: 5, ...hubOptions })
  const server: Server = createServer((req, res) => void hub.handle(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const proxy = await createNetworkProxy({ target: origin, mode, options })
  const { publish, published } = createSequencePublisher(hub)
  return {
    hub,
    proxy,
    url: `${proxy.url}/events`,
    directUrl: `${origin}/events`,
    publish,
    published,
    async firstRequest() {
      const start = Date.now()
      while (hub.stats().startTokens < 1) {
        if (Date.now() - start > 5000) throw new Error('the hub saw no request')
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    },
    async close() {
      await proxy.close()
      await hub.close({ timeout: 500 })
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** `["1", "2", …, String(n)]`: what exactly-once, in-order delivery of `n` events looks like. */
export function sequence(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(i + 1))
}
