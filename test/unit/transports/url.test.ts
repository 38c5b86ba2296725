import { afterEach, describe, expect, test } from 'vitest'
import type { ConnectRequest } from '../../../src/transports/types'
import { buildRequestUrl } from '../../../src/transports/url'
import { connectRequest } from '../../contract/support'

const request = (overrides: Partial<ConnectRequest> = {}): ConnectRequest =>
  connectRequest({ url: 'https://api.example/events', ...overrides })

const globals = globalThis as { location?: unknown }

afterEach(() => {
  delete globals.location
})

describe('buildRequestUrl', () => {
  test('adds mode only when nothing else is known', () => {
    expect(buildRequestUrl(request(), 'stream')).toBe('https://api.example/events?mode=stream')
  })

  test('adds the cursor, ping and wait in a fixed order', () => {
    const url = buildRequestUrl(request({ lastEventId: '17-0', ping: 15, wait: 25 }), 'close')
    expect(url).toBe('https://api.example/events?mode=close&lastEventId=17-0&ping=15&wait=25')
  })

  test('sends the start token only while there is no cursor', () => {
    expect(buildRequestUrl(request({ startToken: 'tok' }), 'poll')).toBe(
      'https://api.example/events?mode=poll&start=tok',
    )
    expect(buildRequestUrl(request({ startToken: 'tok', lastEventId: '1-0' }), 'poll')).toBe(
      'https://api.example/events?mode=poll&lastEventId=1-0',
    )
  })

  test("keeps the app's query byte for byte and its fragment", () => {
    const url = buildRequestUrl(
      request({ url: 'https://api.example/events?topic=a%20b&x=1+2&flag#frag', lastEventId: 'a b' }),
      'stream',
    )
    expect(url).toBe(
      'https://api.example/events?topic=a%20b&x=1+2&flag&mode=stream&lastEventId=a%20b#frag',
    )
  })

  test('replaces protocol parameters the URL already carries instead of doubling them', () => {
    const url = buildRequestUrl(
      request({ url: '/events?mode=poll&lastEventId=old&topic=t&wait=3', lastEventId: 'new' }),
      'stream',
    )
    expect(url).toBe('/events?topic=t&mode=stream&lastEventId=new')
  })

  test('extra parameters override the request and undefined removes one', () => {
    const url = buildRequestUrl(request({ wait: 25, ping: 10 }), 'poll', { wait: 0, ping: undefined })
    expect(url).toBe('https://api.example/events?mode=poll&wait=0')
  })

  test('encodes cursor values that need it', () => {
    const url = buildRequestUrl(request({ lastEventId: 'a&b=c/ü' }), 'stream')
    expect(new URL(url).searchParams.get('lastEventId')).toBe('a&b=c/ü')
  })

  test('leaves the URL alone when protocolQuery is false', () => {
    const url = 'https://api.example/events?topic=a'
    expect(buildRequestUrl(request({ url, protocolQuery: false, lastEventId: '1' }), 'poll')).toBe(url)
  })

  test('never puts headers into the URL', () => {
    const url = buildRequestUrl(
      request({ headers: { Authorization: 'Bearer secret' }, hasCustomHeaders: true }),
      'stream',
    )
    expect(url).not.toContain('secret')
  })

  test('keeps a relative URL relative without a location (Node)', () => {
    expect(buildRequestUrl(request({ url: 'events?a=1' }), 'stream')).toBe('events?a=1&mode=stream')
    expect(buildRequestUrl(request({ url: '/events' }), 'stream')).toBe('/events?mode=stream')
  })

  test('resolves a relative URL against location.href in a page or worker', () => {
    globals.location = { href: 'https://app.example/dash/page?q=1' }
    expect(buildRequestUrl(request({ url: 'events' }), 'stream')).toBe(
      'https://app.example/dash/events?mode=stream',
    )
    expect(buildRequestUrl(request({ url: '//cdn.example/e' }), 'poll')).toBe(
      'https://cdn.example/e?mode=poll',
    )
  })

  test('does not resolve an absolute URL against location', () => {
    globals.location = { href: 'https://app.example/' }
    expect(buildRequestUrl(request({ url: 'http://other.example:8080/e' }), 'stream')).toBe(
      'http://other.example:8080/e?mode=stream',
    )
  })
})
