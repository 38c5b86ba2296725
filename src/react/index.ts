import { useEffect, useMemo, useReducer, useRef, useState, useSyncExternalStore } from 'react'
// The public core entry: the build rewrites it to `resilient-sse` and keeps it external, so this
// adapter never carries a second copy of the client.
import { ResilientEventSource, type StreamStats } from '../index'
import {
  clientOptions,
  emptyStats,
  followStream,
  initialState,
  listenEvents,
  MESSAGE_ONLY,
  streamKey,
  type EventStreamOptions,
  type EventStreamState,
} from '../adapters/stream-state'

export type { EventStreamOptions, EventStreamState, EventStreamStatus } from '../adapters/stream-state'

/** Options of the React {@link useEventStream}: see {@link EventStreamOptions}. */
export type UseEventStreamOptions<T = MessageEvent<string>> = EventStreamOptions<T>

/** What the React {@link useEventStream} returns. Functions keep their identity across renders. */
export interface UseEventStreamResult<T> extends EventStreamState<T> {
  /** Counters and latency of the live stream (read on demand: they never cause a render). */
  stats(): StreamStats
  /** Closes the stream; `status` becomes `closed` until `reconnect()` or a new URL. */
  close(): void
  /** Connects again now; after `close()` or a fatal error, opens a new stream that resumes from the cursor. */
  reconnect(): void
}

interface Store<T> {
  /** The live (or last) stream. */
  source: ResilientEventSource | undefined
  /** Cursor for the stream `reconnect()` re-opens, tagged with the key it belongs to. */
  resume: [key: string, id: string] | undefined
  bump: () => void
  readonly result: Omit<UseEventStreamResult<T>, keyof EventStreamState<T>>
  update(patch: Partial<EventStreamState<T>>): void
  subscribe(listener: () => void): () => void
  get(): EventStreamState<T>
}

function createStore<T>(url: unknown): Store<T> {
  let state = initialState<T>(url)
  const listeners = new Set<() => void>()
  const store: Store<T> = {
    source: undefined,
    resume: undefined,
    bump: () => {},
    result: {
      stats: () => store.source?.stats() ?? emptyStats(),
      close: () => {
        store.source?.close()
        store.update({ status: 'closed' })
      },
      reconnect: () => {
        const source = store.source
        if (source && source.readyState !== 2) source.reconnect()
        else store.bump()
      },
    },
    update: (patch) => {
      const next = { ...state, ...patch }
      if ((Object.keys(next) as (keyof typeof next)[]).some((name) => !Object.is(next[name], state[name]))) {
        state = next
        for (const listener of listeners) listener()
      }
    },
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    get: () => state,
  }
  return store
}

/**
 * Subscribes a component to a {@link ResilientEventSource}: opens on mount, closes on unmount,
 * reconnects when the URL or a wire option *value* changes (never merely because a new options
 * object or callback was passed). Nothing connects during render, so server rendering does
 * nothing; StrictMode's double mount leaves exactly one connection.
 *
 * By default the component re-renders on every `message` event (`lastEvent`). To re-render
 * less, `select` a derived value (re-render only when it changes), or pass `select: false`
 * and handle events in `onEvent` (no re-render at all).
 *
 * @param url - the endpoint; `null` or `undefined` opens nothing (e.g. until the user logs in)
 * @param options - core options plus `events`, `onEvent`, `select`; see {@link EventStreamOptions}
 * @returns the stream's `status`, `transport`, `lastEvent`, `error`, and `stats()`, `close()`, `reconnect()`
 *
 * @example
 * ```tsx
 * import { useEventStream } from 'resilient-sse/react'
 *
 * function Price({ symbol }: { symbol: string }) {
 *   const { status, lastEvent } = useEventStream(`/events?topic=${symbol}`, {
 *     events: ['price'],
 *     select: (event) => JSON.parse(event.data).eur as number,
 *   })
 *   return <span title={status}>{lastEvent ?? '…'}</span>
 * }
 * ```
 * @example
 * ```tsx
 * // Feed a store; this component never re-renders because of events.
 * useEventStream('/events', { events: ['order'], select: false, onEvent: (e) => orders.add(JSON.parse(e.data)) })
 * ```
 */
export function useEventStream<T = MessageEvent<string>>(
  url: string | URL | null | undefined,
  options: UseEventStreamOptions<T> = {},
): UseEventStreamResult<T> {
  // Written during render so callbacks (headers, onEvent, select) always see the latest ones.
  const latest = useRef(options)
  latest.current = options
  const [store] = useState(() => createStore<T>(url))
  const [generation, bump] = useReducer((count: number) => count + 1, 0)
  store.bump = bump
  const key = streamKey(url, options)
  const types = (options.events ?? MESSAGE_ONLY).join('\n')

  useEffect(() => {
    if (url == null) {
      store.update(initialState(url))
      return
    }
    // Same key: `reconnect()` after a close (or StrictMode's re-mount): resume, keep `lastEvent`.
    const again = store.resume?.[0] === key
    const source = new ResilientEventSource(url, clientOptions(() => latest.current, again ? store.resume?.[1] : undefined))
    store.source = source
    store.update(again ? { status: 'connecting', error: null } : initialState(url))
    const unfollow = followStream(source, store.update)
    return () => {
      unfollow()
      source.close()
      store.resume = [key, source.lastEventId]
    }
    // `url` is part of `key`; a new `generation` is `reconnect()` after a close.
  }, [key, generation])

  useEffect(() => {
    const source = store.source
    if (!source || url == null) return
    // Event names cannot contain a line feed (SSE is line-based), so it is a safe separator.
    return listenEvents(source, types.split('\n'), () => latest.current, () => store.get().lastEvent, (lastEvent) =>
      store.update({ lastEvent }),
    )
  }, [key, generation, types])

  const state = useSyncExternalStore(store.subscribe, store.get, store.get)
  return useMemo(() => ({ ...state, ...store.result }), [state, store])
}
