import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { sseFrame, startScriptServer, type ScriptServer } from '../../support/sse-script-server'
import { record, SSE, until } from './helpers'

// Node has no window: give globalThis the online/offline events and navigator.onLine a page has.
const target = new EventTarget()
const globals = globalThis as unknown as Record<string, unknown>
let online = true
beforeEach(() => {
  online = true
  globals.addEventListener = target.addEventListener.bind(target)
  globals.removeEventListener = target.removeEventListener.bind(target)
  Object.defineProperty(globalThis, 'navigator', { value: { get onLine() { return online } }, configurable: true })
})
let server: ScriptServer | undefined
afterEach(async () => {
  delete globals.addEventListener
  delete globals.removeEventListener
  await server?.close()
  server = undefined
})

const setOnline = (value: boolean): void => {
  online = value
  target.dispatchEvent(new Event(value ? 'online' : 'offline'))
}

describe('offline / online', () => {
  test('offline pauses reconnecting; online reconnects at once', async () => {
    server = await startScriptServer(async (request, reply) => {
      reply.head(200, SSE)
      if (request.index === 0) {
        reply.write(sseFrame({ id: '1', data: 'a' }))
        await reply.wait(20)
        return void reply.destroy()
      }
      reply.write(sseFrame({ id: '2', data: 'b' }))
      await reply.untilClosed()
    })
    // A long backoff (random = 1 → 1 s window) that going offline must cancel.
    const r = record(`${server.url}/s`, { transports: ['fetch'], canaryTimeout: false, env: { random: () => 1 } })
    await until(() => r.messages.length === 1, 'first event')
    setOnline(false)
    await until(() => r.errors.length === 1, 'drop noticed')
    await new Promise((resolve) => setTimeout(resolve, 1300))
    expect(server.requests).toHaveLength(1)
    expect(r.es.readyState).toBe(0)
    const before = Date.now()
    setOnline(true)
    await until(() => r.messages.length === 2, 'event after online')
    expect(Date.now() - before).toBeLessThan(500)
    expect(server.requests[1]!.headers['last-event-id']).toBe('1')
    r.es.close()
  })

  test('a stream created while offline waits for online before its first request', async () => {
    server = await startScriptServer(async (_request, reply) => {
      reply.head(200, SSE)
      reply.write(sseFrame({ id: '1', data: 'a' }))
      await reply.untilClosed()
    })
    online = false
    const r = record(`${server.url}/s`, { transports: ['fetch'], canaryTimeout: false })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(server.requests).toHaveLength(0)
    setOnline(true)
    await until(() => r.messages.length === 1, 'event after online')
    r.es.close()
  })
})
