import { ResilientEventSource } from '../client'
import type { Coordinator, SharedLink, SharedLinkRequest, SharedLinkSink } from './types'

/**
 * Runs the stream in this page: the last rung of the coordinator ladder (no SharedWorker, no
 * Web Locks) and the engine the other coordinators run on the leader's side.
 */
export const inPageCoordinator: Coordinator = {
  isSupported: () => true,
  connect: runStream,
}

/**
 * Opens a plain (non-shared) stream for `request` and reports everything to `sink`.
 * @returns the link; `addEventType` matters only for the native EventSource rung
 */
export function runStream(request: SharedLinkRequest, sink: SharedLinkSink): SharedLink {
  const { resolveHeaders } = request
  // The wire options are the client's own option names (`hasHeaders` aside, which it ignores);
  // an empty cursor is no cursor.
  const es = new ResilientEventSource(request.url, {
    ...request.options,
    lastEventId: request.lastEventId,
    headers: resolveHeaders && (({ refresh }) => resolveHeaders(refresh)),
  })
  const report = (): void => sink.state({ readyState: es.readyState, transport: es.transport, stats: es.stats() })
  // A MessageEvent carries only the stream's last id: an event has its own id when that changed.
  let previousId = request.lastEventId
  const forward = ({ type, data, lastEventId }: MessageEvent<string>): void => {
    const id = lastEventId !== previousId ? lastEventId : undefined
    previousId = lastEventId
    sink.message({ type, data, id, lastEventId })
  }
  // The client ignores a listener added twice for the same type.
  const listen = (type: string): void => es.addEventListener(type, forward)
  ;['message', ...request.eventTypes].forEach(listen)
  es.addEventListener('open', report)
  es.addEventListener('error', (event) => {
    sink.error(event.error.toJSON())
    report()
  })
  es.addEventListener('transportchange', (event) => {
    sink.transportChange(event.transport, event.previous, event.reason)
    report()
  })
  es.addEventListener('gap', (event) => sink.gap(event.gap))
  return { close: () => es.close(), addEventType: listen }
}
