import type { IncomingMessage, ServerResponse } from 'node:http'
import type { NetworkMode, NetworkModeOptions, NetworkProxy } from '../network/index.mjs'
import type { Api, HubStatsLike } from './api.mjs'
import type { Publisher } from './publisher.mjs'

/** The part of `resilient-sse/server`'s `EventHub` the playground uses. */
export interface PlaygroundHub {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>
  publish(event: { data: string }): Promise<string>
  close(options?: { timeout?: number }): Promise<void>
  stats(): HubStatsLike
}

/** Options of {@link startPlayground}. */
export interface PlaygroundOptions {
  /** `createEventHub` of `resilient-sse/server` (injected so tests can run it from source). */
  createEventHub(options: Record<string, unknown>): PlaygroundHub
  /** Options passed to `createEventHub`. */
  hubOptions?: Record<string, unknown>
  /** Port of the page server; `0` lets the OS choose. @defaultValue 0 */
  port?: number
  /** Ports tried upwards from `port` while they are in use. @defaultValue 1 */
  portAttempts?: number
  /** @defaultValue '127.0.0.1' */
  host?: string
  /** Events published per second. @defaultValue 5 */
  rate?: number
  /** Initial network mode. @defaultValue 'direct' */
  mode?: NetworkMode
  modeOptions?: NetworkModeOptions
  /** @defaultValue playground/public */
  publicDir?: string
  /** @defaultValue dist */
  distDir?: string
  /** @defaultValue node_modules/uplot/dist */
  uplotDir?: string
  /** Called when the hub refuses a published event. */
  onPublishError?(error: unknown): void
}

/** A running playground. */
export interface Playground {
  /** The page's URL, e.g. `http://127.0.0.1:5173/`. */
  readonly url: string
  readonly port: number
  readonly hub: PlaygroundHub
  readonly proxy: NetworkProxy
  readonly publisher: Publisher
  readonly api: Api
  /** Stops publishing, drains the hub (streams get `_end drain`), then closes every server. */
  close(options?: { timeout?: number }): Promise<void>
}

/**
 * Starts the hub, the simulated network and the page server on loopback.
 * @example
 * const playground = await startPlayground({ createEventHub, port: 5173 })
 * console.log(playground.url)
 */
export declare function startPlayground(options: PlaygroundOptions): Promise<Playground>
