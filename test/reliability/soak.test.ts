import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, expect, test } from 'vitest'
import { ResilientEventSource } from '../../src/client'
import { until } from '../unit/client/helpers'

// One client, fetch transport, loopback: a raw node:http server writes `id: n / data: n` frames as
// fast as the socket drains (respecting backpressure). Override the count with SOAK_EVENTS.
const TOTAL = Number(process.env.SOAK_EVENTS ?? 1_000_000)
const BATCH = 500
const CHECKPOINTS = 10

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let server: Server | undefined
afterAll(async () => {
  server?.closeAllConnections()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
})

function frames(from: number, to: number): string {
  let out = ''
  for (let n = from; n < to; n++) out += `id: ${n}\ndata: ${n}\n\n`
  return out
}

test(`soak: ${TOTAL.toLocaleString('en')} events through one client, heap bounded`, async () => {
  let bytes = 0
  server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' })
    // Resume after the client's cursor, as a real server would.
    let n = Number(req.headers['last-event-id'] ?? 0) + 1
    let stopped = false
    req.on('close', () => void (stopped = true))
    const pump = (): void => {
      while (!stopped && n <= TOTAL) {
        const to = Math.min(TOTAL + 1, n + BATCH)
        const chunk = frames(n, to)
        bytes += Buffer.byteLength(chunk)
        n = to
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
    }
    res.write(': hello\n\n', pump)
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`

  const heap: { at: number; mib: number }[] = []
  let received = 0
  let outOfOrder = 0
  const es = new ResilientEventSource(url, { remember: false, transports: ['fetch'] })
  es.addEventListener('message', (event: MessageEvent<string>) => {
    received += 1
    if (event.data !== String(received)) outOfOrder += 1
    if (received % (TOTAL / CHECKPOINTS) === 0) {
      gc()
      heap.push({ at: received, mib: process.memoryUsage().heapUsed / 1048576 })
    }
  })
  gc()
  const baseline = process.memoryUsage().heapUsed / 1048576
  const started = performance.now()
  await until(() => received >= TOTAL, `${TOTAL} events`, 120_000)
  const seconds = (performance.now() - started) / 1000
  es.close()

  const secondHalf = heap.filter((h) => h.at > TOTAL / 2).map((h) => h.mib)
  const atHalf = heap.find((h) => h.at === TOTAL / 2)?.mib ?? baseline
  const growth = Math.max(...secondHalf) - atHalf
  console.log(
    `soak: ${TOTAL} events in ${seconds.toFixed(1)} s = ${Math.round(TOTAL / seconds)} events/s, ` +
      `${(bytes / seconds / 1048576).toFixed(1)} MiB/s; heap after GC: baseline ${baseline.toFixed(1)} MiB, ` +
      `checkpoints ${heap.map((h) => h.mib.toFixed(1)).join(' / ')} MiB; second-half growth ${growth.toFixed(2)} MiB; ` +
      `reconnects ${es.stats().reconnects}`,
  )
  expect(received).toBe(TOTAL)
  expect(outOfOrder).toBe(0)
  expect(heap).toHaveLength(CHECKPOINTS)
  // A leak of even 8 bytes per event would add 4 MiB over the second half.
  expect(growth).toBeLessThan(4)
  expect(Math.max(...heap.map((h) => h.mib)) - baseline).toBeLessThan(32)
}, 180_000)
