// Load generator for the server-load bench and its CI check: a forked child that holds many
// `mode=stream` responses open with plain `node:http` clients (one socket each, no agent) and
// checks every delivery. Driven over IPC by its parent:
//
//   { type: 'open', url, count, localAddress?, concurrency? } → { type: 'opened', opened, failed, errors, ms }
//   { type: 'collect', events, timeout }                       → { type: 'collected', ...report }
//   { type: 'wait-pings', timeout }                             → { type: 'pinged', streams, pinged, ended }
//   { type: 'close' }                                           → { type: 'closed' }
//
// Published events carry `data: <n> <publish time>` with n = 1, 2, … per run and the publish time
// as `performance.timeOrigin + performance.now()` in the publisher (same machine). Each stream
// expects 1, 2, 3, … exactly once and in order; anything else is a failure, named in the report.
// Latency (arrival of the chunk − publish time) goes to a 0.1 ms histogram, so millions of
// deliveries cost a fixed 2.4 MB. Streams opened by `open` start live from the head: open them
// all before publishing.
import { get } from 'node:http'
import { onEventBlocks } from './cli.mjs'

/** Histogram resolution and range: 0.1 ms buckets up to 60 s (the last bucket holds the rest). */
export const BUCKET_MS = 0.1
export const BUCKETS = 600_001

/** Latency quantile (0–1) from sparse `[bucket, count]` pairs, in ms (bucket upper edge). */
export function histogramQuantile(pairs, q) {
  const total = pairs.reduce((sum, [, count]) => sum + count, 0)
  if (total === 0) return Number.NaN
  const rank = Math.max(1, Math.ceil(q * total))
  const sorted = [...pairs].sort((a, b) => a[0] - b[0])
  let seen = 0
  for (const [bucket, count] of sorted) {
    seen += count
    if (seen >= rank) return (bucket + 1) * BUCKET_MS
  }
  return (sorted.at(-1)[0] + 1) * BUCKET_MS
}

/** Sums sparse histograms. */
export function mergeHistograms(lists) {
  const merged = new Map()
  for (const pairs of lists) for (const [bucket, count] of pairs) merged.set(bucket, (merged.get(bucket) ?? 0) + count)
  return [...merged]
}

if (process.send !== undefined && process.argv.includes('--sse-load')) runLoad()

function runLoad() {
  /** @type {Set<ReturnType<typeof createReader>>} */
  let readers = new Set()
  let histogram = new Uint32Array(BUCKETS)
  let max = 0
  let deliveries = 0
  let cpuAtOpen = process.cpuUsage()
  let timeAtOpen = performance.now()

  process.on('message', async (message) => {
    if (message.type === 'open') {
      closeAll()
      histogram = new Uint32Array(BUCKETS)
      max = 0
      deliveries = 0
      const started = performance.now()
      const result = await openMany(message)
      cpuAtOpen = process.cpuUsage()
      timeAtOpen = performance.now()
      process.send({ type: 'opened', ...result, ms: performance.now() - started })
    } else if (message.type === 'collect') {
      const deadline = performance.now() + message.timeout
      const complete = () => [...readers].every((reader) => reader.next > message.events || reader.ended)
      while (!complete() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
      const cpu = process.cpuUsage(cpuAtOpen)
      const failures = []
      let failureCount = 0
      let good = 0
      for (const reader of readers) {
        const problems = [...reader.problems]
        if (reader.next !== message.events + 1) problems.push(`got ${reader.next - 1}/${message.events} events`)
        if (reader.ended) problems.push(`stream ended early (${reader.ended})`)
        if (problems.length === 0) good += 1
        else {
          failureCount += 1
          if (failures.length < 10) failures.push(`stream ${reader.index}: ${problems.slice(0, 3).join('; ')}`)
        }
      }
      const pairs = []
      for (let bucket = 0; bucket < BUCKETS; bucket += 1) if (histogram[bucket] !== 0) pairs.push([bucket, histogram[bucket]])
      process.send({
        type: 'collected',
        streams: readers.size,
        good,
        failureCount,
        failures,
        deliveries,
        histogram: pairs,
        max,
        cpuMs: (cpu.user + cpu.system) / 1000,
        wallMs: performance.now() - timeAtOpen,
        pings: [...readers].reduce((sum, reader) => sum + reader.pings, 0),
      })
    } else if (message.type === 'wait-pings') {
      // Idle streams: every one should see a `_ping` heartbeat (and stay open) within the timeout.
      const deadline = performance.now() + message.timeout
      const pinged = () => [...readers].filter((reader) => reader.pings > 0 && !reader.ended).length
      while (pinged() < readers.size && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
      process.send({
        type: 'pinged',
        streams: readers.size,
        pinged: pinged(),
        ended: [...readers].filter((reader) => reader.ended).length,
      })
    } else if (message.type === 'close') {
      closeAll()
      process.send({ type: 'closed' })
    }
  })

  function closeAll() {
    for (const reader of readers) reader.request.destroy()
    readers = new Set()
  }

  async function openMany({ url, count, localAddress, concurrency = 100 }) {
    let next = 0
    let opened = 0
    let failed = 0
    const errors = []
    const lane = async () => {
      while (next < count) {
        const index = next
        next += 1
        try {
          readers.add(await createReader(url, index, localAddress))
          opened += 1
        } catch (error) {
          failed += 1
          if (errors.length < 3) errors.push(String(error?.message ?? error))
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane))
    return { opened, failed, errors }
  }

  function record(latency) {
    deliveries += 1
    if (latency > max) max = latency
    const bucket = Math.min(BUCKETS - 1, Math.max(0, Math.floor(latency / BUCKET_MS)))
    histogram[bucket] += 1
  }

  /** Opens one stream; resolves once its `_canary` arrived (the hub holds it from then on). */
  function createReader(url, index, localAddress) {
    return new Promise((resolve, reject) => {
      const reader = { index, next: 1, problems: [], pings: 0, ended: '', request: undefined }
      const timer = setTimeout(() => {
        reader.request.destroy()
        reject(new Error('no _canary within 30 s'))
      }, 30_000)
      reader.request = get(url, { agent: false, localAddress }, (response) => {
        if (response.statusCode !== 200) {
          clearTimeout(timer)
          response.resume()
          return reject(new Error(`HTTP ${response.statusCode}`))
        }
        let opened = false
        onEventBlocks(response, (block, now) => {
          const data = block.indexOf('data: ')
          if (block.includes('event: _')) {
            if (block.includes('event: _canary')) {
              opened = true
              clearTimeout(timer)
              resolve(reader)
            } else if (block.includes('event: _ping')) reader.pings += 1
            else if (block.includes('event: _end')) reader.ended = block.slice(data + 6)
            else if (reader.problems.length < 5) reader.problems.push(`unexpected ${block.split('\n').join(' | ')}`)
            return
          }
          if (data === -1) return
          const line = block.slice(data + 6)
          const space = line.indexOf(' ')
          const n = Number(line.slice(0, space))
          record(now - Number(line.slice(space + 1)))
          if (n !== reader.next && reader.problems.length < 5) {
            const missing = n - 1 === reader.next ? `event ${reader.next} missing` : `events ${reader.next}–${n - 1} missing`
            reader.problems.push(n < reader.next ? `event ${n} again or late (expected ${reader.next})` : missing)
          }
          if (n >= reader.next) reader.next = n + 1
        })
        response.on('error', () => {})
        response.on('close', () => {
          if (!opened) {
            clearTimeout(timer)
            reject(new Error('closed before _canary'))
          } else if (reader.ended === '' && readers.has(reader)) reader.ended = 'socket closed'
        })
      })
      reader.request.on('error', (error) => {
        clearTimeout(timer)
        if (!opened) reject(error)
        else reader.ended ||= `socket error ${error.code ?? error.message}`
      })
    })
  }
}
