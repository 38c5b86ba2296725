import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, test } from 'vitest'
import { createNetworkProxy, type NetworkMode, type NetworkProxy } from '../../playground/network/index.mjs'
import type { StorageLike } from '../../src/env'
import type { HeadersContext, ResilientEventSourceOptions } from '../../src/options'
import { createEventHub, type EventHub } from '../../src/server/index'
import { createFetchEventSource } from '../support/fake-event-source'
import { createSequencePublisher } from '../support/sequence-publisher.mjs'
import { record, until, type Recording } from '../unit/client/helpers'

// Credentials from `headers` travel in headers only: never in a request URL (where access logs,
// proxies, Referer and browser history keep them) and never in storage. A companion behind a
// logging server records every request; each test asserts on that log.

/** One request as the server saw it. */
interface LoggedRequest {
  method: string
  url: string
  mode: string | null
  authorization: string | undefined
  apiKey: string | undefined
}

interface SecurityRig {
  hub: EventHub
  /** Every request that reached the server, in arrival order. */
  log: LoggedRequest[]
  /** The endpoint (through the proxy when there is one). */
  url: string
  /** Publishes `count` events `"1"`, `"2"`, … (continuing the sequence). */
  publish(count: number): Promise<void>
  close(): Promise<void>
}

/**
 * A companion behind a request-logging server, optionally behind a simulated proxy.
 * @param gate - answers a request itself (e.g. 401) instead of the hub when it returns true
 */
async function startRig(
  options: { proxy?: NetworkMode; gate?: (req: IncomingMessage, res: ServerResponse) => boolean } = {},
): Promise<SecurityRig> {
  const hub = createEventHub({ wait: 2 })
  const log: LoggedRequest[] = []
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    log.push({
      method: req.method ?? '',
      url: req.url ?? '',
      mode: url.searchParams.get('mode'),
      authorization: req.headers.authorization,
      apiKey: header(req, 'x-api-key'),
    })
    if (options.gate?.(req, res)) return
    void hub.handle(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  let proxy: NetworkProxy | undefined
  if (options.proxy) proxy = await createNetworkProxy({ target: origin, mode: options.proxy })
  const publisher = createSequencePublisher(hub)
  return {
    hub,
    log,
    url: `${proxy?.url ?? origin}/events`,
    // Events 10 ms apart.
    publish: (count) => publisher.publish(count),
    async close() {
      await proxy?.close()
      await hub.close({ timeout: 200 })
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** A fresh secret per test, distinctive enough that any leak of it (or part of it) is found. */
function secret(label: string): string {
  return `${label}-${randomUUID()}`
}

/**
 * The forms a secret could take in a URL: as is, percent-encoded, form-encoded, base64(url), and
 * its random part alone (a leak of a truncated or re-prefixed value).
 */
function forms(value: string): string[] {
  const random = value.slice(value.indexOf('-') + 1)
  return [
    value,
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    Buffer.from(value).toString('base64'),
    Buffer.from(value).toString('base64url'),
    random,
    random.replace(/-/g, ''),
  ]
}

/** The secrets found in `text`, in any of their {@link forms}. */
function leaked(text: string, secrets: readonly string[]): string[] {
  let decoded = text
  try {
    decoded = decodeURIComponent(text)
  } catch {
    // keep the raw text
  }
  const haystacks = [text, decoded, text.toLowerCase(), decoded.toLowerCase()]
  return secrets.filter((value) => forms(value).some((form) => haystacks.some((h) => h.includes(form) || h.includes(form.toLowerCase()))))
}

/** Asserts no logged URL carries any secret; returns the URLs for further checks. */
function expectNoSecretInUrls(log: readonly LoggedRequest[], secrets: readonly string[]): string[] {
  const urls = log.map((entry) => entry.url)
  expect(urls.length).toBeGreaterThan(0)
  const leaks = urls.flatMap((url) => leaked(url, secrets).map((value) => `${value} in ${url}`))
  expect(leaks).toEqual([])
  return urls
}

/** A `StorageLike` that records every call, keys and values. */
function recordingStorage(): StorageLike & { calls: { op: string; key: string; value?: string }[]; data: Map<string, string> } {
  const data = new Map<string, string>()
  const calls: { op: string; key: string; value?: string }[] = []
  return {
    data,
    calls,
    getItem(key) {
      calls.push({ op: 'getItem', key })
      return data.get(key) ?? null
    },
    setItem(key, value) {
      calls.push({ op: 'setItem', key, value })
      data.set(key, value)
    },
    removeItem(key) {
      calls.push({ op: 'removeItem', key })
      data.delete(key)
    },
  }
}

/** A `headers` function with a fixed token and API key; records its calls. */
function tokenHeaders(token: string, apiKey: string): {
  headers: (context: HeadersContext) => Promise<HeadersInit>
  calls: HeadersContext[]
} {
  const calls: HeadersContext[] = []
  return {
    calls,
    headers: async (context) => {
      calls.push(context)
      return { Authorization: `Bearer ${token}`, 'X-Api-Key': apiKey }
    },
  }
}

let rig: SecurityRig | undefined
let stream: Recording | undefined
afterEach(async () => {
  stream?.es.close()
  stream = undefined
  await rig?.close()
  rig = undefined
})

const SINGLE_RUNGS = [['fetch'], ['sse-close'], ['long-poll']] as const

describe('security: header credentials never go into a request URL', () => {
  test.each(SINGLE_RUNGS)('%s: every request carries the token in its header, none in its URL', async (name) => {
    rig = await startRig()
    const token = secret('token')
    const apiKey = secret('key')
    const credentials = tokenHeaders(token, apiKey)
    stream = record(rig.url, { transports: [name], headers: credentials.headers })
    await until(() => rig!.log.length >= 1, 'the first request', 15_000)
    await rig.publish(5)
    await until(() => stream!.messages.length >= 5, '5 events', 15_000)
    expect(stream.messages.map((m) => m.data)).toEqual(['1', '2', '3', '4', '5'])
    const events = rig.log.filter((entry) => entry.url.startsWith('/events'))
    // The positive side: the credentials did travel, as headers, on every request.
    expect(events.every((entry) => entry.authorization === `Bearer ${token}` && entry.apiKey === apiKey)).toBe(true)
    // sse-close and long-poll make a request per batch: the check covers the reconnects too.
    if (name !== 'fetch') expect(events.length).toBeGreaterThanOrEqual(2)
    expectNoSecretInUrls(rig.log, [token, apiKey])
    // Asked before every request (a last one may be resolved but not sent yet).
    expect(credentials.calls.length).toBeGreaterThanOrEqual(events.length)
  })

  test('default ladder: native EventSource (which cannot send headers) is skipped, never opened with the token', async () => {
    rig = await startRig()
    const token = secret('token')
    const apiKey = secret('key')
    const EventSource = createFetchEventSource()
    stream = record(rig.url, { headers: tokenHeaders(token, apiKey).headers, EventSource })
    await until(() => rig!.log.length >= 1, 'the first request', 15_000)
    await rig.publish(3)
    await until(() => stream!.messages.length >= 3, '3 events', 15_000)
    expect(EventSource.instances).toEqual([])
    expect(stream.es.transport).toBe('fetch')
    expect(rig.log.every((entry) => entry.authorization === `Bearer ${token}`)).toBe(true)
    expectNoSecretInUrls(rig.log, [token, apiKey])
  })

  test('buffering proxy, default ladder: the control probe and the step-down carry the token in headers only', async () => {
    // hold-until-close: the stream's canary never arrives, so the client probes
    // (mode=poll&wait=0), steps down to sse-close and remembers that verdict in storage.
    rig = await startRig({ proxy: 'hold-until-close' })
    const token = secret('token')
    const apiKey = secret('key')
    const storage = recordingStorage()
    stream = record(rig.url, {
      headers: tokenHeaders(token, apiKey).headers,
      canaryTimeout: 300,
      remember: { storage },
      env: { random: () => 0, storage },
      EventSource: createFetchEventSource(),
    })
    await until(() => stream!.es.transport === 'sse-close', 'the step-down to sse-close', 20_000)
    await rig.publish(3)
    await until(() => stream!.messages.length >= 3, '3 events', 15_000)
    const probes = rig.log.filter((entry) => entry.mode === 'poll' && /[?&]wait=0(&|$)/.test(entry.url))
    expect(probes.length).toBeGreaterThanOrEqual(1)
    expect(rig.log.filter((entry) => entry.mode === 'stream').length).toBeGreaterThanOrEqual(1)
    expect(rig.log.filter((entry) => entry.mode === 'close').length).toBeGreaterThanOrEqual(1)
    expect(rig.log.every((entry) => entry.authorization === `Bearer ${token}` && entry.apiKey === apiKey)).toBe(true)
    expectNoSecretInUrls(rig.log, [token, apiKey])
    // The verdict was written (so the storage check below is not vacuous) and holds no secret.
    const writes = storage.calls.filter((call) => call.op === 'setItem')
    expect(writes.length).toBeGreaterThanOrEqual(1)
    expect(JSON.parse(writes.at(-1)!.value!)).toMatchObject({ transport: 'sse-close' })
    const stored = storage.calls.map((call) => `${call.key}\n${call.value ?? ''}`).join('\n')
    expect(leaked(stored, [token, apiKey])).toEqual([])
  })

  test.each(SINGLE_RUNGS)('%s: 401 → refresh → fresh token: neither token reaches a URL, storage or an error', async (name) => {
    const stale = secret('stale')
    const fresh = secret('fresh')
    rig = await startRig({
      gate: (req, res) => {
        if (req.headers.authorization === `Bearer ${fresh}`) return false
        res.writeHead(401, { 'Content-Type': 'text/plain' }).end('expired')
        return true
      },
    })
    const calls: HeadersContext[] = []
    let current = stale
    const storage = recordingStorage()
    stream = record(rig.url, {
      transports: [name],
      remember: { storage },
      env: { random: () => 0, storage },
      headers: ({ refresh }) => {
        calls.push({ refresh })
        if (refresh) current = fresh
        return { Authorization: `Bearer ${current}` }
      },
    })
    await until(() => rig!.log.some((entry) => entry.authorization === `Bearer ${fresh}`), 'a request with the fresh token', 15_000)
    await rig.publish(3)
    await until(() => stream!.messages.length >= 3, '3 events', 15_000)
    expect(calls[0]).toEqual({ refresh: false })
    expect(calls.some((call) => call.refresh)).toBe(true)
    expect(rig.log[0]!.authorization).toBe(`Bearer ${stale}`)
    // The 401 is handled silently (one refresh), so the log shows it: stale first, then fresh.
    expect(rig.log.findIndex((entry) => entry.authorization === `Bearer ${fresh}`)).toBeGreaterThan(0)
    expectNoSecretInUrls(rig.log, [stale, fresh])
    const errors = stream.errors.map((event) => `${event.error.message} ${String(event.error.cause ?? '')}`).join('\n')
    expect(leaked(errors, [stale, fresh])).toEqual([])
    const stored = storage.calls.map((call) => `${call.key}\n${call.value ?? ''}`).join('\n')
    expect(leaked(stored, [stale, fresh])).toEqual([])
  })
})

describe("security: only what the caller put in the URL appears there (the caller's opt-in)", () => {
  // There is no option that moves header credentials into the URL. A caller who needs a token
  // in the query (say, for native EventSource, which cannot send headers) writes it into the URL
  // themselves; that is the only way one gets there.
  const PROTOCOL_KEYS = ['mode', 'lastEventId', 'start', 'ping', 'wait']

  function queryKeys(url: string): string[] {
    return [...new URL(url, 'http://x').searchParams.keys()]
  }

  test.each([...SINGLE_RUNGS, ['eventsource']] as const)(
    '%s: the URL token appears exactly once per request, the header token never',
    async (name) => {
      rig = await startRig()
      const urlToken = secret('urltoken')
      const headerToken = secret('token')
      const EventSource = createFetchEventSource()
      const storage = recordingStorage()
      // Native EventSource cannot send headers, so the header token is left out for it.
      const headers = name === 'eventsource' ? undefined : { Authorization: `Bearer ${headerToken}` }
      stream = record(`${rig.url}?access_token=${urlToken}`, {
        transports: [name],
        EventSource,
        remember: { storage },
        env: { random: () => 0, storage },
        ...(headers ? { headers } : {}),
      })
      await until(() => rig!.log.length >= 1, 'the first request', 15_000)
      await rig.publish(3)
      await until(() => stream!.messages.length >= 3, '3 events', 15_000)
      for (const entry of rig.log) {
        const params = new URL(entry.url, 'http://x').searchParams
        expect(params.getAll('access_token')).toEqual([urlToken])
        expect(queryKeys(entry.url).filter((key) => !PROTOCOL_KEYS.includes(key))).toEqual(['access_token'])
      }
      expectNoSecretInUrls(rig.log, [headerToken])
      const stored = storage.calls.map((call) => `${call.key}\n${call.value ?? ''}`).join('\n')
      expect(leaked(stored, [headerToken, urlToken])).toEqual([])
      if (name === 'eventsource') expect(EventSource.instances.length).toBeGreaterThanOrEqual(1)
      else expect(EventSource.instances).toEqual([])
    },
  )

  test('protocolQuery: false: every request URL is exactly the caller\'s URL', async () => {
    rig = await startRig()
    const urlToken = secret('urltoken')
    const headerToken = secret('token')
    const path = `/events?access_token=${urlToken}`
    // Without `mode` the companion serves a stream, so the fetch rung is the one that fits.
    stream = record(`${rig.url}?access_token=${urlToken}`, {
      transports: ['fetch'],
      protocolQuery: false,
      headers: { Authorization: `Bearer ${headerToken}` },
    })
    await until(() => rig!.log.length >= 1, 'the first request', 15_000)
    await rig.publish(2)
    await until(() => stream!.messages.length >= 2, '2 events', 15_000)
    expect(new Set(rig.log.map((entry) => entry.url))).toEqual(new Set([path]))
    expectNoSecretInUrls(rig.log, [headerToken])
  })
})

describe('security: credentials never reach storage', () => {
  test('verdict memory: one key per origin + path; the URL query (and any token in it) is not part of it', async () => {
    rig = await startRig({ proxy: 'hold-until-close' })
    const urlToken = secret('urltoken')
    const headerToken = secret('token')
    const storage = recordingStorage()
    const options: ResilientEventSourceOptions = {
      headers: async () => ({ Authorization: `Bearer ${headerToken}` }),
      canaryTimeout: 300,
      remember: { storage },
      env: { random: () => 0, storage },
    }
    stream = record(`${rig.url}?access_token=${urlToken}&topic=a`, options)
    await until(() => stream!.es.transport === 'sse-close', 'the step-down to sse-close', 20_000)
    await until(() => storage.calls.some((call) => call.op === 'setItem'), 'the verdict to be stored', 20_000)
    const origin = new URL(rig.url).origin
    expect([...storage.data.keys()]).toEqual([`resilient-sse:v1:${origin}/events`])
    const everything = storage.calls.map((call) => `${call.op} ${call.key} ${call.value ?? ''}`).join('\n')
    expect(leaked(everything, [urlToken, headerToken])).toEqual([])
    expect(everything).not.toMatch(/authorization|bearer|access_token|topic/i)
  })
})
