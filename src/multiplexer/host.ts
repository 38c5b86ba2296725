import { runStream } from './in-page'
import { PROTOCOL_VERSION, replayFrom, type CoordinatorMessage, type SharedEvent, type SharedState } from './protocol'
import type { SharedLink, SharedLinkRequest } from './types'

/** How many recent events a host keeps to replay for late joiners. */
export const REPLAY_LIMIT = 1024

/** Runs one real stream for a request (injected in tests; `runStream` by default). */
export type StreamRunner = typeof runStream

/** Body of a coordinator message, before the envelope is added. */
type Body = CoordinatorMessage extends infer M ? (M extends unknown ? Omit<M, 'v' | 'key'> : never) : never

/** The leader's side of a shared stream: one connection, fanned out to every tab. */
export interface StreamHost {
  /**
   * Replays what `tab` missed after `lastEventId` (from the buffer), then answers `joined`.
   * An empty cursor or the stream's own cursor needs no replay.
   */
  join(message: { readonly tab: string; readonly lastEventId: string; readonly eventTypes: readonly string[] }): void
  addEventType(type: string): void
  close(): void
}

/**
 * Starts the one connection of a shared stream and fans its events out through `publish`
 * (every tab when `to` is absent, one tab otherwise). Keeps the last {@link REPLAY_LIMIT}
 * events so a tab that joins late is replayed from its own cursor.
 * @param request - endpoint, options, the cursor to start from, and the headers function
 * @param publish - sends one message to the tabs
 * @param run - the stream engine
 * @returns the host
 */
export function createStreamHost(
  request: SharedLinkRequest,
  publish: (message: CoordinatorMessage) => void,
  run: StreamRunner = runStream,
): StreamHost {
  const send = (body: Body): void => publish({ v: PROTOCOL_VERSION, key: request.key, ...body } as CoordinatorMessage)
  const buffer: SharedEvent[] = []
  // The cursor just before buffer[0]: a tab at this cursor is replayed the whole buffer.
  let start = request.lastEventId
  let cursor = start
  let state: SharedState = { readyState: 0, transport: null }
  let change: Body | undefined
  const link: SharedLink = run(request, {
    message: (event) => {
      if (buffer.push(event) > REPLAY_LIMIT) start = buffer.shift()!.lastEventId
      cursor = event.lastEventId
      send({ kind: 'event', ...event })
    },
    state: (next) => send({ kind: 'state', args: [(state = next)] }),
    transportChange: (...args) => send((change = { kind: 'transportChange', args })),
    error: (...args) => send({ kind: 'error', args }),
    gap: (...args) => send({ kind: 'gap', args }),
  })
  return {
    ...link,
    join: ({ tab, lastEventId, eventTypes }) => {
      eventTypes.forEach(link.addEventType)
      // An empty cursor or the stream's own cursor needs no replay.
      const from = lastEventId && lastEventId !== cursor ? replayFrom(buffer, lastEventId, start) : buffer.length
      if (from >= 0) for (const event of buffer.slice(from)) send({ kind: 'event', to: tab, ...event })
      if (change) send({ ...change, to: tab })
      send({ kind: 'joined', to: tab, lastEventId: cursor, behind: from < 0, state })
    },
  }
}
