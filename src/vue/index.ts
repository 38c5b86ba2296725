import {
  getCurrentInstance,
  getCurrentScope,
  onMounted,
  onScopeDispose,
  shallowRef,
  toValue,
  watch,
  type MaybeRefOrGetter,
  type Ref,
} from 'vue'
// The public core entry: the build rewrites it to `resilient-sse` and keeps it external.
import { ResilientEventSource, type StreamError, type StreamStats, type TransportName } from '../index'
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
  type EventStreamStatus,
} from '../adapters/stream-state'

export type { EventStreamOptions, EventStreamState, EventStreamStatus } from '../adapters/stream-state'

/** Options of the Vue {@link useEventStream}: see {@link EventStreamOptions}. */
export type UseEventStreamOptions<T = MessageEvent<string>> = EventStreamOptions<T>

/** What the Vue {@link useEventStream} returns: read-only refs, and functions. */
export interface UseEventStreamReturn<T> {
  /** `connecting` until events flow, `open` while they do, `closed` after `close()` or a fatal error. */
  readonly status: Readonly<Ref<EventStreamStatus>>
  /** The transport in use, `null` before the first attempt. */
  readonly transport: Readonly<Ref<TransportName | null>>
  /** The last event of `events` (after `select`), `undefined` before the first. */
  readonly lastEvent: Readonly<Ref<T | undefined>>
  /** The last error, `null` once the stream opens again. */
  readonly error: Readonly<Ref<StreamError | null>>
  /** Counters and latency of the live stream (read on demand, not reactive). */
  stats(): StreamStats
  /** Closes the stream; `status` becomes `closed` until `reconnect()` or a new URL. */
  close(): void
  /** Connects again now; after `close()` or a fatal error, opens a new stream that resumes from the cursor. */
  reconnect(): void
}

/**
 * A {@link ResilientEventSource} as refs. In a component it connects on mount (never during
 * server rendering); outside a component (an `effectScope`, a Pinia setup store) it connects at
 * once where a `document` exists, and does nothing on a server. It closes
 * when the scope is disposed, and reconnects when the URL or a wire option *value* changes
 * (not merely because a new options object was passed).
 *
 * @param url - the endpoint, or a ref/getter of it (watched); `null` opens nothing
 * @param options - core options plus `events`, `onEvent`, `select` (see {@link EventStreamOptions}), or a ref/getter of them
 * @returns refs `status`, `transport`, `lastEvent`, `error`, and `stats()`, `close()`, `reconnect()`
 *
 * @example
 * ```vue
 * <script setup lang="ts">
 * import { useEventStream } from 'resilient-sse/vue'
 * const props = defineProps<{ topic: string }>()
 * const { status, lastEvent } = useEventStream(() => `/events?topic=${props.topic}`, {
 *   events: ['price'],
 *   select: (event) => JSON.parse(event.data).eur as number,
 * })
 * </script>
 * <template><span :title="status">{{ lastEvent ?? '…' }}</span></template>
 * ```
 */
export function useEventStream<T = MessageEvent<string>>(
  url: MaybeRefOrGetter<string | URL | null | undefined>,
  options: MaybeRefOrGetter<UseEventStreamOptions<T>> = {},
): UseEventStreamReturn<T> {
  const first = initialState<T>(toValue(url))
  const status = shallowRef(first.status)
  const transport = shallowRef<TransportName | null>(null)
  const lastEvent = shallowRef<T | undefined>()
  const error = shallowRef<StreamError | null>(null)
  const read = (): EventStreamOptions<T> => toValue(options)
  const update = (patch: Partial<EventStreamState<T>>): void => {
    if (patch.status) status.value = patch.status
    if ('transport' in patch) transport.value = patch.transport ?? null
    if ('lastEvent' in patch) lastEvent.value = patch.lastEvent
    if ('error' in patch) error.value = patch.error ?? null
  }
  let source: ResilientEventSource | undefined
  let stop = (): void => {}
  let unlisten = (): void => {}
  const generation = shallowRef(0)

  const listen = (types: string): void => {
    unlisten()
    unlisten = source ? listenEvents(source, types.split('\n'), read, () => lastEvent.value, (value) => update({ lastEvent: value })) : () => {}
  }
  const types = (): string => (read().events ?? MESSAGE_ONLY).join('\n')
  const open = (href: string | URL | null | undefined, resume?: string): void => {
    stop()
    // `reconnect()` after a close resumes and keeps `lastEvent`; a new URL or options start afresh.
    update(resume === undefined ? initialState(href) : { status: 'connecting', error: null })
    if (href == null) return
    const current = new ResilientEventSource(href, clientOptions(read, resume))
    const unfollow = followStream(current, update)
    source = current
    stop = () => {
      unlisten()
      unfollow()
      current.close()
      source = undefined
    }
    listen(types())
  }
  const start = (): void => {
    watch(
      // Getters, each compared by value: a new options object with equal values is no change (a
      // shallowRef source would force every trigger through).
      [() => streamKey(toValue(url), read()), () => generation.value],
      ([key], previous) => {
        // Only `reconnect()` after a close (same key) resumes from the old stream's cursor.
        const resume = previous?.[0] === key ? source?.lastEventId : undefined
        open(toValue(url), resume)
      },
      { immediate: true },
    )
    watch(types, listen)
  }

  // In a component: on mount, which never happens during SSR. Outside one (an effectScope, a
  // Pinia setup store): at once, but only where there is a document, so SSR stays inert.
  if (getCurrentInstance()) onMounted(start)
  else if (typeof document !== 'undefined') start()
  if (getCurrentScope()) onScopeDispose(() => stop())

  return {
    status,
    transport,
    lastEvent,
    error,
    stats: () => source?.stats() ?? emptyStats(),
    close: () => {
      source?.close()
      update({ status: 'closed' })
    },
    reconnect: () => {
      if (source && source.readyState !== 2) source.reconnect()
      else generation.value += 1
    },
  }
}
