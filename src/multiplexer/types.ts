import type { StreamErrorLike } from '../errors'
import type { GapInfo, TransportChangeReason } from '../events'
import type { RememberOptions } from '../options'
import type { RetryOptions } from '../retry'
import type { StreamStats } from '../stats'
import type { TransportName } from '../transports/types'

/** Options of the `shared` option: where the coordinator lives. */
export interface SharedOptions {
  /**
   * URL of the app-hosted worker script (`resilient-sse/worker`, served from your origin).
   * Without it, tabs coordinate through Web Locks + BroadcastChannel.
   */
  workerUrl?: string | URL
  /** Extra name part, to keep apps on one origin apart. */
  name?: string
}

/**
 * The options of a shared stream that can cross into a worker or another tab (structured
 * clone): no functions. The `headers` function stays in the tabs and is asked on every connect.
 */
export interface SharedStreamOptions {
  withCredentials: boolean
  transports: TransportName[]
  canaryTimeout: number | false
  ping: number | undefined
  wait: number | undefined
  protocolQuery: boolean
  dedupe: number | false
  maxEventSize: number
  retry: RetryOptions | false | undefined
  remember: boolean | Omit<RememberOptions, 'storage'>
  hasHeaders: boolean
}

/** What a tab asks the coordinator for. */
export interface SharedLinkRequest {
  /** Absolute endpoint URL. */
  readonly url: string
  /** Identifies streams that may share one connection: endpoint + wire-relevant options. */
  readonly key: string
  readonly options: SharedStreamOptions
  /** The tab's own cursor: a late tab is replayed from here. */
  readonly lastEventId: string
  readonly eventTypes: readonly string[]
  /** Fresh headers from this tab (called by the coordinator on every connect and on 401). */
  readonly resolveHeaders: ((refresh: boolean) => Promise<Record<string, string>>) | undefined
}

/** What the coordinator reports to one tab. */
export interface SharedLinkSink {
  /** An app event; the tab de-duplicates again by id (hand-overs may overlap). */
  message(message: { type: string; data: string; id: string | undefined; lastEventId: string }): void
  /** The shared stream's state, with the coordinator's counters. */
  state(state: { readyState: 0 | 1 | 2; transport: TransportName | null; stats?: StreamStats }): void
  transportChange(transport: TransportName, previous: TransportName | null, reason: TransportChangeReason): void
  /** A typed error (plain object: it may have crossed a worker). */
  error(error: StreamErrorLike): void
  gap(gap: GapInfo): void
}

/** A tab's membership in a shared stream. */
export interface SharedLink {
  close(): void
  addEventType(type: string): void
}

/** One way of sharing a stream between tabs: SharedWorker, Web Locks leader, or none. */
export interface Coordinator {
  /** For logs and tests; the coordinators themselves leave it out (it is never read). */
  readonly name?: 'shared-worker' | 'broadcast' | 'in-page'
  isSupported(shared: SharedOptions): boolean
  connect(request: SharedLinkRequest, sink: SharedLinkSink, shared: SharedOptions): SharedLink
}
