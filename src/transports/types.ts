import type { Env } from '../env'
import type { StreamError } from '../errors'
import type { EventStreamMessage } from '../parser/types'

/** The four rungs of the ladder. */
export type TransportName = 'eventsource' | 'fetch' | 'sse-close' | 'long-poll'

/** How the companion renders the log for a transport: the `mode` query parameter. */
export type TransportMode = 'stream' | 'close' | 'poll'

/** Everything one connection attempt needs; resolved by the client before each attempt. */
export interface ConnectRequest {
  /** The endpoint as the app gave it, with the app's own query parameters. */
  readonly url: string
  /** Resume cursor: sent as the `Last-Event-ID` header and the `lastEventId` query parameter. */
  readonly lastEventId: string | undefined
  /** Start token of a client that has no cursor yet (`start` query parameter). */
  readonly startToken: string | undefined
  /** Headers resolved for this attempt (the app's, never `Last-Event-ID`). */
  readonly headers: Readonly<Record<string, string>>
  /** Whether the app asked for headers at all (native EventSource cannot send them). */
  readonly hasCustomHeaders: boolean
  readonly method: string
  readonly body: BodyInit | null | undefined
  readonly withCredentials: boolean
  readonly maxEventSize: number
  /** Heartbeat interval to ask the server for, in seconds (`ping`). */
  readonly ping: number | undefined
  /** Seconds a `close`/`poll` request may be held when nothing is pending (`wait`). */
  readonly wait: number | undefined
  /** Whether to add the protocol's query parameters (`mode`, `lastEventId`, …) to the URL. */
  readonly protocolQuery: boolean
  /** Event types the app listens to now (native EventSource must subscribe to each by name). */
  readonly eventTypes: Iterable<string>
}

/** Where a transport reports what happens on its one connection. */
export interface TransportSink {
  /** The response was accepted (status 200, expected content type). */
  open(): void
  /** One event, reserved ones (`_canary`, `_ping`, `_end`, …) included. */
  message(message: EventStreamMessage): void
  /** The stream's `retry:` field, in ms. */
  retryHint(ms: number): void
  /** Bytes received on the wire (for `stats()`); optional for transports that cannot tell. */
  received(bytes: number): void
  /**
   * A non-fatal problem on a live attempt (e.g. a `too-large` event was dropped); the attempt
   * goes on. Optional: sinks that leave it out simply do not hear about it.
   */
  warning?(error: StreamError): void
  /** The attempt failed; no further calls follow. */
  error(error: StreamError): void
  /** The response ended normally; no further calls follow. */
  end(): void
}

/** What `open` returns: a way to stop the attempt. Stopping never calls the sink. */
export interface TransportHandle {
  close(): void
  /** Subscribes to one more event type after `open` (native EventSource only needs it). */
  addEventType?(type: string): void
}

/**
 * A stateless object that makes one connection attempt. It never retries, never schedules
 * reconnects, never tracks ids: the client owns order, backoff, cursor, de-dup and headers.
 */
export interface Transport {
  readonly name: TransportName
  readonly mode: TransportMode
  /** Feature detection: `false` moves the ladder on without an attempt. */
  isSupported(request: ConnectRequest, env: Env): boolean
  open(request: ConnectRequest, sink: TransportSink, env: Env): TransportHandle
}
