import { createServer, get, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { createRoundRobinProxy } from '../../playground/network/index.mjs'
import { ResilientEventSource } from '../../src/client'
import { createEventHub, type EventHub, type EventHubOptions, isHubError, RedisStreamStore, type StoredEvent } from '../../src/server/index'
import { startRedis, type RedisServer } from '../support/redis'
import { describeEventStoreContract } from '../unit/server/store-contract'

let redis: RedisServer
let keys = 0
const freshKey = (): string => `test:${process.pid}:${(keys += 1)}`
const cleanups: Array<() => Promise<void> | void> = []

beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function store(options: ConstructorParameters<typeof RedisStreamStore>[0] = {}): RedisStreamStore {
  const created = new RedisStreamStore({ url: redis.url, key: freshKey(), ...options })
  cleanups.push(() => created.close())
  return created
}

async function admin() {
  const client = createClient({ url: redis.url })
  client.on('error', () => {})
  await client.connect()
  cleanups.push(() => client.destroy())
  return client
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeout = 5000): Promise<void> {
  const start = Date.now()
  while (!(await condition())) {
    if (Date.now() - start > timeout) throw new Error(`timed out after ${timeout} ms waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  return isHubError(error) ? error.code : undefined
}

describeEventStoreContract('RedisStreamStore', () => new RedisStreamStore({ url: redis.url, key: freshKey() }))

describe('RedisStreamStore', () => {
  test('count retention trims the oldest events; readAfter reports the gap exactly', async () => {
    const events = store({ retention: { maxEvents: 5 } })
    const ids: string[] = []
    for (let index = 0; index < 12; index += 1) ids.push(await events.append({ event: 'message', data: String(index) }))
    expect(await events.oldest()).toBe(ids[7])
    expect(await events.head()).toBe(ids[11])
    // The cursor is the newest trimmed event: nothing after it was lost.
    expect(await events.readAfter(ids[6]!, 100)).toEqual({
      events: ids.slice(7).map((id, index) => ({ id, event: 'message', data: String(index + 7) })),
      more: false,
      expired: false,
      from: ids[6],
    })
    // One before it: event 6 was lost, delivery goes on from the floor.
    const page = await events.readAfter(ids[5]!, 2)
    expect(page).toMatchObject({ expired: true, from: ids[6], more: true })
    expect(page.events.map((event) => event.id)).toEqual(ids.slice(7, 9))
    expect((await events.readAfter('0-0', 100)).expired).toBe(true)
  })

  test('a lowered maxEvents converges, at most 1,000 trimmed per call; the floor stays exact', async () => {
    const key = freshKey()
    const large = store({ key, retention: { maxEvents: Infinity } })
    await large.append({ event: 'message', data: 'warm-up' })
    // Pipelined on one connection: sent, hence stored, in call order.
    const ids = await Promise.all(Array.from({ length: 2500 }, (_, index) => large.append({ event: 'message', data: String(index) })))
    const small = store({ key, retention: { maxEvents: 10 } })
    // Each call (reads trim too) drops at most 1,000: warm-up and 0–998, then 999–1998, then down to 10.
    expect(await small.oldest()).toBe(ids[999])
    expect(await small.readAfter(ids[1998]!, 1)).toMatchObject({ expired: false, from: ids[1998], events: [{ id: ids[1999] }] })
    expect(await small.readAfter(ids[2488]!, 100)).toMatchObject({ expired: true, from: ids[2489], more: false })
    const page = await small.readAfter(ids[2489]!, 100)
    expect(page).toMatchObject({ expired: false, more: false })
    expect(page.events.map((event) => event.id)).toEqual(ids.slice(2490))
  })

  test('age retention trims on the Redis clock, also without new appends', async () => {
    const events = store({ retention: { maxAge: 300 } })
    const old = await events.append({ event: 'message', data: 'old' })
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(await events.oldest()).toBeNull()
    expect(await events.head()).toBe(old)
    const fresh = await events.append({ event: 'message', data: 'fresh' })
    expect(await events.readAfter('0-0', 10)).toMatchObject({ expired: true, from: old, events: [{ id: fresh, data: 'fresh' }] })
    expect(await events.readAfter(old, 10)).toMatchObject({ expired: false, from: old, events: [{ id: fresh }] })
  })

  test('a start token is claimed once, on any node, and stands for the head at first sight', async () => {
    const key = freshKey()
    const nodeA = store({ key })
    const nodeB = store({ key })
    const first = await nodeA.append({ event: 'message', data: 'a' })
    expect(await nodeA.claimStartToken('tokentokentoken12345', 60_000)).toBe(first)
    const second = await nodeB.append({ event: 'message', data: 'b' })
    expect(await nodeB.claimStartToken('tokentokentoken12345', 60_000)).toBe(first)
    expect(await nodeB.claimStartToken('othertokenothertoken', 60_000)).toBe(second)
  })

  test('an explicit id already taken is refused with invalid-id (a publish retried after a lost reply)', async () => {
    const events = store()
    const id = `${Date.now() + 5000}-0`
    expect(await events.append({ event: 'message', data: 'x', id })).toBe(id)
    expect(await codeOf(events.append({ event: 'message', data: 'x', id }))).toBe('invalid-id')
    expect(await codeOf(events.append({ event: 'message', data: 'x', id: '0-0' }))).toBe('invalid-id')
  })

  test('two stores on one key: each sees the other’s appends live, once, in order', async () => {
    const key = freshKey()
    const nodeA = store({ key })
    const nodeB = store({ key })
    const seenA: StoredEvent[] = []
    const seenB: StoredEvent[] = []
    nodeA.subscribe((event) => seenA.push(event))
    nodeB.subscribe((event) => seenB.push(event))
    await nodeA.head()
    await nodeB.head()
    const ids: string[] = []
    for (let index = 0; index < 20; index += 1) ids.push(await (index % 2 === 0 ? nodeA : nodeB).append({ event: 'message', data: String(index) }))
    await waitFor(() => seenA.length >= 20 && seenB.length >= 20, 'both stores saw 20 events')
    expect(seenA.map((event) => event.id)).toEqual(ids)
    expect(seenB.map((event) => event.id)).toEqual(ids)
  })

  test('topics: separate streams, one XREAD connection for all of them', async () => {
    const root = store()
    const sports = root.forTopic('sports')
    const news = root.forTopic('news')
    expect(root.forTopic('sports')).toBe(sports)
    expect(() => root.forTopic('a:b')).toThrow(TypeError)
    const seen: Record<string, string[]> = { root: [], sports: [], news: [] }
    root.subscribe((event) => seen.root!.push(event.data))
    sports.subscribe((event) => seen.sports!.push(event.data))
    news.subscribe((event) => seen.news!.push(event.data))
    await Promise.all([root.head(), sports.head(), news.head()])
    await sports.append({ event: 'message', data: 's1' })
    await news.append({ event: 'message', data: 'n1' })
    await root.append({ event: 'message', data: 'r1' })
    await sports.append({ event: 'message', data: 's2' })
    await waitFor(() => seen.root!.length + seen.sports!.length + seen.news!.length >= 4, 'four deliveries')
    expect(seen).toEqual({ root: ['r1'], sports: ['s1', 's2'], news: ['n1'] })
    const client = await admin()
    const readers = async () =>
      String(await client.sendCommand(['CLIENT', 'LIST']))
        .split('\n')
        .filter((line) => line.includes('cmd=xread')).length
    // Readers of earlier tests' closed stores may linger in the list for a moment.
    await waitFor(async () => (await readers()) === 1, 'one XREAD connection')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await readers()).toBe(1)
  })

  test('stores built on one existing client share one XREAD connection and leave the client open', async () => {
    const client = await admin()
    const readers = async () =>
      String(await client.sendCommand(['CLIENT', 'LIST']))
        .split('\n')
        .filter((line) => line.includes('cmd=xread')).length
    const first = new RedisStreamStore({ client, key: freshKey() })
    const second = new RedisStreamStore({ client, key: freshKey() })
    cleanups.push(() => first.close(), () => second.close())
    const seen: string[] = []
    first.subscribe((event) => seen.push(`1:${event.data}`))
    second.subscribe((event) => seen.push(`2:${event.data}`))
    await Promise.all([first.head(), second.head()])
    await first.append({ event: 'message', data: 'a' })
    await second.append({ event: 'message', data: 'b' })
    await waitFor(() => seen.length === 2, 'one live event per store')
    expect(seen.sort()).toEqual(['1:a', '2:b'])
    await waitFor(async () => (await readers()) === 1, 'one XREAD connection for both stores')
    await first.close()
    await second.append({ event: 'message', data: 'c' })
    await waitFor(() => seen.length === 3, 'the other store still delivers')
    await second.close()
    // The last store closed its reader, never the client it was given.
    await waitFor(async () => (await readers()) === 0, 'the reader connection closed')
    expect(client.isReady).toBe(true)
    expect(await client.sendCommand(['PING'])).toBe('PONG')
  })
})

describe('RedisStreamStore when Redis goes away', () => {
  test('append rejects with store-unavailable while Redis is down; live delivery resumes after a restart without loss or repeats', async () => {
    const events = store()
    const seen: StoredEvent[] = []
    events.subscribe((event) => seen.push(event))
    await events.head()
    const before = [await events.append({ event: 'message', data: 'before-1' }), await events.append({ event: 'message', data: 'before-2' })]
    await waitFor(() => seen.length === 2, 'two events before the outage')

    await redis.stop()
    expect(await codeOf(events.append({ event: 'message', data: 'lost' }))).toBe('store-unavailable')
    expect(await codeOf(events.readAfter('0-0', 10))).toBe('store-unavailable')
    await redis.start()
    await waitFor(
      () => events.append({ event: 'message', data: 'after-1' }).then(() => true, () => false),
      'an append succeeds after the restart',
      10_000,
    )
    const after = [await events.append({ event: 'message', data: 'after-2' })]
    await waitFor(() => seen.length >= 4, 'events after the restart', 10_000)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(seen.map((event) => event.data)).toEqual(['before-1', 'before-2', 'after-1', 'after-2'])
    expect(seen.slice(0, 2).map((event) => event.id)).toEqual(before)
    expect(seen[3]!.id).toBe(after[0])
  })

  test('the reader connection killed: events appended meanwhile arrive after it reconnects, once, in order', async () => {
    const events = store()
    const seen: string[] = []
    events.subscribe((event) => seen.push(event.data))
    await events.head()
    await events.append({ event: 'message', data: 'a' })
    await waitFor(() => seen.length === 1, 'first event')
    const client = await admin()
    const reader = String(await client.sendCommand(['CLIENT', 'LIST']))
      .split('\n')
      .find((line) => line.includes('cmd=xread'))
    const readerId = /^id=(\d+)/.exec(reader ?? '')?.[1]
    expect(readerId).toBeDefined()
    await client.sendCommand(['CLIENT', 'KILL', 'ID', readerId!])
    for (const data of ['b', 'c', 'd']) await events.append({ event: 'message', data })
    await waitFor(() => seen.length >= 4, 'events appended while the reader was away', 10_000)
    await events.append({ event: 'message', data: 'e' })
    await waitFor(() => seen.length >= 5, 'a live event after the reconnect')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e'])
  })

  test('a Redis older than 6.2 is refused with a clear store-unavailable message', async () => {
    // The one stand-in: a real client whose INFO reply claims an old version.
    const real = await admin()
    const old = {
      get isReady() {
        return real.isReady
      },
      get isOpen() {
        return real.isOpen
      },
      sendCommand: async (args: readonly string[]) =>
        args[0] === 'INFO' ? '# Server\r\nredis_version:6.0.16\r\n' : real.sendCommand([...args]),
      duplicate: () => real.duplicate(),
      connect: () => real.connect(),
      destroy: () => real.destroy(),
      on: (event: string, listener: (...args: unknown[]) => void) => real.on(event, listener),
    }
    const events = new RedisStreamStore({ client: old, key: freshKey() })
    cleanups.push(() => events.close())
    const error: unknown = await events.append({ event: 'message', data: 'x' }).catch((reason: unknown) => reason)
    expect(isHubError(error) && error.code).toBe('store-unavailable')
    expect((error as Error).message).toMatch(/needs Redis 6\.2 or later.*runs Redis 6\.0\.16/)
  })

  test('a store whose Redis never answered fails within connectTimeout with store-unavailable', async () => {
    const events = new RedisStreamStore({ url: 'redis://127.0.0.1:1', key: freshKey(), connectTimeout: 200 })
    cleanups.push(() => events.close())
    const started = Date.now()
    expect(await codeOf(events.ready())).toBe('store-unavailable')
    expect(Date.now() - started).toBeLessThan(2000)
    expect(await codeOf(events.append({ event: 'message', data: 'x' }))).toBe('store-unavailable')
  })

  test('append after close rejects with closed', async () => {
    const events = store()
    await events.close()
    expect(await codeOf(events.append({ event: 'message', data: 'x' }))).toBe('closed')
  })
})

async function hubNode(key: string, options: EventHubOptions = {}): Promise<{ hub: EventHub; store: RedisStreamStore; origin: string }> {
  const nodeStore = new RedisStreamStore({ url: redis.url, key })
  const hub = createEventHub({ store: nodeStore, wait: 1, ...options })
  const server: Server = createServer((req, res) => void hub.handle(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => {
    await hub.close({ timeout: 200 })
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await nodeStore.close()
  })
  return { hub, store: nodeStore, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

async function roundRobin(origins: readonly string[]) {
  const proxy = await createRoundRobinProxy(origins)
  cleanups.push(() => proxy.close())
  return proxy
}

function openClient(url: string, transport: 'fetch' | 'sse-close' | 'long-poll') {
  const es = new ResilientEventSource(url, {
    transports: [transport],
    // Repeats must show: the server side alone has to deliver each event once.
    dedupe: false,
    remember: false,
    wait: 1,
    retry: { initialDelay: 50, maxDelay: 300 },
  })
  cleanups.push(() => es.close())
  const received: Array<{ id: string; data: string }> = []
  let opened = false
  es.addEventListener('open', () => {
    opened = true
  })
  es.addEventListener('message', (event) => received.push({ id: event.lastEventId, data: event.data }))
  return { es, received, opened: () => opened }
}

function expectIncreasing(ids: readonly string[]): void {
  for (let index = 1; index < ids.length; index += 1) {
    const [ms, seq] = ids[index]!.split('-').map(Number)
    const [lastMs, lastSeq] = ids[index - 1]!.split('-').map(Number)
    expect(ms! > lastMs! || (ms === lastMs && seq! > lastSeq!), `${ids[index]} after ${ids[index - 1]}`).toBe(true)
  }
}

describe('two hubs on one Redis, a client alternating between them on every request', () => {
  test.each(['fetch', 'sse-close', 'long-poll'] as const)('%s: every event once, in order', async (transport) => {
    const key = freshKey()
    // Streams rotate every ~300 ms, so the fetch client reconnects (to the other node) repeatedly.
    const nodeA = await hubNode(key, { rotateAfter: 300 })
    const nodeB = await hubNode(key, { rotateAfter: 300 })
    const proxy = await roundRobin([nodeA.origin, nodeB.origin])
    const client = openClient(`${proxy.url}/events`, transport)
    await waitFor(client.opened, 'the client opened')
    const published: string[] = []
    // At least 40 events, and on until both nodes served at least three requests.
    const servedEnough = () => proxy.stats().byTarget.every((count) => count >= 3)
    for (let index = 0; index < 40 || (!servedEnough() && index < 400); index += 1) {
      const node = index % 2 === 0 ? nodeA : nodeB
      published.push(await node.hub.publish({ data: `e${index}` }))
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    await waitFor(() => client.received.length >= published.length, `${published.length} events on ${transport}`, 15_000)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(client.received.map((event) => event.data)).toEqual(published.map((_, index) => `e${index}`))
    expect(client.received.map((event) => event.id)).toEqual(published)
    expectIncreasing(published)
    // Requests really alternated: both nodes served several.
    expect(servedEnough()).toBe(true)
  })

  test('trimming past retention while the client is away produces _gap, then delivery goes on', async () => {
    const key = freshKey()
    const store = new RedisStreamStore({ url: redis.url, key, retention: { maxEvents: 5 } })
    cleanups.push(() => store.close())
    const hub = createEventHub({ store, wait: 1 })
    const server = createServer((req, res) => void hub.handle(req, res))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(async () => {
      await hub.close({ timeout: 200 })
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    })
    const first = await hub.publish({ data: 'kept-by-client' })
    const trimmed: string[] = []
    for (let index = 0; index < 8; index += 1) trimmed.push(await hub.publish({ data: `t${index}` }))
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const response = await fetch(`${origin}/events?mode=close&wait=0`, { headers: { 'Last-Event-ID': first } })
    const body = await response.text()
    expect(body).toContain('event: _gap')
    const gap = JSON.parse(/event: _gap\ndata: (.*)\n/.exec(body)![1]!) as { reason: string; cursor: string }
    expect(gap.reason).toBe('expired')
    // Events t0..t2 were trimmed; delivery resumes at t3, the oldest retained.
    expect(gap.cursor).toBe(trimmed[2])
    expect([...body.matchAll(/^data: (t\d)$/gm)].map((match) => match[1])).toEqual(['t3', 't4', 't5', 't6', 't7'])
  })
})

describe('two hubs on one Redis that restarts mid-stream', () => {
  test('open streams stay open; publishes before and after arrive once; publish during the outage rejects with store-unavailable', async () => {
    const key = freshKey()
    const nodeA = await hubNode(key, { rotateAfter: 0 })
    const nodeB = await hubNode(key, { rotateAfter: 0 })
    const proxy = await roundRobin([nodeA.origin, nodeB.origin])
    const clients = [openClient(`${proxy.url}/events`, 'fetch'), openClient(`${proxy.url}/events`, 'fetch')]
    await waitFor(() => clients.every((client) => client.opened()), 'both clients opened (one per node)')
    expect(proxy.stats().byTarget).toEqual([1, 1])
    const expected: string[] = []
    for (let index = 0; index < 4; index += 1) {
      await (index % 2 === 0 ? nodeA : nodeB).hub.publish({ data: `before${index}` })
      expected.push(`before${index}`)
    }
    await waitFor(() => clients.every((client) => client.received.length === 4), 'events before the restart')

    await redis.stop()
    const refused: unknown = await nodeA.hub.publish({ data: 'during' }).catch((error: unknown) => error)
    expect(isHubError(refused) && refused.code).toBe('store-unavailable')
    await redis.start()
    // Each hub's client reconnects on its own backoff schedule; until it has, that hub's publish
    // fails at once with store-unavailable (nothing was sent, so nothing was stored): retry it.
    for (let index = 0; index < 4; index += 1) {
      const node = index % 2 === 0 ? nodeB : nodeA
      await waitFor(
        () => node.hub.publish({ data: `after${index}` }).then(() => true, (error: unknown) => {
          if (isHubError(error) && error.code === 'store-unavailable') return false
          throw error
        }),
        `publish after${index} succeeds after the restart`,
        10_000,
      )
      expected.push(`after${index}`)
    }
    await waitFor(() => clients.every((client) => client.received.length >= 8), 'events after the restart', 15_000)
    await new Promise((resolve) => setTimeout(resolve, 100))
    for (const client of clients) expect(client.received.map((event) => event.data)).toEqual(expected)
    // The hubs kept their open streams through the outage: no client reconnected.
    expect(proxy.stats().totalRequests).toBe(2)
  })
})

describe('one hub, 1,000 open streams', () => {
  test('share ONE XREAD connection; a publish reaches all of them', async () => {
    const key = freshKey()
    const node = await hubNode(key, { rotateAfter: 0 })
    const url = new URL(`${node.origin}/events?mode=stream`)
    const streams: IncomingMessage[] = []
    const bodies: string[] = []
    cleanups.push(() => {
      for (const stream of streams) stream.destroy()
    })
    await Promise.all(
      Array.from(
        { length: 1000 },
        (_, index) =>
          new Promise<void>((resolve, reject) => {
            const request = get(url, { agent: false }, (response) => {
              streams.push(response)
              bodies[index] = ''
              response.setEncoding('utf8')
              response.on('data', (chunk: string) => {
                bodies[index] += chunk
                if (bodies[index]!.includes('event: _canary')) resolve()
              })
            })
            request.on('error', reject)
          }),
      ),
    )
    expect(node.hub.stats().connections.stream).toBe(1000)
    const client = await admin()
    const connections = async () =>
      String(await client.sendCommand(['CLIENT', 'LIST']))
        .split('\n')
        .filter((line) => line.startsWith('id='))
    // The hub's store: one command connection + one reader; the test's admin client makes three.
    // (Waits only for connections of earlier tests' closed stores to disappear from the list.)
    await waitFor(async () => (await connections()).length === 3, 'three connections')
    expect((await connections()).filter((line) => line.includes('cmd=xread'))).toHaveLength(1)
    const id = await node.hub.publish({ data: 'to-everyone' })
    await waitFor(() => bodies.every((body) => body.includes(`id: ${id}\n`)), 'all 1,000 streams got the event', 10_000)
    for (const body of bodies) expect(body.split('data: to-everyone').length).toBe(2)
  })
})
