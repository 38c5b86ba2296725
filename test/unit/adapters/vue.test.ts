// @vitest-environment happy-dom
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest'
import { createApp, createSSRApp, defineComponent, effectScope, h, nextTick, ref, type App } from 'vue'
import { renderToString } from 'vue/server-renderer'
import { useEventStream, type UseEventStreamOptions, type UseEventStreamReturn } from '../../../src/vue/index'
import { startLoopbackHub, until, type LoopbackHub } from './loopback-hub'

let loopback: LoopbackHub
const apps: App[] = []

beforeAll(async () => {
  loopback = await startLoopbackHub()
})
afterEach(() => {
  for (const app of apps.splice(0)) app.unmount()
  loopback.requests.length = 0
})
afterAll(async () => {
  await loopback.close()
})

const BASE: UseEventStreamOptions = { transports: ['fetch'], remember: false, env: { random: () => 0 } }
const streamRequests = (): number => loopback.requests.filter((request) => request.endsWith(':stream')).length

/** Mounts a component that calls the composable in setup and renders `lastEvent.data`. */
function mount(setup: () => UseEventStreamReturn<MessageEvent<string>>): { stream: () => UseEventStreamReturn<MessageEvent<string>>; container: HTMLElement; app: App } {
  let stream: UseEventStreamReturn<MessageEvent<string>> | undefined
  const component = defineComponent({
    setup() {
      stream = setup()
      return () => h('p', stream?.lastEvent.value?.data ?? '')
    },
  })
  const container = document.createElement('div')
  document.body.append(container)
  const app = createApp(component)
  apps.push(app)
  app.mount(container)
  return { stream: () => stream as UseEventStreamReturn<MessageEvent<string>>, container, app }
}

describe('useEventStream (Vue, happy-dom, loopback companion)', () => {
  test('opens on mount, delivers events into refs and the DOM, closes on unmount', async () => {
    const { stream, container, app } = mount(() => useEventStream(loopback.url, BASE))
    expect(stream().status.value).toBe('connecting')
    await until(() => stream().status.value === 'open', 'open')
    expect(stream().transport.value).toBe('fetch')
    await loopback.hub.publish({ data: 'one' })
    await loopback.hub.publish({ data: 'two' })
    await until(() => stream().lastEvent.value?.data === 'two', 'two events')
    await nextTick()
    expect(container.textContent).toBe('two')
    expect(stream().stats().events).toBe(2)
    expect(loopback.streams()).toBe(1)
    app.unmount()
    apps.length = 0
    await until(() => loopback.streams() === 0, 'closed on unmount')
    expect(streamRequests()).toBe(1)
  })

  test('a ref URL change reconnects once; a new options object with equal values does not', async () => {
    const url = ref(`${loopback.url}?room=a`)
    const options = ref<UseEventStreamOptions>({ ...BASE, headers: { 'x-room': 'a' } })
    const { stream } = mount(() => useEventStream(url, options))
    await until(() => stream().status.value === 'open', 'open')
    options.value = { ...BASE, transports: ['fetch'], headers: { 'x-room': 'a' } }
    await nextTick()
    await loopback.hub.publish({ data: 'same' })
    await until(() => stream().lastEvent.value?.data === 'same', 'event after a new options object')
    expect(streamRequests()).toBe(1)

    url.value = `${loopback.url}?room=b`
    await until(() => streamRequests() === 2 && stream().status.value === 'open', 'reconnect to the new URL')
    expect(stream().lastEvent.value).toBeUndefined()
    await until(() => loopback.streams() === 1, 'the old stream closed')
    await loopback.hub.publish({ data: 'after' })
    await until(() => stream().lastEvent.value?.data === 'after', 'event on the new URL')
    expect(streamRequests()).toBe(2)
  })

  test('a getter URL and named events with onEvent', async () => {
    const room = ref('a')
    const got: string[] = []
    const { stream } = mount(() =>
      useEventStream(() => `${loopback.url}?room=${room.value}`, { ...BASE, events: ['price'], onEvent: (event) => got.push(event.data) }),
    )
    await until(() => stream().status.value === 'open', 'open')
    await loopback.hub.publish({ data: 'not listened' })
    await loopback.hub.publish({ event: 'price', data: '1' })
    await until(() => got.length === 1, 'named event')
    expect(got).toEqual(['1'])
    expect(stream().lastEvent.value?.type).toBe('price')
    room.value = 'b'
    await until(() => streamRequests() === 2 && stream().status.value === 'open', 'reconnect on getter change')
  })

  test('a changed events list re-binds listeners without reconnecting', async () => {
    const got: string[] = []
    const options = ref<UseEventStreamOptions>({ ...BASE, events: ['a'], select: false, onEvent: (event) => got.push(event.type) })
    const { stream } = mount(() => useEventStream(loopback.url, options))
    await until(() => stream().status.value === 'open', 'open')
    options.value = { ...options.value, events: ['b'] }
    await nextTick()
    await loopback.hub.publish({ event: 'a', data: 'x' })
    await loopback.hub.publish({ event: 'b', data: 'y' })
    await until(() => got.length === 1, 'the b event')
    expect(got).toEqual(['b'])
    expect(stream().lastEvent.value).toBeUndefined()
    expect(streamRequests()).toBe(1)
  })

  test('outside a component: connects at once, closes when the scope is disposed', async () => {
    const scope = effectScope()
    const stream = scope.run(() => useEventStream(loopback.url, BASE))
    await until(() => stream?.status.value === 'open', 'open')
    expect(loopback.streams()).toBe(1)
    scope.stop()
    await until(() => loopback.streams() === 0, 'closed on dispose')
  })

  test('outside a component on a server (no document): nothing connects', async () => {
    vi.stubGlobal('document', undefined)
    const scope = effectScope()
    let stream: UseEventStreamReturn<MessageEvent<string>> | undefined
    try {
      stream = scope.run(() => useEventStream(loopback.url, BASE))
    } finally {
      vi.unstubAllGlobals()
    }
    expect(stream?.status.value).toBe('connecting')
    // A stream opened afterwards is the first request the hub sees.
    const live = effectScope()
    const other = live.run(() => useEventStream(`${loopback.url}?live`, BASE))
    await until(() => other?.status.value === 'open', 'the live stream opens')
    expect(streamRequests()).toBe(1)
    live.stop()
    scope.stop()
  })

  test('close() then reconnect() resumes after the last event', async () => {
    const { stream } = mount(() => useEventStream(loopback.url, BASE))
    await until(() => stream().status.value === 'open', 'open')
    await loopback.hub.publish({ data: 'before' })
    await until(() => stream().lastEvent.value?.data === 'before', 'event')
    stream().close()
    expect(stream().status.value).toBe('closed')
    await until(() => loopback.streams() === 0, 'closed')
    await loopback.hub.publish({ data: 'while closed' })
    stream().reconnect()
    // The old value stays until the replay replaces it.
    expect(stream().lastEvent.value?.data).toBe('before')
    await until(() => stream().lastEvent.value?.data === 'while closed', 'replayed')
    expect(streamRequests()).toBe(2)
  })

  test('server rendering (createSSRApp + renderToString) connects nothing', async () => {
    let status = ''
    const app = createSSRApp(
      defineComponent({
        setup() {
          const stream = useEventStream(loopback.url, BASE)
          status = stream.status.value
          return () => h('p', stream.status.value)
        },
      }),
    )
    const html = await renderToString(app)
    expect(html).toBe('<p>connecting</p>')
    expect(status).toBe('connecting')
    const { stream } = mount(() => useEventStream(`${loopback.url}?live`, BASE))
    await until(() => stream().status.value === 'open', 'the live stream opens')
    expect(streamRequests()).toBe(1)
  })
})
