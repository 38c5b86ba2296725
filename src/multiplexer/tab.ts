import type { StreamRunner } from './host'
import { REPLAY_LIMIT } from './host'
import { runStream } from './in-page'
import { PROTOCOL_VERSION, replayFrom, type CoordinatorMessage, type SharedEvent, type TabMessage } from './protocol'
import type { SharedLink, SharedLinkRequest, SharedLinkSink } from './types'

/** A tab message before the envelope (`v`, `key`, `tab`) is added. */
export type TabBody = TabMessage extends infer M ? (M extends unknown ? Omit<M, 'v' | 'key' | 'tab'> : never) : never

/** A tab's end of a coordinated stream: ordering across joins, replays and catch-ups. */
export interface TabSide {
  /**
   * The tab's request as of now: its cursor (the id of the last event handed to the tab, where
   * a new leader or a fallback resumes) and its types.
   */
  request(): SharedLinkRequest
  /** The tab's client, with the cursor following what it is handed (for a fallback stream). */
  readonly sink: SharedLinkSink
  /** Sends a message from this tab (the envelope is added). */
  post(body: TabBody): void
  /**
   * Handles one coordinator message: ignored when addressed to another tab; `rejoin` joins
   * again.
   */
  receive(message: CoordinatorMessage): void
  /** Sends `join` (again) from the tab's cursor: live messages are dropped until the answer. */
  join(): void
  /** This tab now runs the stream itself: its own host's messages are all live. */
  lead(): void
  /**
   * Listens to one more event type: on `local` (this tab's own host or fallback stream) when
   * there is one, else through the coordinator.
   */
  addEventType(type: string, local: SharedLink | undefined): void
  close(): void
}

/**
 * Keeps one tab's delivery exactly-once and in order while it joins, is replayed, or catches
 * up. Live messages that arrive before the coordinator answered `joined` are covered by the
 * replay sent ahead of that answer, so they are dropped. A tab whose cursor is older than the
 * coordinator's buffer (`behind`) runs its own short catch-up stream from its cursor and holds
 * live events until the catch-up reaches one of them, then switches over.
 * @param request - the tab's request (its cursor, headers)
 * @param sink - the tab's client
 * @param send - posts a message to the coordinator
 * @param run - the stream engine for catch-ups
 * @returns the tab side
 */
export function createTabSide(
  request: SharedLinkRequest,
  sink: SharedLinkSink,
  send: (message: TabMessage) => void,
  run: StreamRunner = runStream,
): TabSide {
  // Random, not secret: it only addresses messages.
  const id = String(Math.random())
  const types = [...request.eventTypes]
  const post = (body: TabBody): void => send({ v: PROTOCOL_VERSION, key: request.key, tab: id, ...body } as TabMessage)
  let joined = false
  let cursor = request.lastEventId
  let catchUp: SharedLink | undefined
  let held: SharedEvent[] = []
  // The coordinator's cursor when it answered: reaching it means nothing live was missed.
  let mark = ''
  const deliver = (event: SharedEvent): void => {
    cursor = event.lastEventId
    sink.message(event)
  }
  const stopCatchUp = (): SharedEvent[] => {
    catchUp?.close()
    catchUp = undefined
    const rest = held
    held = []
    return rest
  }
  const noop = (): void => {}
  const current = (): SharedLinkRequest => ({ ...request, lastEventId: cursor, eventTypes: types })
  const join = (): void => {
    joined = false
    // Everything of the request but the headers function, which cannot be cloned.
    const { resolveHeaders: _, ...join } = current()
    post({ kind: 'join', ...join })
  }
  return {
    sink: { ...sink, message: deliver },
    post,
    request: current,
    join,
    receive: (message) => {
      // Live messages before the answer to `join` are covered by the replay ahead of it.
      if (message.to ? message.to !== id : !joined && message.kind !== 'rejoin') return
      switch (message.kind) {
        case 'rejoin':
          join()
          break
        case 'event':
          if (message.to || !catchUp) deliver(message)
          else if (held.push(message) > REPLAY_LIMIT) held.shift()
          break
        case 'joined':
          joined = true
          mark = message.lastEventId
          sink.state(message.state)
          if (message.behind && !catchUp)
            // Only events and gaps of the catch-up matter; its state is the shared stream's.
            catchUp = run(current(), {
              ...sink,
              message: (event) => {
                deliver(event)
                // Caught up once the catch-up reaches the answer's cursor or a held live event.
                const index = replayFrom(held, event.lastEventId, mark)
                if (index >= 0) stopCatchUp().slice(index).forEach(deliver)
              },
              state: noop,
              transportChange: noop,
              error: noop,
            })
          break
        default:
          // state, transportChange, error, gap: the sink method of the same name. Other tabs'
          // messages on a shared channel have no `args`.
          if ('args' in message) (sink[message.kind] as (...args: unknown[]) => void)(...message.args)
      }
    },
    lead: () => {
      joined = true
      stopCatchUp()
    },
    addEventType: (type, local) => {
      types.push(type)
      if (local) local.addEventType(type)
      else post({ kind: 'add-type', type })
    },
    close: stopCatchUp,
  }
}
