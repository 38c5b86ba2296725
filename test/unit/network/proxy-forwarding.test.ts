import http from 'node:http'
import { afterEach, describe, expect, test } from 'vitest'
import {
  NETWORK_MODES,
  createNetworkProxy,
  createRoundRobinProxy,
  numberedEvents,
  sseHandler,
  startUpstream,
  timedRequest,
  type NetworkMode,
} from '../../support/proxies'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
})

function track<T extends { close(): Promise<void> }>(resource: T): T {
  cleanups.push(() => resource.close())
  return resource
}

describe('forwarding', () => {
  test('forwards method, path, query, headers and body; drops hop-by-hop headers', async () => {
    const upstream = track(
      await startUpstream((_req, res, log) => {
        res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': 'yes', 'set-cookie': ['a=1', 'b=2'] })
        log.end('{"created":true}')
      }),
    )
    const proxy = track(await createNetworkProxy({ target: upstream.url }))
    const response = await timedRequest(`${proxy.url}/events?topic=a&lastEventId=5`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'last-event-id': '5', authorization: 'Bearer t', 'proxy-authorization': 'x' },
      body: 'hello',
    })
    const log = upstream.requests[0]!

    expect(log.method).toBe('POST')
    expect(log.url).toBe('/events?topic=a&lastEventId=5')
    expect(log.headers['last-event-id']).toBe('5')
    expect(log.headers.authorization).toBe('Bearer t')
    expect(log.headers['proxy-authorization']).toBeUndefined()
    expect(log.headers.host).toBe(`127.0.0.1:${upstream.port}`)
    await expect(log.body).resolves.toBe('hello')
    expect(response.status).toBe(201)
    expect(response.headers['x-upstream']).toBe('yes')
    expect(response.headers['set-cookie']).toEqual(['a=1', 'b=2'])
    expect(response.text).toBe('{"created":true}')
  })

  test('prefixes the base path of the target', async () => {
    const upstream = track(await startUpstream((_req, _res, log) => log.end('x')))
    const proxy = track(await createNetworkProxy({ target: `${upstream.url}/api/` }))
    await timedRequest(`${proxy.url}/sse?x=1`)
    expect(upstream.requests[0]!.url).toBe('/api/sse?x=1')
  })

  test('answers 502 when the upstream is unreachable', async () => {
    const upstream = await startUpstream((_req, _res, log) => log.end())
    const deadUrl = upstream.url
    await upstream.close()
    const proxy = track(await createNetworkProxy({ target: deadUrl }))
    const response = await timedRequest(`${proxy.url}/x`)
    expect(response.status).toBe(502)
  })

  test('rejects unknown modes and non-http targets', async () => {
    const upstream = track(await startUpstream((_req, _res, log) => log.end()))
    const proxy = track(await createNetworkProxy({ target: upstream.url }))
    expect(() => proxy.setMode('teleport' as NetworkMode)).toThrow(TypeError)
    expect(proxy.mode).toBe('direct')
    await expect(createNetworkProxy({ target: 'https://127.0.0.1:1' })).rejects.toThrow(TypeError)
  })
})

describe('client aborts', () => {
  test.each(['direct', 'hold-until-close', 'hold-each-event', 'slow'] satisfies NetworkMode[])(
    '%s: a client abort destroys the upstream request',
    async (mode) => {
      const upstream = track(
        await startUpstream(sseHandler({ events: numberedEvents(1000), intervalMs: 10, end: false })),
      )
      const proxy = track(await createNetworkProxy({ target: upstream.url, mode }))
      const controller = new AbortController()
      const pending = timedRequest(`${proxy.url}/stream`, { signal: controller.signal })
      const log = await upstream.request(0)
      // Abort once the upstream is certainly streaming, whatever the proxy shows the client.
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (log.writes.length >= 3) {
            clearInterval(check)
            resolve()
          }
        }, 5)
      })
      controller.abort()
      const response = await pending
      expect(response.error).toBeDefined()

      await expect(log.closed).resolves.toBe('client-closed')
      await expect.poll(() => proxy.stats().openRequests).toBe(0)
      const stats = proxy.stats()
      expect(stats.upstreamAborts).toBe(1)
      expect(stats.byMode[mode].clientAborts).toBe(1)
      expect(stats.byMode[mode].proxyDestroys).toBe(0)
    },
  )
})

describe('mode switching and stats', () => {
  test('a switch applies to the next request, also on a kept-alive connection', async () => {
    const upstream = track(await startUpstream(sseHandler({ events: numberedEvents(3), intervalMs: 20 })))
    const proxy = track(await createNetworkProxy({ target: upstream.url }))
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const get = () =>
      new Promise<{ chunks: number; firstChunkBeforeEnd: boolean }>((resolve, reject) => {
        http
          .get(`${proxy.url}/stream`, { agent }, (res) => {
            let chunks = 0
            let firstChunkBeforeEnd = false
            res.on('data', () => {
              chunks++
              if (chunks === 1) firstChunkBeforeEnd = upstream.requests.at(-1)!.endedAt === undefined
            })
            res.on('end', () => resolve({ chunks, firstChunkBeforeEnd }))
          })
          .on('error', reject)
      })

    const before = await get()
    proxy.setMode('hold-until-close')
    expect(proxy.mode).toBe('hold-until-close')
    const after = await get()
    agent.destroy()

    expect(before.firstChunkBeforeEnd).toBe(true)
    expect(after.firstChunkBeforeEnd).toBe(false)
    const stats = proxy.stats()
    expect(stats.totalConnections).toBe(1)
    expect(stats.byMode.direct.requests).toBe(1)
    expect(stats.byMode['hold-until-close'].requests).toBe(1)
    expect(stats.byMode.direct.connections).toBe(1)
    expect(stats.totalRequests).toBe(2)
  })

  test('counts open connections and requests per mode', async () => {
    const upstream = track(
      await startUpstream(sseHandler({ events: numberedEvents(1000), intervalMs: 10, end: false })),
    )
    const proxy = track(await createNetworkProxy({ target: upstream.url, mode: 'hold-until-close' }))
    const controllers = [new AbortController(), new AbortController()]
    const pending = controllers.map((controller) => timedRequest(`${proxy.url}/s`, { signal: controller.signal }))
    await upstream.request(1)

    const open = proxy.stats()
    expect(open.openRequests).toBe(2)
    expect(open.openConnections).toBe(2)
    expect(open.byMode['hold-until-close'].openRequests).toBe(2)
    expect(open.byMode['hold-until-close'].openConnections).toBe(2)
    expect(open.byMode.direct.openRequests).toBe(0)
    expect(Object.keys(open.byMode).sort()).toEqual([...NETWORK_MODES].sort())

    for (const controller of controllers) controller.abort()
    await Promise.all(pending)
    await expect.poll(() => proxy.stats().openConnections).toBe(0)
    expect(proxy.stats().openRequests).toBe(0)
    expect(proxy.stats().byMode['hold-until-close'].clientAborts).toBe(2)
  })

  test('disconnectAll drops every open connection', async () => {
    const upstream = track(
      await startUpstream(sseHandler({ events: numberedEvents(1000), intervalMs: 10, end: false })),
    )
    const proxy = track(await createNetworkProxy({ target: upstream.url }))
    const pending = timedRequest(`${proxy.url}/s`)
    const log = await upstream.request(0)
    proxy.disconnectAll()
    const response = await pending
    expect(response.error).toBeDefined()
    await expect(log.closed).resolves.toBe('client-closed')
  })
})

describe('createRoundRobinProxy', () => {
  test('alternates new requests between targets and keeps per-target counts', async () => {
    const nodes = await Promise.all(
      ['a', 'b'].map(async (name) =>
        track(
          await startUpstream((_req, res, log) => {
            res.writeHead(200, { 'content-type': 'text/plain' })
            log.end(name)
          }),
        ),
      ),
    )
    const balancer = track(await createRoundRobinProxy(nodes.map((node) => node.url)))
    const answers: string[] = []
    for (let index = 0; index < 5; index++) answers.push((await timedRequest(`${balancer.url}/who`)).text)

    expect(answers).toEqual(['a', 'b', 'a', 'b', 'a'])
    expect(balancer.stats().byTarget).toEqual([3, 2])
    expect(nodes.map((node) => node.requests.length)).toEqual([3, 2])
  })

  test('applies modes too', async () => {
    const nodes = await Promise.all(
      [0, 1].map(async () => track(await startUpstream(sseHandler({ events: numberedEvents(2), intervalMs: 10 })))),
    )
    const balancer = track(
      await createRoundRobinProxy(
        nodes.map((node) => node.url),
        { mode: 'status-burst', options: { burst: 1 } },
      ),
    )
    expect((await timedRequest(`${balancer.url}/s`)).status).toBe(503)
    expect((await timedRequest(`${balancer.url}/s`)).text).toBe(numberedEvents(2).join(''))
    await expect(createRoundRobinProxy([])).rejects.toThrow(TypeError)
  })
})
