import type { ChunkEncoder } from './modes/stream'
import type { HubMode } from './query'
import type { StartTokens } from './start-tokens'
import type { EventStore, StoreListener } from './store'

/** Batch limits of `close` and `poll` responses. */
export interface BatchOptions {
  /**
   * Most events per response.
   * @defaultValue 100
   */
  maxEvents?: number
  /**
   * Most bytes of events per response (one event is always sent, however large).
   * @defaultValue 262144 (256 KiB)
   */
  maxBytes?: number
  /**
   * After the first event arrives on a held request, wait this long (ms) for more of the burst.
   * @defaultValue 20
   */
  burst?: number
}

/** An open response, as the hub tracks it for `stats()` and `close()`. */
export interface TrackedConnection {
  readonly mode: HubMode
  /** Ends the response soon with `_end {reason:"drain"}` (or an answered poll). */
  drain(): void
  /** Ends the response at once, without a goodbye. */
  destroy(): void
  /** Settles when the response is finished or its socket closed. */
  readonly done: Promise<void>
}

/** What the mode handlers need from the hub. Internal. */
export interface HubContext {
  readonly store: EventStore
  readonly startTokens: StartTokens
  readonly now: () => number
  readonly random: () => number
  readonly batch: Required<BatchOptions>
  /** Stream rotation in ms (before ±10 % jitter), finite; `0` never rotates. */
  readonly rotateAfter: number
  /** A stream whose unsent bytes exceed this is dropped. */
  readonly maxBuffered: number
  /** A stream whose socket accepted nothing for this long (ms) is dropped. */
  readonly stallTimeout: number
  /** Live events of a stream are written together at most every this many ms; `0` writes each at once. */
  readonly flushInterval: number
  /** Encodes a coalesced stream chunk once for all the hub's streams that flush the same events. */
  readonly encodeChunk: ChunkEncoder
  /** Events read per store page while a stream replays. */
  readonly replayPageSize: number
  /** Receives every appended event (one store subscription shared by all responses). */
  listen(listener: StoreListener): () => void
  /** Registers an open response; returns the unregister function. */
  track(connection: TrackedConnection): () => void
  /** Whether `close()` has begun. */
  readonly closing: boolean
}

/** A random `retry:` value in ms, 1000–3000, so planned reconnects spread out. */
export function randomRetry(random: () => number): number {
  return 1000 + Math.floor(random() * 2001)
}
