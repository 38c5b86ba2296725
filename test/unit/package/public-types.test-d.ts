// Type tests of the public API, checked by `tsc --noEmit` (part of `npm test`): a wrong type here
// is a compile error. Not a runtime test file (`*.test-d.ts`), so vitest's `unit` project skips it.
import { expectTypeOf } from 'vitest'
import { ref } from 'vue'
import {
  isStreamError,
  ResilientEventSource,
  StreamError,
  type GapEvent,
  type ReadyState,
  type ResilientEventSourceOptions,
  type StreamErrorCode,
  type StreamErrorEvent,
  type StreamErrorLike,
  type StreamStats,
  type TransportChangeEvent,
  type TransportName,
} from '../../../src/index'
import { createEventStreamParser, type EventStreamMessage } from '../../../src/parser/index'
import { useEventStream as useReactStream, type UseEventStreamResult } from '../../../src/react/index'
import { createEventHub, type EventHub } from '../../../src/server/index'
import { useEventStream as useVueStream, type EventStreamStatus } from '../../../src/vue/index'
import type { Ref } from 'vue'

declare const es: ResilientEventSource

// ---- core ----------------------------------------------------------------------------------
expectTypeOf(ResilientEventSource).constructorParameters.toEqualTypeOf<[url: string | URL, options?: ResilientEventSourceOptions]>()
expectTypeOf(es.readyState).toEqualTypeOf<ReadyState>()
expectTypeOf<ReadyState>().toEqualTypeOf<0 | 1 | 2>()
expectTypeOf(es.transport).toEqualTypeOf<TransportName | null>()
expectTypeOf<TransportName>().toEqualTypeOf<'eventsource' | 'fetch' | 'sse-close' | 'long-poll'>()
expectTypeOf(es.lastEventId).toEqualTypeOf<string>()
expectTypeOf(es.stats()).toEqualTypeOf<StreamStats>()
expectTypeOf(es.close).returns.toEqualTypeOf<void>()
expectTypeOf(es.reconnect).returns.toEqualTypeOf<void>()

es.addEventListener('open', (event) => expectTypeOf(event).toEqualTypeOf<Event>())
es.addEventListener('message', (event) => expectTypeOf(event).toEqualTypeOf<MessageEvent<string>>())
es.addEventListener('price', (event) => expectTypeOf(event).toEqualTypeOf<MessageEvent<string>>())
es.addEventListener('error', (event) => {
  expectTypeOf(event).toEqualTypeOf<StreamErrorEvent>()
  expectTypeOf(event.error).toEqualTypeOf<StreamError>()
  expectTypeOf(event.error.code).toEqualTypeOf<StreamErrorCode>()
  expectTypeOf(event.error.retryable).toEqualTypeOf<boolean>()
})
es.addEventListener('transportchange', (event) => {
  expectTypeOf(event).toEqualTypeOf<TransportChangeEvent>()
  expectTypeOf(event.previous).toEqualTypeOf<TransportName | null>()
})
es.addEventListener('gap', (event) => expectTypeOf(event).toEqualTypeOf<GapEvent>())

expectTypeOf<ResilientEventSourceOptions['retry']>().toEqualTypeOf<
  | { initialDelay?: number; maxDelay?: number; factor?: number; maxAttempts?: number }
  | ((attempt: number, error: StreamError) => number | false)
  | false
  | undefined
>()
new ResilientEventSource('/events', { retry: (attempt) => (attempt > 3 ? false : attempt * 100), transports: ['fetch', 'long-poll'] })
new ResilientEventSource('/events', { headers: async ({ refresh }) => ({ authorization: refresh ? 'new' : 'old' }) })
// @ts-expect-error an unknown transport name
new ResilientEventSource('/events', { transports: ['websocket'] })
// @ts-expect-error retry functions return a delay or false, not true
new ResilientEventSource('/events', { retry: () => true })

declare const unknownValue: unknown
if (isStreamError(unknownValue)) expectTypeOf(unknownValue).toEqualTypeOf<StreamErrorLike>()

// Async iteration yields app events.
async function iterate(): Promise<void> {
  for await (const event of es) expectTypeOf(event).toEqualTypeOf<MessageEvent<string>>()
}
void iterate

// ---- parser --------------------------------------------------------------------------------
createEventStreamParser({ onEvent: (message) => expectTypeOf(message).toEqualTypeOf<EventStreamMessage>() })
expectTypeOf<EventStreamMessage['data']>().toEqualTypeOf<string>()

// ---- server --------------------------------------------------------------------------------
expectTypeOf(createEventHub).returns.toEqualTypeOf<EventHub>()
expectTypeOf<EventHub['publish']>().returns.toEqualTypeOf<Promise<string>>()

// ---- React ---------------------------------------------------------------------------------
const plain = useReactStream('/events')
expectTypeOf(plain).toEqualTypeOf<UseEventStreamResult<MessageEvent<string>>>()
expectTypeOf(plain.status).toEqualTypeOf<'connecting' | 'open' | 'closed'>()
expectTypeOf(plain.transport).toEqualTypeOf<TransportName | null>()
expectTypeOf(plain.lastEvent).toEqualTypeOf<MessageEvent<string> | undefined>()
expectTypeOf(plain.error).toEqualTypeOf<StreamError | null>()
expectTypeOf(plain.stats).returns.toEqualTypeOf<StreamStats>()
expectTypeOf(plain.close).toEqualTypeOf<() => void>()

const price = useReactStream('/events', { events: ['price'], select: (event) => Number(event.data) })
expectTypeOf(price.lastEvent).toEqualTypeOf<number | undefined>()
const list = useReactStream('/events', { select: (event, previous: string[] = []) => [...previous, event.data] })
expectTypeOf(list.lastEvent).toEqualTypeOf<string[] | undefined>()
useReactStream(null)
useReactStream(new URL('https://example.test/events'), { select: false, onEvent: (event) => expectTypeOf(event).toEqualTypeOf<MessageEvent<string>>() })
// Core options pass through.
useReactStream('/events', { transports: ['sse-close'], shared: { workerUrl: '/worker.js' } })
// @ts-expect-error events are names, not numbers
useReactStream('/events', { events: [1] })
// @ts-expect-error a select result must match the declared type
useReactStream<number>('/events', { select: (event) => event.data })

// ---- Vue -----------------------------------------------------------------------------------
const vue = useVueStream(ref('/events'), { events: ['price'], select: (event) => event.data.length })
expectTypeOf(vue.status).toEqualTypeOf<Readonly<Ref<EventStreamStatus>>>()
expectTypeOf(vue.status.value).toEqualTypeOf<'connecting' | 'open' | 'closed'>()
expectTypeOf(vue.lastEvent.value).toEqualTypeOf<number | undefined>()
expectTypeOf(vue.error.value).toEqualTypeOf<StreamError | null>()
expectTypeOf(vue.transport.value).toEqualTypeOf<TransportName | null>()
useVueStream(() => (Math.random() > 0.5 ? '/a' : null))
useVueStream('/events', () => ({ retry: false }))
// @ts-expect-error a number is no URL
useVueStream(42)
