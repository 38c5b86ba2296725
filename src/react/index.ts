import { useEffect, useState, useSyncExternalStore } from 'react'
// The public core entry (the controller in ../adapters/stream-state imports the class): the build
// rewrites it to `resilient-sse` and keeps it external, so the adapter never carries a second copy.
import type { ResilientEventSource } from '../index'
import {
  createStreamController,
  streamKey,
  type EventStreamControls,
  type EventStreamOptions,
  type EventStreamState,
} from '../adapters/stream-state'

export type { EventStreamOptions, EventStreamState, EventStreamStatus } from '../adapters/stream-state'

/** Options of the React {@link useEventStream}: see {@link EventStreamOptions}. */
export type UseEventStreamOptions<T = MessageEvent<string>> = EventStreamOptions<T>

/** What the React {@link useEventStream} returns. Functions keep their identity across renders. */
export interface UseEventStreamResult<T> extends EventStreamState<T>, EventStreamControls {}

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
  // One store per component: the result (its functions stay the same), its subscriber, the stream.
  const [[open, stop, bind, subscribe, get, setOptions]] = useState(() => {
    let latest = options
    let result: UseEventStreamResult<T> | undefined
    // useSyncExternalStore subscribes once per component (again after StrictMode's re-mount).
    let notify = (): void => {}
    const [open, stop, bind, controls] = createStreamController<T>(
      () => latest,
      (patch) => {
        result = { ...result, ...patch } as UseEventStreamResult<T>
        notify()
      },
      () => result?.lastEvent,
      url,
    )
    result = { ...result, ...controls } as UseEventStreamResult<T>
    return [
      open,
      stop,
      bind,
      (listener: () => void) => {
        notify = listener
        return () => (notify = () => {})
      },
      () => result!,
      // Written during render, so callbacks (headers, onEvent, select) always see the latest ones.
      (current: UseEventStreamOptions<T>) => void (latest = current),
    ] as const
  })
  setOptions(options)
  const key = streamKey(url, options)
  // `url` is part of `key`.
  useEffect(() => {
    open(url, key)
    return stop
  }, [key])
  // After every render: listeners for types newly added to `events` (without reconnecting).
  useEffect(bind)
  return useSyncExternalStore(subscribe, get, get)
}
