// Shared by the React and Vue adapters. Type-only imports of the core: the adapters themselves
// import the runtime class from the public entry, which the build keeps external.
import type {
  ResilientEventSource,
  ResilientEventSourceOptions,
  StreamError,
  StreamErrorEvent,
  StreamStats,
  TransportChangeEvent,
  TransportName,
} from '../index'

/** The stream's state as the adapters show it: `readyState` 0/1/2 as words. */
export type EventStreamStatus = 'connecting' | 'open' | 'closed'

/**
 * Options of `useEventStream` (React and Vue): every {@link ResilientEventSourceOptions} option,
 * plus which events to listen to and what to keep of them.
 *
 * What reconnects: a change of the URL or of a *value* of a wire option (`method`, `transports`,
 * `retry` settings, `ping`, `shared`, …). What never reconnects: a new object with equal values,
 * and new identities of functions (`headers`, `onEvent`, `select`, a `retry` function, `fetch`),
 * which are read when they are used. `lastEventId`, `signal`, `env`, `EventSource` and a
 * non-string `body` are read when a connection is made.
 */
export interface EventStreamOptions<T = MessageEvent<string>> extends ResilientEventSourceOptions {
  /**
   * App event types to listen to. Changing the list adds or removes listeners on the live
   * stream without reconnecting.
   * @defaultValue ['message']
   */
  events?: readonly string[]
  /** Called with every event of `events`, without re-rendering: for stores, logs, toasts. */
  onEvent?: (event: MessageEvent<string>) => void
  /**
   * What to keep of each event as `lastEvent`: a value, or a reducer over the previous value.
   * The component re-renders only when the result changes (`Object.is`). `false` keeps nothing
   * (`lastEvent` stays `undefined`): events then reach only `onEvent`, with no re-render at all.
   * @defaultValue the event itself
   */
  select?: ((event: MessageEvent<string>, previous: T | undefined) => T) | false
}

/** Any {@link EventStreamOptions}, whatever `select` returns. */
export type AnyEventStreamOptions = Omit<EventStreamOptions, 'select'> & { select?: unknown }

/** The reactive part of the adapters' result. */
export interface EventStreamState<T> {
  /** `connecting` until events flow, `open` while they do, `closed` after `close()` or a fatal error. */
  readonly status: EventStreamStatus
  /** The transport in use, `null` before the first attempt. */
  readonly transport: TransportName | null
  /** The last event of `events` (after `select`), `undefined` before the first. */
  readonly lastEvent: T | undefined
  /** The last error, `null` once the stream opens again. */
  readonly error: StreamError | null
}

/** Default listened event types. */
export const MESSAGE_ONLY: readonly string[] = ['message']

/** Counters of a stream that does not exist (yet): no connection, nothing counted. */
export function emptyStats(): StreamStats {
  return { events: 0, duplicates: 0, gaps: 0, reconnects: 0, transportChanges: 0, bytes: 0, latency: null }
}

/** The state of a stream before its first attempt, or of no stream when `url` is `null`. */
export function initialState<T>(url: unknown): EventStreamState<T> {
  return { status: url == null ? 'closed' : 'connecting', transport: null, lastEvent: undefined, error: null }
}

/** Options read only when a connection is made, or local to the adapters: never in the key. */
const LOCAL = /^(signal|env|fetch|EventSource|lastEventId|events|onEvent|select|storage)$/

/**
 * A string that changes exactly when the URL or a wire-relevant option value changes: the
 * adapters reconnect on a new key, never on a new object identity. Functions count only by
 * presence; `headers` and a non-string `body` by presence too (they are read when used).
 */
export function streamKey(url: unknown, options: AnyEventStreamOptions): string {
  return JSON.stringify([url == null ? null : String(url), options], (name, value: unknown) =>
    // `remember.storage` may be localStorage itself: serialising it would read every item.
    LOCAL.test(name)
      ? undefined
      : name === 'headers' || (name === 'body' && typeof value !== 'string')
        ? value != null
        : typeof value === 'function'
          ? 1
          : value,
  )
}

/**
 * The core's options, with functions wrapped so each call reads the latest ones: new function
 * identities from a re-render reach the live stream without reconnecting.
 * @param read - returns the options of the latest render
 * @param lastEventId - the cursor to resume from, when re-opening a closed stream
 */
export function clientOptions(read: () => AnyEventStreamOptions, lastEventId?: string): ResilientEventSourceOptions {
  const { events: _events, onEvent: _onEvent, select: _select, ...options } = read()
  if (lastEventId) options.lastEventId = lastEventId
  if (options.headers !== undefined) {
    options.headers = (context) => {
      const headers = read().headers
      return typeof headers === 'function' ? headers(context) : (headers ?? {})
    }
  }
  const retry = options.retry
  if (typeof retry === 'function') {
    options.retry = (attempt, error) => {
      const latest = read().retry
      return (typeof latest === 'function' ? latest : retry)(attempt, error)
    }
  }
  const fetch = options.fetch
  if (fetch) options.fetch = (input, init) => (read().fetch ?? fetch)(input, init)
  return options
}

const STATUS: readonly EventStreamStatus[] = ['connecting', 'open', 'closed']
const STATE_TYPES = ['open', 'error', 'transportchange'] as const

/**
 * Follows a stream's state: `open`, `error` and `transportchange` become state updates.
 * @returns a function that stops following
 */
export function followStream(source: ResilientEventSource, update: (patch: Partial<EventStreamState<never>>) => void): () => void {
  const listener = (event: Event): void =>
    update(
      event.type === 'transportchange'
        ? { transport: (event as TransportChangeEvent).transport }
        : // `open` clears the error; an `error` leaves the stream connecting, open (non-fatal) or closed.
          { status: STATUS[source.readyState], error: (event as StreamErrorEvent).error ?? null },
    )
  for (const type of STATE_TYPES) source.addEventListener(type, listener)
  return () => {
    for (const type of STATE_TYPES) source.removeEventListener(type, listener)
  }
}

/**
 * Listens to app event types; each event goes to `onEvent`, then through `select` into `lastEvent`.
 * @returns a function that removes the listeners
 */
export function listenEvents<T>(
  source: ResilientEventSource,
  types: readonly string[],
  read: () => EventStreamOptions<T>,
  previous: () => T | undefined,
  keep: (value: T) => void,
): () => void {
  const listener = (event: MessageEvent<string>): void => {
    const { onEvent, select } = read()
    onEvent?.(event)
    if (select !== false) keep(select ? select(event, previous()) : (event as T))
  }
  for (const type of types) source.addEventListener(type, listener)
  return () => {
    for (const type of types) source.removeEventListener(type, listener)
  }
}
