/**
 * A network behaviour the simulated proxy applies to responses.
 *
 * - `direct`: pass-through, every chunk flushed at once.
 * - `hold-until-close`: the whole body waits until the upstream response ends (corporate proxies,
 *   antivirus scanners).
 * - `hold-until-bytes`: the body is released in blocks of at least {@link NetworkModeOptions.bytes}.
 * - `hold-each-event`: each event block is released only when the next one is complete.
 * - `headers-only`: status and headers pass, no body byte ever does; the response ends with the upstream's.
 * - `cut-after`: the client connection is destroyed after a fixed or seeded-random delay.
 * - `reset-event-stream`: `text/event-stream` responses are reset right after their headers; others pass.
 * - `status-burst`: requests are answered `503` + `Retry-After` without reaching the upstream.
 * - `slow`: a slow link: bandwidth limit and added latency.
 */
export type NetworkMode =
  | 'direct'
  | 'hold-until-close'
  | 'hold-until-bytes'
  | 'hold-each-event'
  | 'headers-only'
  | 'cut-after'
  | 'reset-event-stream'
  | 'status-burst'
  | 'slow'

/** Options of the modes; each mode reads only the fields documented for it. */
export interface NetworkModeOptions {
  /**
   * `hold-until-close`, `hold-until-bytes`, `hold-each-event`: send status and headers at once
   * (`immediate`, like most corporate proxies) or together with the first body bytes (`held`).
   * @defaultValue `'immediate'`
   */
  headers?: 'immediate' | 'held'
  /**
   * `hold-until-bytes`: minimum block size released at once.
   * @defaultValue `4096`
   */
  bytes?: number
  /**
   * `cut-after`: fixed delay from request arrival to the connection being destroyed (wins over
   * `minMs`/`maxMs`). `reset-event-stream`: delay between headers and reset.
   * @defaultValue `1000` for `cut-after` when no range is given; `0` for `reset-event-stream`
   */
  afterMs?: number
  /** `cut-after`: lower bound of a seeded-random delay in ms (inclusive). */
  minMs?: number
  /** `cut-after`: upper bound of a seeded-random delay in ms (inclusive). */
  maxMs?: number
  /**
   * `cut-after`, `status-burst`: seed of the deterministic generator, re-seeded on every `setMode`.
   * @defaultValue `1`
   */
  seed?: number
  /**
   * `status-burst`: status code of the rejections.
   * @defaultValue `503`
   */
  status?: number
  /**
   * `status-burst`: value of `Retry-After` in seconds.
   * @defaultValue `1`
   */
  retryAfter?: number
  /**
   * `status-burst`: how many requests (counted from `setMode`) are rejected before the rest pass.
   * @defaultValue `Infinity`
   */
  burst?: number
  /**
   * `status-burst`: share of requests rejected, drawn from the seeded generator (0–1).
   * @defaultValue `1`
   */
  fraction?: number
  /**
   * `slow`: bandwidth of the link in bytes per second.
   * @defaultValue `16384`
   */
  bytesPerSecond?: number
  /**
   * `slow`: latency added to the headers and to each chunk, in ms.
   * @defaultValue `50`
   */
  latencyMs?: number
}

/** Arguments of {@link createNetworkProxy}. */
export interface NetworkProxyInit {
  /** Upstream origin (and optional base path), e.g. `http://127.0.0.1:8080`. Only `http:`. */
  target: string
  /**
   * Initial mode.
   * @defaultValue `'direct'`
   */
  mode?: NetworkMode
  /** Options of the initial mode. */
  options?: NetworkModeOptions
  /**
   * Loopback address to listen on.
   * @defaultValue `'127.0.0.1'`
   */
  host?: string
  /**
   * Port to listen on; tests keep the default and let the OS choose, the playground may fix one.
   * @defaultValue `0`
   */
  port?: number
}

/** Arguments of {@link createRoundRobinProxy} besides the targets. */
export type RoundRobinProxyInit = Omit<NetworkProxyInit, 'target'>

/** Counters of one mode. Requests count under the mode active when they arrived; connections under the mode active when they were accepted. */
export interface NetworkModeStats {
  /** Requests received. */
  requests: number
  /** Requests whose response has not closed yet. */
  openRequests: number
  /** Client connections accepted. */
  connections: number
  /** Client connections still open. */
  openConnections: number
  /** Responses the client closed before they were complete. */
  clientAborts: number
  /** Responses the proxy destroyed on purpose (cuts, resets) or because the upstream died. */
  proxyDestroys: number
  /** Requests answered by `status-burst` without contacting the upstream. */
  rejected: number
}

/** A snapshot of the proxy's counters. */
export interface NetworkProxyStats {
  openConnections: number
  totalConnections: number
  openRequests: number
  totalRequests: number
  /** Upstream requests destroyed because the client side closed first. */
  upstreamAborts: number
  /** Delays drawn by `cut-after`, in request order (fixed or seeded-random). */
  cutDelaysMs: number[]
  /** Requests forwarded to each target, in the order given. */
  byTarget: number[]
  byMode: Record<NetworkMode, NetworkModeStats>
}

/** A running simulated proxy. */
export interface NetworkProxy {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  /** The OS-chosen port. */
  readonly port: number
  /** The active mode. */
  readonly mode: NetworkMode
  /** A copy of the active mode's options. */
  readonly options: NetworkModeOptions
  /**
   * Switches the behaviour for every request that arrives from now on (also on kept-alive
   * connections); responses in flight keep the behaviour they started with.
   * @throws TypeError for an unknown mode.
   */
  setMode(mode: NetworkMode, options?: NetworkModeOptions): void
  /** Destroys every open client connection and upstream request (a network change). */
  disconnectAll(): void
  /** A snapshot of the counters. */
  stats(): NetworkProxyStats
  /** Destroys all connections and stops listening. */
  close(): Promise<void>
}

/** Every behaviour the simulated network can apply. */
export declare const NETWORK_MODES: readonly NetworkMode[]

/**
 * Starts a loopback HTTP proxy that forwards every request to `target` and applies a switchable
 * network behaviour (buffering, cuts, resets, 503 bursts, slow links) to the responses.
 * Client aborts are forwarded upstream.
 *
 * @param init - Target, initial mode and its options.
 * @returns The listening proxy.
 * @example
 * const proxy = await createNetworkProxy({ target: 'http://127.0.0.1:8080', mode: 'hold-until-close' })
 * proxy.setMode('cut-after', { minMs: 200, maxMs: 2000, seed: 7 })
 * await proxy.close()
 */
export declare function createNetworkProxy(init: NetworkProxyInit): Promise<NetworkProxy>

/**
 * Starts a loopback proxy that sends each new request to the next target in turn (A, B, A, …),
 * for multi-node tests; it supports every mode of {@link createNetworkProxy}.
 *
 * @param targets - Upstream origins, at least one.
 * @param init - Initial mode, options and host.
 * @returns The listening proxy; `stats().byTarget` counts requests per target.
 * @example
 * const balancer = await createRoundRobinProxy([nodeA.url, nodeB.url])
 */
export declare function createRoundRobinProxy(targets: readonly string[], init?: RoundRobinProxyInit): Promise<NetworkProxy>

/** Hop-by-hop header names (lower case): they describe one connection and are never forwarded (RFC 9110 §7.6.1). */
export declare const HOP_BY_HOP_HEADERS: ReadonlySet<string>
