import type { Env, EventSourceLike } from '../env'
import { StreamError } from '../errors'
import { buildRequestUrl } from './url'
import type { ConnectRequest, Transport, TransportHandle, TransportSink } from './types'

/** Reserved events of the protocol; native EventSource only hears the types it subscribes to. */
const RESERVED_TYPES = ['_canary', '_ping', '_gap', '_end', '_backoff'] as const

/** `EventSource.CLOSED`, read from no global. */
const CLOSED = 2

/**
 * The `eventsource` rung: the platform's native `EventSource` (from `env.EventSource()`), the
 * cheapest stream where it works. Unsupported when it is missing, when the app sets headers
 * (native cannot send them), or for a method other than GET or a body.
 *
 * Native EventSource limits what can be known, so:
 * - the cursor travels only in the query (`lastEventId`); no `Last-Event-ID` header can be set;
 * - statuses are hidden: any failure before `open` is a retryable `network` error;
 * - an event's own `id:` is not exposed, only the stream's `lastEventId`: a message gets `id`
 *   when `lastEventId` is non-empty and changed since the previous message, else `undefined`
 *   (two consecutive events with the same id look like one id and one without);
 * - received bytes are not reported.
 *
 * The first `error` closes the EventSource, so native auto-reconnect never runs (the client owns
 * reconnects): after `open` it is reported as `end()` when the last message was `_end`, else as
 * a retryable `network` error. Server events named `error` or `open` are told apart from the
 * platform's by their `data`.
 */
export const eventSourceTransport: Transport = {
  name: 'eventsource',
  mode: 'stream',
  isSupported: (request: ConnectRequest, env: Env): boolean =>
    typeof env.EventSource() === 'function' && !request.hasCustomHeaders && /^get$/i.test(request.method) && request.body == null,
  open: (request: ConnectRequest, sink: TransportSink, env: Env): TransportHandle => {
    let active = true
    let isOpen = false
    let previousId = ''
    let lastType: string | undefined
    let source: EventSourceLike
    const subscribed = new Set<string>()
    const stop = (): void => {
      active = false
      source?.close()
    }
    const fail = (error: StreamError): void => {
      if (!active) return
      stop()
      sink.error(error)
    }
    try {
      const EventSource = env.EventSource()
      if (!EventSource) throw new StreamError('unsupported', 'no EventSource')
      source = new EventSource(buildRequestUrl(request, 'stream'), { withCredentials: request.withCredentials })
    } catch (cause) {
      const error = cause instanceof StreamError ? cause : new StreamError('network', 'EventSource threw', { cause })
      // `open` never calls the sink synchronously.
      queueMicrotask(() => fail(error))
      return { close: stop }
    }
    // Platform `open`/`error` events are plain `Event`s; server events carry string `data` (a
    // server event named `open` or `error` reaches the handlers below too).
    const onMessage = (event: Event): void => {
      const { type, data, lastEventId = '' } = event as MessageEvent
      if (!active || !subscribed.has(type)) return
      const id = lastEventId !== '' && lastEventId !== previousId ? lastEventId : undefined
      previousId = lastEventId
      lastType = type
      sink.message({ type, data, id, lastEventId })
    }
    const subscribe = (type: string): void => {
      if (!active || subscribed.has(type)) return
      subscribed.add(type)
      // `error` and `open` arrive through the handlers below, which tell both kinds apart.
      if (type !== 'error' && type !== 'open') source.addEventListener(type, onMessage)
    }
    const isServerEvent = (event: Event): boolean => typeof (event as MessageEvent).data === 'string'
    source.onopen = (event) => {
      if (isServerEvent(event)) return onMessage(event)
      if (!active || isOpen) return
      isOpen = true
      sink.open()
    }
    source.onerror = (event) => {
      if (isServerEvent(event)) return onMessage(event)
      if (!active) return
      if (isOpen && lastType === '_end') {
        stop()
        return sink.end()
      }
      // CLOSED before open means the server answered, but not with a 200 event stream; the
      // status stays hidden, so the message is all that can tell it from an unreachable server.
      // A refusal is handed to the next rung as `unsupported`: a fetch can read the status
      // (Retry-After, 401 refresh, 204) that native EventSource hides, and a refusal must not
      // count as a stream held by a proxy.
      const refused = !isOpen && source.readyState === CLOSED
      fail(
        new StreamError(
          refused ? 'unsupported' : 'network',
          isOpen ? 'EventSource broke off' : refused ? 'EventSource refused (not a 200 event stream)' : 'EventSource could not connect',
          { retryable: true },
        ),
      )
    }
    for (const type of ['message', ...RESERVED_TYPES, ...request.eventTypes]) subscribe(type)
    return { close: stop, addEventType: subscribe }
  },
}
