// @vitest-environment happy-dom
import { createElement, StrictMode, type ReactNode } from 'react'
import { createRoot, hydrateRoot, type Root } from 'react-dom/client'
import { flushSync } from 'react-dom'
import { renderToString } from 'react-dom/server'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { useEventStream, type UseEventStreamOptions, type UseEventStreamResult } from '../../../src/react/index'
import { startLoopbackHub, until, type LoopbackHub } from './loopback-hub'

let loopback: LoopbackHub
const roots: Root[] = []

beforeAll(async () => {
  loopback = await startLoopbackHub()
})
afterEach(() => {
  for (const root of roots.splice(0)) root.unmount()
  loopback.requests.length = 0
  loopback.tokens.length = 0
})
afterAll(async () => {
  await loopback.close()
})

/** Fast, deterministic core options for a loopback companion. */
const BASE: UseEventStreamOptions = { transports: ['fetch'], remember: false, env: { random: () => 0 } }

interface Probe<T> {
  renders: number
  result: UseEventStreamResult<T> | undefined
}

function mount<T>(element: (probe: Probe<T>) => ReactNode, strict = false): { probe: Probe<T>; render(): void; root: Root } {
  const container = document.createElement('div')
  document.body.append(container)
  const root = createRoot(container)
  roots.push(root)
  const probe: Probe<T> = { renders: 0, result: undefined }
  const render = (): void => root.render(strict ? createElement(StrictMode, null, element(probe)) : element(probe))
  render()
  return { probe, render, root }
}

function Stream<T>(props: { probe: Probe<T>; url: string | null; options?: UseEventStreamOptions<T> }): null {
  props.probe.renders += 1
  props.probe.result = useEventStream<T>(props.url, props.options)
  return null
}

const streamRequests = (): number => loopback.requests.filter((request) => request.endsWith(':stream')).length

describe('useEventStream (React, happy-dom, loopback companion)', () => {
  test('opens on mount, delivers events in order, closes on unmount', async () => {
    const { probe, root } = mount<MessageEvent<string>>((probe) => createElement(Stream<MessageEvent<string>>, { probe, url: loopback.url, options: BASE }))
    await until(() => probe.renders > 0, 'first render')
    expect(probe.result?.status).toBe('connecting')
    await until(() => probe.result?.status === 'open', 'open')
    expect(probe.result?.transport).toBe('fetch')
    expect(loopback.streams()).toBe(1)
    await loopback.hub.publish({ data: 'one' })
    await until(() => probe.result?.lastEvent?.data === 'one', 'first event')
    await loopback.hub.publish({ data: 'two' })
    await until(() => probe.result?.lastEvent?.data === 'two', 'second event')
    expect(probe.result?.stats().events).toBe(2)
    expect(probe.result?.error).toBeNull()
    root.unmount()
    await until(() => loopback.streams() === 0, 'stream closed on unmount')
    expect(streamRequests()).toBe(1)
  })

  test('StrictMode double mount leaves exactly one connection', async () => {
    const { probe } = mount<MessageEvent<string>>(
      (probe) => createElement(Stream<MessageEvent<string>>, { probe, url: loopback.url, options: BASE }),
      true,
    )
    await until(() => probe.result?.status === 'open', 'open')
    await loopback.hub.publish({ data: 'strict' })
    await until(() => probe.result?.lastEvent?.data === 'strict', 'event')
    expect(loopback.streams()).toBe(1)
    expect(streamRequests()).toBe(1)
  })

  test('a URL change reconnects once; a new options object with equal values and new callbacks does not', async () => {
    let url = `${loopback.url}?room=a`
    let seen: string[] = []
    const { probe, render } = mount<string>((probe) =>
      createElement(Stream<string>, {
        probe,
        url,
        // A new object, array and callbacks on every render: none of them may reconnect.
        options: { ...BASE, transports: ['fetch'], headers: { 'x-room': 'a' }, select: (event) => event.data, onEvent: (event) => seen.push(event.data) },
      }),
    )
    await until(() => probe.result?.status === 'open', 'open')
    render()
    render()
    await loopback.hub.publish({ data: 'same' })
    await until(() => probe.result?.lastEvent === 'same', 'event after re-renders')
    expect(seen).toEqual(['same'])
    expect(streamRequests()).toBe(1)
    expect(probe.renders).toBeGreaterThanOrEqual(3)

    url = `${loopback.url}?room=b`
    seen = []
    render()
    await until(() => loopback.requests.some((request) => request === '/events:stream') && streamRequests() === 2 && probe.result?.status === 'open', 'reconnect to the new URL')
    expect(probe.result?.lastEvent).toBeUndefined()
    await until(() => loopback.streams() === 1, 'the old stream closed')
    await loopback.hub.publish({ data: 'after' })
    await until(() => probe.result?.lastEvent === 'after', 'event on the new URL')
    expect(seen).toEqual(['after'])
    expect(streamRequests()).toBe(2)
  })

  test('a changed wire option value reconnects', async () => {
    let ping = 5
    const { probe, render } = mount<MessageEvent<string>>((probe) => createElement(Stream<MessageEvent<string>>, { probe, url: loopback.url, options: { ...BASE, ping } }))
    await until(() => probe.result?.status === 'open', 'open')
    ping = 6
    render()
    await until(() => streamRequests() === 2 && probe.result?.status === 'open', 'reconnect with the new ping')
    await until(() => loopback.streams() === 1, 'one stream')
  })

  test('select: false and onEvent deliver named events without re-rendering', async () => {
    const got: string[] = []
    const { probe } = mount<never>((probe) =>
      createElement(Stream<never>, { probe, url: loopback.url, options: { ...BASE, events: ['price', 'trade'], select: false, onEvent: (event) => got.push(`${event.type}:${event.data}`) } }),
    )
    await until(() => probe.result?.status === 'open', 'open')
    const renders = probe.renders
    await loopback.hub.publish({ event: 'price', data: '1' })
    await loopback.hub.publish({ data: 'not listened' })
    await loopback.hub.publish({ event: 'trade', data: '2' })
    await until(() => got.length === 2, 'two named events')
    expect(got).toEqual(['price:1', 'trade:2'])
    expect(probe.renders).toBe(renders)
    expect(probe.result?.lastEvent).toBeUndefined()
  })

  test('a select that returns an equal value does not re-render; a reducer sees the previous value', async () => {
    const { probe } = mount<number>((probe) =>
      createElement(Stream<number>, { probe, url: loopback.url, options: { ...BASE, select: (event, count = 0) => (event.data === 'count' ? count + 1 : count) } }),
    )
    await until(() => probe.result?.status === 'open', 'open')
    await loopback.hub.publish({ data: 'count' })
    await until(() => probe.result?.lastEvent === 1, 'first count')
    const renders = probe.renders
    await loopback.hub.publish({ data: 'ignored' })
    await loopback.hub.publish({ data: 'count' })
    await until(() => probe.result?.lastEvent === 2, 'second count')
    expect(probe.renders).toBe(renders + 1)
  })

  test('close() closes the stream and reconnect() re-opens it, resuming after the last event', async () => {
    const { probe } = mount<MessageEvent<string>>((probe) => createElement(Stream<MessageEvent<string>>, { probe, url: loopback.url, options: BASE }))
    await until(() => probe.result?.status === 'open', 'open')
    await loopback.hub.publish({ data: 'before' })
    await until(() => probe.result?.lastEvent?.data === 'before', 'event')
    const close = probe.result?.close
    probe.result?.close()
    await until(() => probe.result?.status === 'closed' && loopback.streams() === 0, 'closed')
    expect(probe.result?.close).toBe(close)
    await loopback.hub.publish({ data: 'while closed' })
    probe.result?.reconnect()
    await until(() => probe.result?.lastEvent?.data === 'while closed', 'replayed after reconnect')
    expect(probe.result?.status).toBe('open')
    expect(streamRequests()).toBe(2)
  })

  test('reconnect() after close() keeps the selected state: a reducer goes on counting', async () => {
    const { probe } = mount<string[]>((probe) =>
      createElement(Stream<string[]>, { probe, url: loopback.url, options: { ...BASE, select: (event, list = []) => [...list, event.data] } }),
    )
    await until(() => probe.result?.status === 'open', 'open')
    await loopback.hub.publish({ data: 'a' })
    await until(() => probe.result?.lastEvent?.length === 1, 'first')
    probe.result?.close()
    await until(() => loopback.streams() === 0, 'closed')
    await loopback.hub.publish({ data: 'b' })
    probe.result?.reconnect()
    await until(() => probe.result?.lastEvent?.length === 2, 'replayed into the same list')
    expect(probe.result?.lastEvent).toEqual(['a', 'b'])
  })

  test('a new headers function is used by the next connect without reconnecting', async () => {
    let token = 'one'
    const { probe, render } = mount<MessageEvent<string>>((probe) =>
      createElement(Stream<MessageEvent<string>>, { probe, url: loopback.url, options: { ...BASE, headers: () => ({ 'x-token': token }) } }),
    )
    await until(() => probe.result?.status === 'open', 'open')
    token = 'two'
    render()
    await loopback.hub.publish({ data: 'still the first connection' })
    await until(() => probe.result?.lastEvent?.data === 'still the first connection', 'event')
    expect(loopback.tokens).toEqual(['one'])
    probe.result?.reconnect()
    await until(() => loopback.tokens.length === 2, 'second request')
    expect(loopback.tokens).toEqual(['one', 'two'])
    expect(streamRequests()).toBe(2)
  })

  test('a changed events list re-binds listeners without reconnecting', async () => {
    let events = ['a']
    const got: string[] = []
    const { probe, render } = mount<never>((probe) =>
      createElement(Stream<never>, { probe, url: loopback.url, options: { ...BASE, events, select: false, onEvent: (event) => got.push(event.type) } }),
    )
    await until(() => probe.result?.status === 'open', 'open')
    events = ['b']
    // A sync render flushes its effects before returning: the listeners are re-bound now.
    flushSync(render)
    await loopback.hub.publish({ event: 'a', data: 'x' })
    await loopback.hub.publish({ event: 'b', data: 'y' })
    await until(() => got.length === 1, 'the b event')
    expect(got).toEqual(['b'])
    expect(streamRequests()).toBe(1)
  })

  test('hydrating server HTML matches and then connects once', async () => {
    const View = (props: { url: string }): ReactNode => createElement('p', null, useEventStream(props.url, BASE).status)
    const element = createElement(View, { url: loopback.url })
    const html = renderToString(element)
    expect(html).toBe('<p>connecting</p>')
    expect(streamRequests()).toBe(0)
    const container = document.createElement('div')
    container.innerHTML = html
    document.body.append(container)
    const errors: unknown[] = []
    const root = hydrateRoot(container, element, { onRecoverableError: (error) => errors.push(error) })
    roots.push(root)
    await until(() => container.textContent === 'open', 'open after hydration')
    expect(errors).toEqual([])
    expect(streamRequests()).toBe(1)
  })

  test('url null opens nothing and reports closed', async () => {
    let url: string | null = null
    const { probe, render } = mount<MessageEvent<string>>((probe) => createElement(Stream<MessageEvent<string>>, { probe, url, options: BASE }))
    await until(() => probe.renders > 0, 'first render')
    expect(probe.result?.status).toBe('closed')
    url = loopback.url
    render()
    await until(() => probe.result?.status === 'open', 'open once a URL is given')
    expect(streamRequests()).toBe(1)
  })

  test('server rendering connects nothing and throws nothing', async () => {
    const probe: Probe<MessageEvent<string>> = { renders: 0, result: undefined }
    const html = renderToString(createElement(Stream<MessageEvent<string>>, { probe, url: loopback.url, options: BASE }))
    expect(html).toBe('')
    expect(probe.result?.status).toBe('connecting')
    expect(probe.result?.lastEvent).toBeUndefined()
    // A page with a live stream proves the hub would have seen a request by now.
    const { probe: live } = mount<MessageEvent<string>>((probe) => createElement(Stream<MessageEvent<string>>, { probe, url: `${loopback.url}?live`, options: BASE }))
    await until(() => live.result?.status === 'open', 'the live stream opens')
    expect(streamRequests()).toBe(1)
  })
})
