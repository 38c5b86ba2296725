import type { StreamErrorLike } from '../errors'
import type { GapInfo, TransportChangeReason } from '../events'
import type { StreamStats } from '../stats'
import type { TransportName } from '../transports/types'
import type { SharedStreamOptions } from './types'

/**
 * Version of the messages between tabs and a coordinator. A message with another `v` is
 * ignored, so a tab and a worker (or leader tab) of incompatible builds never mix streams.
 */
export const PROTOCOL_VERSION = 1

/** Fields every message carries: plain data only (it is structured-cloned). */
interface Envelope {
  readonly v: typeof PROTOCOL_VERSION
  /** The sharing key (see `sharedKey`): one worker or channel may carry several streams. */
  readonly key: string
}

/** The state of the shared stream, as a tab's client needs it. */
export interface SharedState {
  readyState: 0 | 1 | 2
  transport: TransportName | null
  stats?: StreamStats
}

/** One app event with the stream's cursor after it. */
export interface SharedEvent {
  type: string
  data: string
  /** The event's own id, `undefined` when it had none. */
  id: string | undefined
  lastEventId: string
}

/** Tab → coordinator: join a stream (again), with the tab's cursor and listened types. */
export interface JoinMessage extends Envelope {
  readonly kind: 'join'
  /** The tab's random id. */
  readonly tab: string
  readonly url: string
  readonly options: SharedStreamOptions
  readonly lastEventId: string
  readonly eventTypes: readonly string[]
}

/** Messages a tab sends. */
export type TabMessage =
  | JoinMessage
  | (Envelope & { readonly kind: 'leave'; readonly tab: string })
  | (Envelope & { readonly kind: 'add-type'; readonly tab: string; readonly type: string })
  | (Envelope & {
      /** The answer to `ask-headers`. */
      readonly kind: 'headers'
      readonly tab: string
      readonly request: number
      readonly headers?: Record<string, string>
      /** Why the tab's `headers` function failed: the worker reports it as a `headers` error. */
      readonly error?: string
    })
  /** The answer to the worker's `alive` heartbeat. */
  | (Envelope & { readonly kind: 'alive'; readonly tab: string })
  /** A new leader tab asks every tab to join it (a coordinator message sent by a tab). */
  | (Envelope & { readonly kind: 'rejoin'; readonly tab: string })

/**
 * Messages a coordinator sends. `to` addresses one tab (replays, join answers, header requests);
 * without it the message is live and for every tab of the stream.
 */
export type CoordinatorMessage = Envelope & { readonly to?: string } & (
    | ({ readonly kind: 'event' } & SharedEvent)
    /** The stream's state and notices, as the arguments of the same-named `SharedLinkSink` method. */
    | { readonly kind: 'state'; readonly args: [SharedState] }
    | { readonly kind: 'transportChange'; readonly args: [TransportName, TransportName | null, TransportChangeReason] }
    | { readonly kind: 'error'; readonly args: [StreamErrorLike] }
    | { readonly kind: 'gap'; readonly args: [GapInfo] }
    | {
        /**
         * Answer to a join, after the replay of what the tab missed. `behind`: the tab's cursor
         * is older than the replay buffer, the tab catches up on its own. `lastEventId` is the
         * stream's cursor when the answer was sent.
         */
        readonly kind: 'joined'
        readonly lastEventId: string
        readonly behind: boolean
        readonly state: SharedState
      }
    | { readonly kind: 'ask-headers'; readonly request: number; readonly refresh: boolean }
    /** Heartbeat: a tab that stops answering is dropped. */
    | { readonly kind: 'alive' }
    /** A new leader (or a worker that lost track of the tab): every tab joins again. */
    | { readonly kind: 'rejoin' }
  )

/** Any message of the protocol. */
export type ProtocolMessage = TabMessage | CoordinatorMessage

/**
 * @param value - whatever arrived on a port or channel
 * @param key - the stream the receiver cares about (the worker passes the message's own)
 * @returns whether `value` is a message of this protocol version for `key`
 */
export function isProtocolMessage(value: unknown, key: string | undefined): value is ProtocolMessage {
  // Optional chaining reads fields of any value (a string, null) without throwing.
  const message = value as Partial<Envelope> | null | undefined
  return message?.v === PROTOCOL_VERSION && message.key === key
}

/**
 * Where a replay for a tab at `cursor` starts in `events`: after the last event carrying that
 * cursor (id-less events that followed it were seen too), 0 when the cursor is `start` (the
 * cursor just before `events[0]`), -1 when it is older than `events`.
 */
export function replayFrom(events: readonly SharedEvent[], cursor: string, start: string): number {
  return cursor === start ? 0 : events.map((event) => event.lastEventId).lastIndexOf(cursor) + 1 || -1
}
