import { createStreamHost, type StreamHost, type StreamRunner } from './host'
import { isProtocolMessage, type CoordinatorMessage } from './protocol'
import { createTabSide } from './tab'
import type { Coordinator } from './types'

/** The part of `BroadcastChannel` the coordinator uses. */
export interface BroadcastChannelLike {
  postMessage(message: unknown): void
  onmessage: ((event: { data: unknown }) => void) | null
  close(): void
}

/** The part of `navigator.locks` (Web Locks) the coordinator uses. */
export interface LocksLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>
}

/** Platform overrides of {@link createBroadcastCoordinator}; globals are read at call time. */
export interface BroadcastPlatform {
  BroadcastChannel?: new (name: string) => BroadcastChannelLike
  locks?: LocksLike
  run?: StreamRunner
}

/**
 * Tabs elect a leader with a Web Lock named after the stream's key, held for the leader's
 * lifetime; every other tab waits in the lock's queue. The leader runs the one connection and
 * posts its events on a `BroadcastChannel` of the same name; followers deliver them. When the
 * leader closes or its page goes away the browser releases the lock, the next tab in the queue
 * takes it at once, resumes from its own cursor (the last event it delivered, which every tab
 * tracks from the broadcasts) and asks every tab to join again; the replay of its buffer and
 * the tabs' de-duplication by id absorb the overlap. The leader asks its own `headers`. The
 * last tab to leave holds the lock, so closing it closes the connection.
 * @param platform - `BroadcastChannel`, `locks` and the stream engine (tests)
 * @returns the `broadcast` coordinator
 */
export function createBroadcastCoordinator(platform: BroadcastPlatform = {}): Coordinator {
  const Channel = (): BroadcastPlatform['BroadcastChannel'] =>
    platform.BroadcastChannel ?? (globalThis as BroadcastPlatform).BroadcastChannel
  const locks = (): LocksLike | undefined => platform.locks ?? (globalThis as { navigator?: { locks?: LocksLike } }).navigator?.locks
  return {
    isSupported: () => !!(Channel() && locks()),
    connect: (request, sink) => {
      const { key } = request
      const channel = new (Channel()!)(key)
      const post = (message: unknown): void => channel.postMessage(message)
      const tab = createTabSide(request, sink, post, platform.run)
      const abort = new AbortController()
      let host: StreamHost | undefined
      channel.onmessage = ({ data }) => {
        if (!isProtocolMessage(data, key)) return
        // The leader serves other tabs' joins and types; the others follow the leader.
        if (host) {
          if (data.kind === 'join') host.join(data)
          else if (data.kind === 'add-type') host.addEventType(data.type)
        } else tab.receive(data as CoordinatorMessage)
      }
      tab.join()
      locks()!
        .request(key, { signal: abort.signal }, () => {
          tab.lead()
          host = createStreamHost(
            tab.request(),
            (message) => {
              post(message)
              tab.receive(message)
            },
            platform.run,
          )
          // From the new leader's tab side (the extra `tab` field is harmless).
          tab.post({ kind: 'rejoin' })
          // Held until this tab closes.
          return new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve()))
        })
        // Rejects with AbortError when this tab leaves while still waiting in the queue.
        .catch(() => {})
      return {
        addEventType: (type) => tab.addEventType(type, host),
        close: () => {
          abort.abort()
          host?.close()
          channel.close()
          tab.close()
        },
      }
    },
  }
}

/** The `broadcast` coordinator on the page's own `BroadcastChannel` and `navigator.locks`. */
export const broadcastCoordinator: Coordinator = /* @__PURE__ */ createBroadcastCoordinator()
