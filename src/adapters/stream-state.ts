// Shared by the React and Vue adapters. The runtime class comes from the public entry, which the
// build keeps external: the adapters never carry a second copy of the client.
import {
  ResilientEventSource,
  type ResilientEventSourceOptions,
  type StreamError,
  type StreamErrorEvent,
  type StreamStats,
  type TransportName,
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

/** A change of some fields of the state. */
export type StatePatch<T> = { -readonly [K in keyof EventStreamState<T>]?: EventStreamState<T>[K] }

/** The state of a stream before its first attempt, or of no stream when `url` is `null`. */
function initialState<T>(url: unknown): EventStreamState<T> {
  return { status: url == null ? 'closed' : 'connecting', transport: null, lastEvent: undefined, error: null }
}

/** Options read only when a connection is made, or local to the adapters: never in the key. */
const LOCAL = /^(lastEventId|events|storage)$/

/**
 * A string that changes exactly when the URL or a wire-relevant option value changes: the
 * adapters reconnect on a new key, never on a new object identity. Functions are left out (they
 * are read when used; one added later is used from the next connect on); `headers` counts only
 * by kind (function or not), and objects such as a `signal`, a non-string `body` (`FormData`,
 * `Blob`, a stream) or `Headers` are `{}`.
 */
export function streamKey(url: unknown, options: AnyEventStreamOptions): string {
  // A URL object becomes its href (toJSON); `remember.storage` may be localStorage itself,
  // which serialising would read item by item.
  return JSON.stringify([url, options], (name, value: unknown) => (LOCAL.test(name) ? undefined : name === 'headers' ? typeof value : value))
}

const STATUS: readonly EventStreamStatus[] = ['connecting', 'open', 'closed']
/** The client's own event types that become state. */
const STATE_TYPES = ['open', 'error', 'transportchange']

/** The functions of the adapters' result: identical across renders. */
export interface EventStreamControls {
  /** Counters and latency of the live stream (read on demand: they never cause a render). */
  stats(): StreamStats
  /** Closes the stream; `status` becomes `closed` until `reconnect()` or a new URL. */
  close(): void
  /** Connects again now; after `close()` or a fatal error, opens a new stream that resumes from the cursor. */
  reconnect(): void
}

/**
 * One adapter's stream, whatever the framework: `open(url, key)` opens the stream of `url` +
 * options (`key`), the same key again resuming from the last cursor; `stop()` closes it and keeps
 * its cursor; `bind()` adds listeners for types newly listed in `events`, without reconnecting.
 */
export type StreamController = readonly [
  open: (url: unknown, key: string) => void,
  stop: () => void,
  bind: () => void,
  controls: EventStreamControls,
]

/**
 * The framework-free part of `useEventStream`. Function options (and `headers`) are wrapped
 * so each call reads the latest ones: new identities from a re-render reach the live stream
 * without reconnecting. `open`, `error` and `transportchange` become state patches; each event
 * of `events` goes to `onEvent`, then through `select` into `lastEvent`.
 * @param read - returns the options of the latest render
 * @param update - applies a state patch
 *   (it is called once at once, with the whole state for `url`)
 * @param previous - the current `lastEvent` (what a `select` reducer continues from)
 * @param url - the first URL, for the first state
 * @returns the controller
 */
export function createStreamController<T>(
  read: () => AnyEventStreamOptions,
  update: (patch: StatePatch<T>) => void,
  previous: () => T | undefined,
  url: unknown,
): StreamController {
  // The live stream, or the last one (closed), whose cursor a re-open of the same key resumes from.
  let source: ResilientEventSource | undefined
  let bind = (): void => {}
  let key: string | undefined
  update(initialState(url))
  const listener = (event: Event): void => {
    const { events = ['message'], onEvent, select } = read()
    if (STATE_TYPES.includes(event.type)) {
      update({
        status: STATUS[source!.readyState],
        transport: source!.transport,
        // `open` and `error` set the error (`open` clears it); a transport change leaves it.
        ...(event.type < 't' && { error: (event as StreamErrorEvent).error ?? null }),
      })
    } else if (events.includes(event.type)) {
      onEvent?.(event as MessageEvent<string>)
      if (select !== false) {
        const value = select ? (select as (event: MessageEvent<string>, previous: T | undefined) => T)(event as MessageEvent<string>, previous()) : (event as T)
        // An equal value is no change: no re-render.
        if (!Object.is(value, previous())) update({ lastEvent: value })
      }
    }
  }
  const stop = (): void => source?.close()
  const open = (href: unknown, next: string | undefined): void => {
    // A re-open (`reconnect()` after a close, StrictMode's re-mount) keeps `lastEvent`.
    const again = source && key === next
    url = href
    key = next
    update(again ? { status: 'connecting', error: null } : initialState(href))
    if (href == null) return void (source = undefined)
    const options: Record<string, unknown> = { ...read() }
    for (const name in options) {
      const value = options[name]
      // `EventSource` is a constructor: it is read once, when a connection is made.
      if (name === 'headers' || (typeof value === 'function' && name !== 'EventSource')) {
        options[name] = (...args: unknown[]) => {
          const latest = (read() as Record<string, unknown>)[name] ?? value
          return typeof latest === 'function' ? latest(...args) : latest
        }
      }
    }
    // A stream's cursor starts at the `lastEventId` option: it is never less than the option.
    if (again) options.lastEventId = source!.lastEventId
    const opened = new ResilientEventSource(href as string | URL, options)
    // Adding a listener twice is a no-op; a type removed from `events` stays bound, undelivered.
    bind = () => {
      for (const type of [...STATE_TYPES, ...(read().events ?? ['message'])]) opened.addEventListener(type, listener)
    }
    bind()
    source = opened
  }
  return [
    open,
    stop,
    () => bind(),
    {
      // Without a stream (yet): no connection, nothing counted.
      stats: () => source?.stats() ?? { events: 0, duplicates: 0, gaps: 0, reconnects: 0, transportChanges: 0, bytes: 0, latency: null },
      close: () => {
        source?.close()
        update({ status: 'closed' })
      },
      reconnect: () => {
        if (source && source.readyState < 2) source.reconnect()
        else {
          stop()
          open(url, key)
        }
      },
    },
  ]
}
