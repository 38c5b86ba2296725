import type { IncomingMessage, ServerResponse } from 'node:http'
import type { NetworkMode, NetworkModeOptions, NetworkProxy, NetworkProxyStats } from '../network/index.mjs'
import type { Publisher } from './publisher.mjs'

/** The hub counters the API reports (the shape of `EventHub.stats()` of `resilient-sse/server`). */
export interface HubStatsLike {
  readonly connections: Readonly<Record<string, number>>
  readonly listeners: number
  readonly published: number
  readonly startTokens: number
}

/** What the API needs. */
export interface ApiOptions {
  proxy: NetworkProxy
  publisher: Publisher
  hub: { stats(): HubStatsLike }
  /** Modes the API accepts (the simulated network's `NETWORK_MODES`). */
  modes: readonly NetworkMode[]
}

/** The body of `GET /api/state` and of every successful `POST`. */
export interface PlaygroundState {
  mode: NetworkMode
  options: NetworkModeOptions
  modes: NetworkMode[]
  /** Events published per second. */
  rate: number
  minRate: number
  maxRate: number
  /** The seq of the last published event. */
  seq: number
  /** Server clock, ms. */
  time: number
  hub: HubStatsLike
  proxy: NetworkProxyStats
}

/** The playground's control API. */
export interface Api {
  /** Answers a request below `/api/`. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>
  /** @returns the current state */
  state(): PlaygroundState
}

/**
 * The control API: `GET /api/state`, `POST /api/network {mode, options?, reconnect?}`,
 * `POST /api/rate {rate}`.
 * @example
 * const api = createApi({ proxy, publisher, hub, modes: NETWORK_MODES })
 */
export declare function createApi(options: ApiOptions): Api
