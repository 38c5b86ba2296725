// @vitest-environment happy-dom
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { ResilientEventSource } from '../../../src/client'
import { until } from './helpers'

const encoder = new TextEncoder()
const origin = 'http://app.test'
const server = setupServer(
  http.get(`${origin}/events`, ({ request }) => {
    const url = new URL(request.url)
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(`event: _canary\ndata: {"v":1,"mode":"stream","t":${Date.now()},"ping":15,"head":"0-0","oldest":null,"ordered":true}\n\n`))
        controller.enqueue(encoder.encode(`id: ${Date.now()}-0\ndata: ${url.searchParams.get('mode')}\n\n`))
      },
    })
    return new HttpResponse(body, { headers: { 'Content-Type': 'text/event-stream' } })
  }),
)

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  server.resetHandlers()
  localStorage.clear()
})
afterAll(() => server.close())

describe('in a page (happy-dom + msw)', () => {
  test('resolves a relative URL against the page and streams through the global fetch read at call time', async () => {
    expect(location.href.startsWith('http')).toBe(true)
    const es = new ResilientEventSource(`${origin}/events`, { transports: ['fetch'] })
    const got: string[] = []
    es.onmessage = (event) => got.push(event.data)
    await until(() => got.length === 1, 'event through msw')
    expect(got).toEqual(['stream'])
    expect(es.readyState).toBe(1)
    expect(es.stats().latency).not.toBeNull()
    es.close()
  })

  test('window offline/online events pause and resume reconnecting', async () => {
    let requests = 0
    server.use(
      http.get(`${origin}/events`, () => {
        requests += 1
        return new HttpResponse(null, { status: 500 })
      }),
    )
    const es = new ResilientEventSource(`${origin}/events`, { transports: ['fetch'], env: { random: () => 1 } })
    await until(() => requests === 1, 'first request')
    window.dispatchEvent(new Event('offline'))
    await new Promise((resolve) => setTimeout(resolve, 1200))
    expect(requests).toBe(1)
    window.dispatchEvent(new Event('online'))
    await until(() => requests === 2, 'reconnect on online', 500)
    es.close()
  })

  test('a verdict is remembered in localStorage per origin + path', async () => {
    localStorage.setItem(
      'resilient-sse:v1:http://app.test/events',
      JSON.stringify({ transport: 'long-poll', until: Date.now() + 60_000 }),
    )
    let polls = 0
    server.use(
      http.get(`${origin}/events`, () => {
        polls += 1
        return HttpResponse.json({ events: [{ id: '5-0', event: 'message', data: 'polled' }], lastEventId: '5-0', gap: null, more: false })
      }),
    )
    const es = new ResilientEventSource(`${origin}/events?x=1`, { wait: 0 })
    const changes: string[] = []
    es.addEventListener('transportchange', (e) => changes.push(`${e.previous}>${e.transport}:${e.reason}`))
    const got: string[] = []
    es.onmessage = (event) => got.push(event.data)
    await until(() => got.length === 1, 'polled event')
    expect(changes).toEqual(['null>long-poll:remembered'])
    // This server answers at once and repeats itself: no hot loop, no duplicate delivery.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(polls).toBeLessThanOrEqual(12)
    expect(got).toEqual(['polled'])
    expect(es.stats().duplicates).toBe(polls - 1)
    es.close()
  })
})
