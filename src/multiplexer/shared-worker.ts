import { broadcastCoordinator } from './broadcast'
import type { StreamRunner } from './host'
import { inPageCoordinator } from './in-page'
import { isProtocolMessage, type CoordinatorMessage } from './protocol'
import { createTabSide } from './tab'
import type { Coordinator, SharedLink } from './types'

/** The part of a `MessagePort` the coordinator and the worker use. */
export interface MessagePortLike {
  postMessage(message: unknown): void
  onmessage: ((event: { data: unknown }) => void) | null
  start?(): void
  close(): void
}

/** The part of a `SharedWorker` the coordinator uses. */
export interface SharedWorkerLike {
  readonly port: MessagePortLike
  onerror: ((event: unknown) => void) | null
}

/** Platform overrides of {@link createSharedWorkerCoordinator}; globals are read at call time. */
export interface SharedWorkerPlatform {
  SharedWorker?: new (url: string, options: { name: string }) => SharedWorkerLike
  run?: StreamRunner
  /** Where a tab goes when the worker does not answer. @defaultValue broadcast, then in-page */
  fallback?: readonly Coordinator[]
}

/** How long a tab waits for the worker's answer to `join` before it falls back, in ms. */
export const WORKER_ACK_TIMEOUT = 1000

/**
 * Tabs share the app-hosted worker (`resilient-sse/worker`, a classic script with no imports)
 * named after the stream's key: the worker runs the one connection and answers each tab on its
 * port. A tab answers the worker's heartbeats and header requests, posts `leave` on close and
 * on `pagehide` (ports have no close event) and joins again on a `pageshow` from the
 * back/forward cache. A worker that fails to load sends the tab to the next coordinator; one
 * that stays silent for {@link WORKER_ACK_TIMEOUT} ms too, but a late answer brings the tab
 * back (from the fallback's cursor), so a slow start does not leave a second connection.
 * @param platform - `SharedWorker`, the stream engine and the fallback ladder (tests)
 * @returns the `shared-worker` coordinator
 */
export function createSharedWorkerCoordinator(platform: SharedWorkerPlatform = {}): Coordinator {
  const Worker = (): SharedWorkerPlatform['SharedWorker'] =>
    platform.SharedWorker ?? (globalThis as SharedWorkerPlatform).SharedWorker
  return {
    isSupported: (shared) => !!(shared.workerUrl && Worker()),
    connect: (request, sink, shared) => {
      const { key, resolveHeaders } = request
      // Page lifecycle listeners, removed together when the tab detaches.
      const page = new AbortController()
      let port: MessagePortLike | undefined
      let fallback: SharedLink | undefined
      // Answered, or closed: no fallback from now on.
      let settled = false
      const tab = createTabSide(request, sink, (message) => port?.postMessage(message), platform.run)
      const leave = (): void => tab.post({ kind: 'leave' })
      const onPage = (event: Event): void => {
        if (event.type === 'pagehide') leave()
        else if ((event as PageTransitionEvent).persisted) tab.join()
      }
      const detach = (): void => {
        leave()
        // Posting on a closed port does nothing.
        port?.close()
        page.abort()
      }
      const fall = (): void => {
        if (settled || fallback) return
        // Events of the fallback move the tab's cursor: a worker that answers late takes the tab
        // back from there.
        fallback = (platform.fallback ?? [broadcastCoordinator, inPageCoordinator])
          .find((coordinator) => coordinator.isSupported(shared))!
          .connect(tab.request(), tab.sink, shared)
      }
      const fail = (): void => {
        fall()
        detach()
      }
      try {
        const worker = new (Worker()!)(shared.workerUrl as string, { name: key })
        port = worker.port
        worker.onerror = fail
        // Setting `onmessage` starts the port.
        port.onmessage = ({ data }) => {
          if (!isProtocolMessage(data, key)) return
          const message = data as CoordinatorMessage
          if (message.kind === 'alive') tab.post({ kind: 'alive' })
          else if (message.kind === 'ask-headers')
            // A function that throws at once rejects the promise too.
            void new Promise<Record<string, string>>((resolve) => resolve(resolveHeaders!(message.refresh)))
              .then(
                (headers) => ({ headers }),
                (cause: unknown) => ({ error: String(cause) }),
              )
              .then((answer) => tab.post({ kind: 'headers', request: message.request, ...answer }))
          else if (fallback) {
            // Slow, not broken: leave the fallback and join again from where it got to.
            if (message.kind === 'joined') {
              fallback.close()
              fallback = undefined
              tab.join()
            }
          } else {
            settled ||= message.kind === 'joined'
            tab.receive(message)
          }
        }
        tab.join()
        for (const type of ['pagehide', 'pageshow'])
          (globalThis as { addEventListener?: typeof addEventListener }).addEventListener?.(type, onPage, { signal: page.signal })
      } catch {
        // A blocked or invalid worker URL throws synchronously.
        fail()
      }
      // Not cleared on close: `settled` stops it.
      setTimeout(fall, WORKER_ACK_TIMEOUT)
      return {
        addEventType: (type) => tab.addEventType(type, fallback),
        close: () => {
          settled = true
          fallback?.close()
          detach()
          tab.close()
        },
      }
    },
  }
}

/** The `shared-worker` coordinator on the page's own `SharedWorker`. */
export const sharedWorkerCoordinator: Coordinator = /* @__PURE__ */ createSharedWorkerCoordinator()
