import type { StreamRunner } from './host'
import { REPLAY_LIMIT } from './host'
import { runStream } from './in-page'
import type { CoordinatorMessage, SharedEvent } from './protocol'
import type { SharedLink, SharedLinkRequest, SharedLinkSink } from './types'

/** A tab's end of a coordinated stream: ordering across joins, replays and catch-ups. */
export interface TabSide {
  /** The id of the last event handed to the tab (where a new leader resumes). */
  readonly cursor: string
  /** Handles one message meant for this tab (addressed to it, or live). */
  receive(message: CoordinatorMessage): void
  /** Call before sending `join` again (optionally from another cursor): live messages are dropped until the answer. */
  rejoin(from?: string): void
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
 * @param run - the stream engine for catch-ups
 * @returns the tab side
 */
export function createTabSide(request: SharedLinkRequest, sink: SharedLinkSink, run: StreamRunner = runStream): TabSide {
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
  return {
    get cursor() {
      return cursor
    },
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
              { ...request, lastEventId: cursor },
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
        case 'state':
          sink.state(message)
          break
        case 'transportchange':
          sink.transportChange(message.transport, message.previous, message.reason)
          break
        case 'error':
          sink.error(message.error)
          break
        case 'gap':
          sink.gap(message.gap)
      }
    },
    rejoin: (from) => {
      joined = false
      if (from !== undefined) cursor = from
    },
    lead: () => {
      joined = true
      stopCatchUp()
    },
    close: () => void stopCatchUp(),
  }
}
