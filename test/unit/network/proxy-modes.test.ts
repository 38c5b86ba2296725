import { afterEach, describe, expect, test } from 'vitest'
import {
  arrivalOf,
  bytesBefore,
  createNetworkProxy,
  numberedEvents,
  sseHandler,
  startUpstream,
  timedRequest,
  type NetworkProxy,
  type UpstreamServer,
} from '../../support/proxies'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
})

async function setup(
  handler: Parameters<typeof startUpstream>[0],
  init: Omit<Parameters<typeof createNetworkProxy>[0], 'target'> = {},
): Promise<{ upstream: UpstreamServer; proxy: NetworkProxy }> {
  const upstream = await startUpstream(handler)
  const proxy = await createNetworkProxy({ target: upstream.url, ...init })
  cleanups.push(() => proxy.close(), () => upstream.close())
  return { upstream, proxy }
}

const INTERVAL_MS = 40

describe('direct', () => {
  test('passes each event through as soon as it is written', async () => {
    const events = numberedEvents(4)
    // Wide gaps between writes: "not held" must survive a loaded CI machine's scheduling jitter.
    const { upstream, proxy } = await setup(sseHandler({ events, intervalMs: 250 }))
    const response = await timedRequest(`${proxy.url}/stream`)
    const log = upstream.requests[0]!

    expect(response.status).toBe(200)
    expect(response.headers['content-type']).toBe('text/event-stream')
    expect(response.text).toBe(events.join(''))
    events.forEach((event, index) => {
      const arrived = arrivalOf(response, event)!
      expect(arrived).toBeGreaterThanOrEqual(log.writes[index]!)
      // Arrives before the upstream writes the next event: nothing is held.
      expect(arrived).toBeLessThan(log.writes[index + 1] ?? log.endedAt!)
    })
  })
})

describe('hold-until-close', () => {
  test('sends headers at once but no body byte before the upstream ends', async () => {
    const events = numberedEvents(4)
    const { upstream, proxy } = await setup(sseHandler({ events, intervalMs: INTERVAL_MS }), {
      mode: 'hold-until-close',
    })
    const response = await timedRequest(`${proxy.url}/stream`)
    const log = upstream.requests[0]!

    expect(response.status).toBe(200)
    expect(response.headersAt!).toBeLessThan(log.writes[1]!)
    expect(bytesBefore(response, log.endedAt!)).toBe(0)
    expect(response.text).toBe(events.join(''))
    expect(response.endedAt).toBeDefined()
  })

  test('holds the headers too with headers: held', async () => {
    const events = numberedEvents(3)
    const { upstream, proxy } = await setup(sseHandler({ events, intervalMs: INTERVAL_MS }), {
      mode: 'hold-until-close',
      options: { headers: 'held' },
    })
    const response = await timedRequest(`${proxy.url}/stream`)
    const log = upstream.requests[0]!

    expect(response.headersAt!).toBeGreaterThanOrEqual(log.endedAt!)
    expect(response.text).toBe(events.join(''))
  })
})

describe('hold-until-bytes', () => {
  const block = 'x'.repeat(999) + '\n'

  test.each([
    [undefined, 5],
    [1500, 2],
  ])('releases blocks of at least %s bytes (every %i writes of 1000 bytes)', async (bytes, writesPerBlock) => {
    const writes = 10
    const { upstream, proxy } = await setup(
      sseHandler({ events: Array.from({ length: writes }, () => block), intervalMs: INTERVAL_MS }),
      { mode: 'hold-until-bytes', options: bytes === undefined ? {} : { bytes } },
    )
    const response = await timedRequest(`${proxy.url}/stream`)
    const log = upstream.requests[0]!

    expect(response.text).toBe(block.repeat(writes))
    for (let index = 0; index < writes; index++) {
      // Just before write index+1 the client holds exactly the completed blocks.
      const before = log.writes[index + 1] ?? log.endedAt!
      const expectedBlocks = Math.floor((index + 1) / writesPerBlock)
      expect(bytesBefore(response, before), `before write ${index + 2}`).toBe(expectedBlocks * writesPerBlock * 1000)
    }
  })
})

describe('hold-each-event', () => {
  test('lags exactly one event behind the upstream', async () => {
    const events = numberedEvents(4)
    const { upstream, proxy } = await setup(sseHandler({ events, intervalMs: INTERVAL_MS }), {
      mode: 'hold-each-event',
    })
    const response = await timedRequest(`${proxy.url}/stream`)
    const log = upstream.requests[0]!

    expect(response.text).toBe(events.join(''))
    for (let index = 0; index < events.length; index++) {
      const arrived = arrivalOf(response, events[index]!)!
      const releasedBy = log.writes[index + 1] ?? log.endedAt!
      const nextWrite = log.writes[index + 2] ?? log.endedAt!
      expect(arrived, `event ${index + 1}`).toBeGreaterThanOrEqual(releasedBy)
      if (index + 2 <= events.length) expect(arrived, `event ${index + 1}`).toBeLessThan(nextWrite)
    }
  })

  test('an event written in pieces counts once it is complete', async () => {
    const pieces = ['data: a\n', '\n', 'data: ', 'b\n\n', 'data: c\n\n']
    const { upstream, proxy } = await setup(sseHandler({ events: pieces, intervalMs: INTERVAL_MS }), {
      mode: 'hold-each-event',
    })
    const response = await timedRequest(`${proxy.url}/stream`)
    const log = upstream.requests[0]!

    // "a" is complete at write 2 and released when "b" completes (write 4).
    expect(arrivalOf(response, 'data: a')!).toBeGreaterThanOrEqual(log.writes[3]!)
    expect(arrivalOf(response, 'data: a')!).toBeLessThan(log.writes[4]!)
    expect(arrivalOf(response, 'data: b')!).toBeGreaterThanOrEqual(log.writes[4]!)
    expect(response.text).toBe(pieces.join(''))
  })
})

describe('headers-only', () => {
  test('sends headers at once, never a body byte, and ends with the upstream', async () => {
    const events = numberedEvents(3)
    const { upstream, proxy } = await setup(sseHandler({ events, intervalMs: INTERVAL_MS }), {
      mode: 'headers-only',
    })
    const response = await timedRequest(`${proxy.url}/stream`)
    const log = upstream.requests[0]!

    expect(response.status).toBe(200)
    expect(response.headersAt!).toBeLessThan(log.writes[1]!)
    expect(response.chunks).toEqual([])
    expect(response.error).toBeUndefined()
    expect(response.endedAt!).toBeGreaterThanOrEqual(log.endedAt!)
  })

  test('drops a Content-Length it would otherwise violate', async () => {
    const { proxy } = await setup(
      (_req, res, log) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' })
        log.end('{"ok":true}')
      },
      { mode: 'headers-only' },
    )
    const response = await timedRequest(`${proxy.url}/poll`)
    expect(response.status).toBe(200)
    expect(response.headers['content-length']).toBeUndefined()
    expect(response.text).toBe('')
    expect(response.endedAt).toBeDefined()
  })
})

describe('cut-after', () => {
  const endless = sseHandler({ events: numberedEvents(1000), intervalMs: 10, end: false })

  test('destroys the client connection after afterMs and tells the upstream', async () => {
    const { upstream, proxy } = await setup(endless, { mode: 'cut-after', options: { afterMs: 80 } })
    const response = await timedRequest(`${proxy.url}/stream`)

    expect(response.status).toBe(200)
    expect(response.error).toBeDefined()
    const lifetime = response.failedAt! - response.startedAt
    expect(lifetime).toBeGreaterThanOrEqual(75)
    expect(lifetime).toBeLessThan(80 + 400)
    expect(response.text).toContain('data: event 1\n\n')
    await expect(upstream.requests[0]!.closed).resolves.toBe('client-closed')
    expect(proxy.stats().byMode['cut-after'].proxyDestroys).toBe(1)
  })

  test('draws seeded delays within minMs–maxMs, identically for the same seed', async () => {
    const run = async (seed: number): Promise<number[]> => {
      const { proxy } = await setup(endless, { mode: 'cut-after', options: { minMs: 40, maxMs: 160, seed } })
      for (let index = 0; index < 4; index++) {
        const response = await timedRequest(`${proxy.url}/stream`)
        expect(response.error).toBeDefined()
        const lifetime = response.failedAt! - response.startedAt
        const drawn = proxy.stats().cutDelaysMs[index]!
        expect(drawn).toBeGreaterThanOrEqual(40)
        expect(drawn).toBeLessThanOrEqual(160)
        expect(lifetime).toBeGreaterThanOrEqual(drawn - 5)
        expect(lifetime).toBeLessThan(drawn + 400)
      }
      return proxy.stats().cutDelaysMs
    }
    const first = await run(11)
    expect(await run(11)).toEqual(first)
    expect(new Set(first).size).toBeGreaterThan(1)
    expect(await run(12)).not.toEqual(first)
  })

  test('a response that finishes first is not cut', async () => {
    const { proxy } = await setup(sseHandler({ events: numberedEvents(2), intervalMs: 5 }), {
      mode: 'cut-after',
      options: { afterMs: 300 },
    })
    const response = await timedRequest(`${proxy.url}/stream`)
    expect(response.error).toBeUndefined()
    expect(response.text).toBe(numberedEvents(2).join(''))
    expect(proxy.stats().byMode['cut-after'].proxyDestroys).toBe(0)
  })
})

describe('reset-event-stream', () => {
  test('resets event streams right after their headers but lets JSON pass', async () => {
    const { upstream, proxy } = await setup(
      (req, res, log) => {
        if (req.url?.startsWith('/poll')) {
          res.writeHead(200, { 'content-type': 'application/json' })
          log.end('{"events":[]}')
          return
        }
        sseHandler({ events: numberedEvents(100), intervalMs: 10, end: false })(req, res, log)
      },
      { mode: 'reset-event-stream' },
    )

    const stream = await timedRequest(`${proxy.url}/stream`)
    // Headers first, then a TCP reset: what a client behind an event-stream-killing proxy sees.
    expect(stream.status).toBe(200)
    expect((stream.error as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNRESET')
    expect(stream.text).toBe('')
    expect(stream.failedAt! - stream.startedAt).toBeLessThan(500)
    await expect(upstream.requests[0]!.closed).resolves.toBe('client-closed')

    const poll = await timedRequest(`${proxy.url}/poll?mode=poll`)
    expect(poll.error).toBeUndefined()
    expect(poll.status).toBe(200)
    expect(poll.text).toBe('{"events":[]}')
    expect(proxy.stats().byMode['reset-event-stream'].proxyDestroys).toBe(1)
  })
})

describe('status-burst', () => {
  test('answers 503 with Retry-After without contacting the upstream, then passes', async () => {
    const { upstream, proxy } = await setup(
      (_req, res, log) => {
        res.writeHead(200, { 'content-type': 'text/plain' })
        log.end('ok')
      },
      { mode: 'status-burst', options: { burst: 2, retryAfter: 3 } },
    )
    const first = await timedRequest(`${proxy.url}/a`)
    const second = await timedRequest(`${proxy.url}/b`)
    const third = await timedRequest(`${proxy.url}/c`)

    expect([first.status, second.status, third.status]).toEqual([503, 503, 200])
    expect(first.headers['retry-after']).toBe('3')
    expect(second.headers['retry-after']).toBe('3')
    expect(third.text).toBe('ok')
    expect(upstream.requests.map((request) => request.url)).toEqual(['/c'])
    expect(proxy.stats().byMode['status-burst'].rejected).toBe(2)
  })

  test('rejects a seeded fraction, reproducibly', async () => {
    const { upstream, proxy } = await setup((_req, res, log) => log.end('ok'), {
      mode: 'status-burst',
      options: { fraction: 0.5, seed: 5, status: 429 },
    })
    const run = async (): Promise<number[]> => {
      const statuses: number[] = []
      for (let index = 0; index < 20; index++) statuses.push((await timedRequest(`${proxy.url}/x`)).status)
      return statuses
    }
    const first = await run()
    proxy.setMode('status-burst', { fraction: 0.5, seed: 5, status: 429 })
    const second = await run()

    expect(first).toEqual(second)
    const rejected = first.filter((status) => status === 429).length
    expect(rejected).toBeGreaterThan(3)
    expect(rejected).toBeLessThan(17)
    expect(first.filter((status) => status === 200).length).toBe(20 - rejected)
    expect(upstream.requests.length).toBe(2 * (20 - rejected))
  })
})

describe('slow', () => {
  test('honours the bandwidth limit and the added latency', async () => {
    const body = 'y'.repeat(10_000)
    const { upstream, proxy } = await setup(
      (_req, res, log) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' })
        log.end(body)
      },
      { mode: 'slow', options: { bytesPerSecond: 50_000, latencyMs: 30 } },
    )
    const response = await timedRequest(`${proxy.url}/blob`)
    const log = upstream.requests[0]!

    expect(response.text).toBe(body)
    // 10 kB at 50 kB/s is 200 ms of transmission plus 30 ms of latency.
    const duration = response.endedAt! - log.endedAt!
    expect(duration).toBeGreaterThanOrEqual(180)
    expect(duration).toBeLessThan(1000)
    expect(response.chunks[0]!.at - log.endedAt!).toBeGreaterThanOrEqual(25)
    // 2500-byte slices (1/20 s of bandwidth each).
    expect(response.chunks.length).toBeGreaterThanOrEqual(4)
  })
})
