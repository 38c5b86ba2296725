import type { StreamRunner } from './host'
import { REPLAY_LIMIT } from './host'
import { runStream } from './in-page'
import { PROTOCOL_VERSION, randomTabId, type CoordinatorMessage, type SharedEvent, type TabMessage } from './protocol'
import type { SharedLink, SharedLinkRequest, SharedLinkSink } from './types'

/** A tab message before the envelope (`v`, `key`, `tab`) is added. */
export type TabBody = TabMessage extends infer M ? (M extends unknown ? Omit<M, 'v' | 'key' | 'tab'> : never) : never

/** A tab's end of a coordinated stream: ordering across joins, replays and catch-ups. */
export interface TabSide {
  /** This tab's random id (what `to` addresses). */
  readonly id: string
  /** The id of the last event handed to the tab (where a new leader resumes). */
  readonly cursor: string
  /** The event types this tab listens to. */
  readonly types: Set<string>
  /** The tab's request as of now: its current cursor and types. */
  request(): SharedLinkRequest
  /** Sends a message from this tab (the envelope is added). */
  post(body: TabBody): void
  /** Handles one message meant for this tab (addressed to it, or live). */
  receive(message: CoordinatorMessage): void
  /**
   * Sends `join` (again), optionally from another cursor: live messages are dropped until the
   * answer.
   */
  join(from?: string): void
  /** This tab now runs the stream itself: its own host's messages are all live. */
  lead(): void
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
  const id = randomTabId()
  const types = new Set(request.eventTypes)
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
  const current = (): SharedLinkRequest => ({ ...request, lastEventId: cursor, eventTypes: [...types] })
  return {
    id,
    types,
    post,
    get cursor() {
      return cursor
    },
    request: current,
    receive: (message) => {
      if (!message.to && !joined) return
      switch (message.kind) {
        case 'event':
          if (message.to || !catchUp) deliver(message)
          else if (held.push(message) > REPLAY_LIMIT) held.shift()
          break
        case 'joined':
          joined = true
          mark = message.lastEventId
          sink.state(message.state)
          if (message.behind && !catchUp)
            catchUp = run(
              current(),
              {
                message: (event) => {
                  deliver(event)
                  let index = event.lastEventId === mark ? 0 : -1
                  for (let i = held.length - 1; index < 0 && i >= 0; i--) if (held[i]!.lastEventId === event.lastEventId) index = i + 1
                  if (index >= 0) stopCatchUp().slice(index).forEach(deliver)
                },
                gap: (gap) => sink.gap(gap),
                state: noop,
                transportChange: noop,
                error: noop,
              },
            )
          break
        default:
          // state, transportChange, error, gap: the sink method of the same name. Other tabs'
          // messages on a shared channel have no `args`.
          if ('args' in message) (sink[message.kind] as (...args: unknown[]) => void)(...message.args)
      }
    },
    join: (from) => {
      joined = false
      if (from !== undefined) cursor = from
      post({ kind: 'join', url: request.url, options: request.options, lastEventId: cursor, eventTypes: [...types], hasHeaders: !!request.resolveHeaders })
    },
    lead: () => {
      joined = true
      stopCatchUp()
    },
    close: () => void stopCatchUp(),
  }
}
