import { afterEach, describe, expect, test } from 'vitest'
import { startNginx, type NginxConfig } from '../support/nginx'
import {
  arrivalOf,
  bytesBefore,
  numberedEvents,
  sseHandler,
  startUpstream,
  timedRequest,
  type UpstreamServer,
} from '../support/proxies'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
})

const EVENTS = numberedEvents(4)
const INTERVAL_MS = 300

async function throughNginx(config: NginxConfig): Promise<{ upstream: UpstreamServer; url: string }> {
  // The server does everything right: small events, flushed, with X-Accel-Buffering: no.
  const upstream = await startUpstream(
    sseHandler({ events: EVENTS, intervalMs: INTERVAL_MS, headers: { 'x-accel-buffering': 'no' } }),
  )
  cleanups.push(() => upstream.close())
  const nginx = await startNginx({ upstream: upstream.url, config })
  cleanups.push(() => nginx.close())
  return { upstream, url: nginx.url }
}

describe('nginx harness', () => {
  test('buffering-ignores-header holds every event until the upstream ends', async () => {
    const { upstream, url } = await throughNginx('buffering-ignores-header')
    const response = await timedRequest(`${url}/events`, { headers: { accept: 'text/event-stream' } })
    const log = upstream.requests[0]!

    expect(response.status).toBe(200)
    expect(response.error).toBeUndefined()
    // The upstream wrote its first event more than a second before it ended...
    expect(log.endedAt! - log.writes[0]!).toBeGreaterThan(1000)
    // ...yet not one byte reached the client before the end.
    expect(bytesBefore(response, log.endedAt!)).toBe(0)
    expect(response.text).toBe(EVENTS.join(''))
  })

  test.each(['buffering-honours-header', 'unbuffered'] satisfies NginxConfig[])(
    '%s delivers each event promptly',
    async (config) => {
      const { upstream, url } = await throughNginx(config)
      const response = await timedRequest(`${url}/events`, { headers: { accept: 'text/event-stream' } })
      const log = upstream.requests[0]!

      expect(response.status).toBe(200)
      expect(response.text).toBe(EVENTS.join(''))
      EVENTS.forEach((event, index) => {
        const arrived = arrivalOf(response, event)!
        expect(arrived - log.writes[index]!, `event ${index + 1}`).toBeLessThan(200)
      })
    },
  )

  test('stops nginx on close', async () => {
    const upstream = await startUpstream((_req, _res, log) => log.end('ok'))
    cleanups.push(() => upstream.close())
    const nginx = await startNginx({ upstream: upstream.url })
    expect((await timedRequest(`${nginx.url}/`)).text).toBe('ok')
    await nginx.close()
    const after = await timedRequest(`${nginx.url}/`)
    expect(after.status).toBe(0)
    expect((after.error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
  })
})
