import { ResilientEventSource } from '../client'
import type { Coordinator, SharedLink, SharedLinkRequest, SharedLinkSink } from './types'

/**
 * Runs the stream in this page: the last rung of the coordinator ladder (no SharedWorker, no
 * Web Locks) and the engine the other coordinators run on the leader's side.
 */
export const inPageCoordinator: Coordinator = {
  name: 'in-page',
  isSupported: () => true,
  connect: (request, sink) => runStream(request, sink),
}

/**
 * Opens a plain (non-shared) stream for `request` and reports everything to `sink`.
 * @returns the link; `addEventType` matters only for the native EventSource rung
 */
export function runStream(request: SharedLinkRequest, sink: SharedLinkSink): SharedLink {
  const { options, resolveHeaders } = request
  // The wire options are the client's own option names (`hasHeaders` aside, which it ignores).
  const es = new ResilientEventSource(request.url, {
    ...options,
    lastEventId: request.lastEventId || undefined,
    headers: options.hasHeaders && resolveHeaders ? ({ refresh }) => resolveHeaders(refresh) : undefined,
  })
  const report = (): void => sink.state({ readyState: es.readyState, transport: es.transport, stats: es.stats() })
  // A MessageEvent carries only the stream's last id: an event has its own id when that changed.
  let previousId = request.lastEventId
  const forward = (event: Event): void => {
    const message = event as MessageEvent<string>
    const id = message.lastEventId !== previousId ? message.lastEventId : undefined
    previousId = message.lastEventId
    sink.message({ type: message.type, data: message.data, id, lastEventId: message.lastEventId })
  }
  const types = new Set<string>()
  const listen = (type: string): void => {
    if (types.has(type)) return
    types.add(type)
    es.addEventListener(type, forward)
  }
  listen('message')
  for (const type of request.eventTypes) listen(type)
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
