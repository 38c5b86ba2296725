import {
  getCurrentInstance,
  onMounted,
  onScopeDispose,
  shallowRef,
  toValue,
  watch,
  type MaybeRefOrGetter,
  type Ref,
} from 'vue'
// The public core entry (types only here): the build rewrites it to `resilient-sse` and keeps it external.
import type { StreamError, TransportName } from '../index'
import {
  createStreamController,
  streamKey,
  type EventStreamControls,
  type EventStreamOptions,
  type EventStreamStatus,
} from '../adapters/stream-state'

export type { EventStreamOptions, EventStreamState, EventStreamStatus } from '../adapters/stream-state'

/** Options of the Vue {@link useEventStream}: see {@link EventStreamOptions}. */
export type UseEventStreamOptions<T = MessageEvent<string>> = EventStreamOptions<T>

/** What the Vue {@link useEventStream} returns: read-only refs, and functions. */
export interface UseEventStreamReturn<T> extends EventStreamControls {
  /** `connecting` until events flow, `open` while they do, `closed` after `close()` or a fatal error. */
  readonly status: Readonly<Ref<EventStreamStatus>>
  /** The transport in use, `null` before the first attempt. */
  readonly transport: Readonly<Ref<TransportName | null>>
  /** The last event of `events` (after `select`), `undefined` before the first. */
  readonly lastEvent: Readonly<Ref<T | undefined>>
  /** The last error, `null` once the stream opens again. */
  readonly error: Readonly<Ref<StreamError | null>>
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
  // Made by the controller's first update, which carries every field.
  const refs: Record<string, Ref<unknown>> = {}
  const read = (): EventStreamOptions<T> => toValue(options)
  const [open, stop, bind, controls] = createStreamController<T>(
    read,
    (patch) => {
      for (const name in patch) (refs[name] ??= shallowRef()).value = patch[name as keyof typeof patch]
    },
    () => refs.lastEvent?.value as T | undefined,
    toValue(url),
  )
  const start = (): void => {
    watch(
      // A getter compared by value: a new options object with equal values is no change.
      () => streamKey(toValue(url), read()),
      (key) => {
        stop()
        open(toValue(url), key)
      },
      { immediate: true },
    )
    // Types newly added to `events` get listeners without reconnecting (`String` reads every item).
    watch(() => String(read().events), bind)
  }

  // In a component: on mount, which never happens during SSR. Outside one (an effectScope, a
  // Pinia setup store): at once, but only where there is a document, so SSR stays inert.
  if (getCurrentInstance()) onMounted(start)
  else if (typeof document !== 'undefined') start()
  // Outside any scope nothing would ever close the stream: Vue warns about that (in development).
  onScopeDispose(stop)
  return { ...refs, ...controls } as unknown as UseEventStreamReturn<T>
}
