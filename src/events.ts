import type { StreamError } from './errors'
import type { TransportName } from './transports/types'

/** Why the client moved to another transport. */
export type TransportChangeReason =
  /** The first transport of this stream. */
  | 'initial'
  /** Started on the transport remembered from an earlier page load. */
  | 'remembered'
  /** An intermediary holds the stream back (no canary, or frames released in bursts). */
  | 'buffered'
  /** The transport cannot run here (missing API, headers on native EventSource, wrong content type). */
  | 'unsupported'
  /** Probing a higher rung again (verdict expired, or the browser came back online). */
  | 'upgrade'

/** Dispatched as `transportchange` whenever the transport in use changes. */
export class TransportChangeEvent extends Event {
  readonly transport: TransportName
  readonly previous: TransportName | null
  readonly reason: TransportChangeReason

  constructor(transport: TransportName, previous: TransportName | null, reason: TransportChangeReason) {
    super('transportchange')
    this.transport = transport
    this.previous = previous
    this.reason = reason
  }
}

/** Dispatched as `error`: `error` is always a `StreamError`. */
export class StreamErrorEvent extends Event {
  readonly error: StreamError

  constructor(error: StreamError) {
    super('error')
    this.error = error
  }
}

/** What the server said about a cursor it can no longer resume. */
export interface GapInfo {
  /** The cursor the client asked for. */
  requested: string
  /** The oldest id the server still holds. */
  oldest: string | null
  /** The newest id. */
  head: string | null
  /** `expired`: older than retention; `unknown`: not an id of this log; `future`: newer than head. */
  reason: 'expired' | 'unknown' | 'future'
}

/** Dispatched as `gap` when events were missed: re-fetch the app's state. */
export class GapEvent extends Event {
  readonly gap: GapInfo

  constructor(gap: GapInfo) {
    super('gap')
    this.gap = gap
  }
}

/** Events of a `ResilientEventSource` besides app-named ones. */
export interface ResilientEventSourceEventMap {
  open: Event
  message: MessageEvent<string>
  error: StreamErrorEvent
  transportchange: TransportChangeEvent
  gap: GapEvent
}
