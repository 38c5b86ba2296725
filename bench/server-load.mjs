// Server load: how many open streams ONE hub process holds with 15 s heartbeats while it fans out
// 100 events/s, what each stream costs in memory, and the publish → delivery latency.
//
// Three processes kinds, loopback only (127.0.0.0/8):
// - the hub: `createEventHub({ ping: 15, rotateAfter: 0 })` from the built package behind one
//   `node:http` server on 127.0.0.1, port 0, in its own process (`--hub`, run with --expose-gc);
//   it also publishes, in-process, as an app would;
// - `--workers` load generators (bench/support/sse-load.mjs): plain `node:http` GETs of
//   `?mode=stream`, one socket each, each worker from its own 127.0.0.x source address so
//   ephemeral ports never run out between steps;
// - this orchestrator, which only sends commands and prints.
//
// Per step (N streams): every earlier stream is closed, the hub's heap (after GC) and RSS are read,
// N streams open (each counted once its `_canary` arrived and the hub reports N open), memory is
// read again → bytes per stream. Then the hub publishes `rate × duration` events, paced on an
// absolute schedule, each with `data: <n> <publish time>`; the workers record, per stream and
// event, arrival − publish time, and check that every stream got 1…E exactly once and in order.
// A step passes when every stream got every event in order and p99 < 1 s. After the fixed sizes
// the ramp grows N until a step fails or the file-descriptor limit is reached; the hub "holds"
// the largest passing N.
//
// Usage: npm run build && node bench/server-load.mjs [--sizes=1000,5000] [--ramp=2000,3000,…]
//   [--rate=100] [--duration=10] [--workers=2] [--dist=dist]
import { fork, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import os from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { histogramQuantile, mergeHistograms } from './support/sse-load.mjs'
import { formatMs, table } from './support/stats.mjs'

const preciseNow = () => performance.timeOrigin + performance.now()
const P99_LIMIT_MS = 1000
/** File descriptors kept free in each process beyond the sockets (stdio, IPC, libuv, listener). */
const FD_MARGIN = 200

if (process.argv.includes('--hub')) await runHub()
else await main()

async function main() {
  const args = Object.fromEntries(
    process.argv
      .slice(2)
      .filter((arg) => arg.startsWith('--'))
      .map((arg) => arg.slice(2).split('=')),
  )
  const sizes = (args.sizes ?? '1000,5000').split(',').filter(Boolean).map(Number)
  const rate = Number(args.rate ?? 100)
  const duration = Number(args.duration ?? 10)
  const workerCount = Number(args.workers ?? 2)
  const root = fileURLToPath(new URL('../', import.meta.url))
  const entry = `${root}${args.dist ?? 'dist'}/server/index.js`
  if (!existsSync(entry)) {
    console.error(`${entry} is missing: build the package first (npm run build).`)
    process.exit(1)
  }

  // Each open stream is one socket in the hub (and one in a worker): the hub process's
  // RLIMIT_NOFILE bounds what it can hold, whatever its CPU and memory.
  const fdLimit = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim())
  const maxStreams = Number.isFinite(fdLimit) ? fdLimit - FD_MARGIN : Number.POSITIVE_INFINITY
  const tooMany = sizes.filter((size) => size > maxStreams)
  if (tooMany.length > 0 || maxStreams < 1000) {
    console.error(
      `ulimit -n is ${fdLimit}: the hub can hold at most ${maxStreams} streams, fewer than ${tooMany.join(', ') || 1000}. ` +
        `Raise it in the shell first (ulimit -n 65536; the hard limit is ${spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim()}).`,
    )
    process.exit(1)
  }
  const rampAsked = (args.ramp ?? '2000,3000,4000,6000,8000,10000,12500,15000,20000,25000').split(',').filter(Boolean).map(Number)
  const ramp = [...new Set([...rampAsked.filter((size) => size < maxStreams), ...(rampAsked.some((size) => size >= maxStreams) ? [maxStreams] : [])])]
    .filter((size) => !sizes.includes(size))
    .sort((a, b) => a - b)

  const hub = fork(fileURLToPath(import.meta.url), ['--hub', entry], { execArgv: ['--expose-gc'], stdio: 'inherit' })
  const workers = Array.from({ length: workerCount }, () =>
    fork(fileURLToPath(new URL('./support/sse-load.mjs', import.meta.url)), ['--sse-load'], { stdio: 'inherit' }),
  )
  const stop = () => {
    for (const child of [hub, ...workers]) child.kill()
  }
  process.on('SIGINT', () => {
    stop()
    process.exit(130)
  })
  // The whole run is bounded: a stuck step cannot keep the processes alive.
  const watchdog = setTimeout(() => {
    console.error('server-load: gave up after 20 minutes')
    stop()
    process.exit(1)
  }, 20 * 60_000)
  watchdog.unref()

  const rows = []
  const failures = []
  let step = 0
  let holds = 0
  let firstFailure
  try {
    const { port } = await ask(hub, { type: 'ready' })
    const url = `http://127.0.0.1:${port}/events?mode=stream`
    const run = async (size, kind) => {
      step += 1
      const result = await measure({ hub, workers, url, size, rate, duration, step })
      // The publisher shares the hub's event loop: a hub that cannot flush the fan-out in time
      // publishes late, which shows as a rate below the target, not as latency.
      const passed = result.complete && result.p99 < P99_LIMIT_MS && result.rate >= rate * 0.95
      rows.push([
        kind,
        size.toLocaleString('en'),
        `${result.opened.toLocaleString('en')} in ${(result.openMs / 1000).toFixed(1)} s`,
        `${result.good.toLocaleString('en')}/${size.toLocaleString('en')}`,
        `${result.deliveries.toLocaleString('en')}/${(size * result.events).toLocaleString('en')}`,
        formatMs(result.p50),
        formatMs(result.p99),
        formatMs(result.max),
        (result.heapPerStream / 1024).toFixed(1),
        (result.rssPerStream / 1024).toFixed(1),
        `${((result.hubRss / 1024 / 1024) | 0).toLocaleString('en')}`,
        `${result.hubCpu.toFixed(0)} %`,
        `${result.loadCpu.toFixed(0)} %`,
        result.rate.toFixed(0),
        passed ? 'yes' : 'no',
      ])
      for (const failure of result.failures) failures.push(`${size} streams: ${failure}`)
      console.error(`  step ${step}: ${size} streams, p99 ${formatMs(result.p99)} ms, ${result.good}/${size} complete${passed ? '' : ' — FAILED'}`)
      if (passed) holds = Math.max(holds, size)
      else firstFailure ??= size
      return passed
    }
    for (const size of sizes) await run(size, 'fixed')
    for (const size of ramp) {
      if (firstFailure !== undefined && size > firstFailure) break
      if (!(await run(size, 'ramp'))) break
    }
  } finally {
    await Promise.all(workers.map((worker) => ask(worker, { type: 'close' }).catch(() => {})))
    stop()
    clearTimeout(watchdog)
  }

  const limitNote = holds >= maxStreams ? ` (the file-descriptor limit, ulimit -n ${fdLimit}, not CPU or latency)` : ''
  console.log(
    `resilient-sse/server: one hub process, ${rate} events/s fanned out to every stream for ${duration} s per step, ping 15 s, loopback`,
  )
  console.log(
    `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}) shared by the hub and ${workerCount} load-generator processes, ` +
      `load average ${os.loadavg().map((load) => load.toFixed(1)).join(' ')}, Node ${process.version}, ulimit -n ${fdLimit}\n`,
  )
  console.log(
    table(
      ['step', 'streams', 'opened', 'complete', 'deliveries', 'p50 ms', 'p99 ms', 'max ms', 'heap KB/stream', 'rss KB/stream', 'hub rss MB', 'hub cpu', 'load cpu', 'ev/s sent', 'pass'],
      rows,
    ),
  )
  console.log(
    `\nHolds: ${holds.toLocaleString('en')} streams with every event delivered in order and p99 < ${P99_LIMIT_MS} ms${limitNote}` +
      (firstFailure !== undefined ? `; ${firstFailure.toLocaleString('en')} failed.` : '.'),
  )
  console.log('complete = streams that got every event exactly once, in order; cpu = % of one core during the publish window.')
  if (failures.length > 0) {
    console.log(`\nFailures (first ${Math.min(failures.length, 20)}):`)
    for (const failure of failures.slice(0, 20)) console.log(`  ${failure}`)
  }
  process.exitCode = rows.slice(0, sizes.length).every((row) => row.at(-1) === 'yes') ? 0 : 1
}

async function measure({ hub, workers, url, size, rate, duration, step }) {
  const events = Math.round(rate * duration)
  await Promise.all(workers.map((worker) => ask(worker, { type: 'close' })))
  await ask(hub, { type: 'wait-streams', count: 0, timeout: 30_000 })
  const before = await ask(hub, { type: 'memory' })
  const shares = workers.map((_, index) => Math.floor(size / workers.length) + (index < size % workers.length ? 1 : 0))
  const openStarted = performance.now()
  const opened = await Promise.all(
    workers.map((worker, index) =>
      // A fresh source address per step and worker: the previous step's ports may sit in TIME_WAIT.
      ask(worker, { type: 'open', url, count: shares[index], localAddress: `127.0.${1 + (step % 250)}.${2 + index}` }),
    ),
  )
  const openMs = performance.now() - openStarted
  const openedCount = opened.reduce((sum, each) => sum + each.opened, 0)
  for (const each of opened) if (each.failed > 0) console.error(`  ${each.failed} streams failed to open: ${each.errors.join('; ')}`)
  const held = await ask(hub, { type: 'wait-streams', count: openedCount, timeout: 30_000 })
  const after = await ask(hub, { type: 'memory' })
  const published = await ask(hub, { type: 'publish', events, rate })
  const collected = await Promise.all(workers.map((worker) => ask(worker, { type: 'collect', events, timeout: 15_000 })))
  const histogram = mergeHistograms(collected.map((each) => each.histogram))
  const loadCpuMs = collected.reduce((sum, each) => sum + each.cpuMs, 0)
  const loadWallMs = Math.max(...collected.map((each) => each.wallMs))
  return {
    events,
    opened: openedCount,
    openMs,
    held: held.streams,
    good: collected.reduce((sum, each) => sum + each.good, 0),
    complete: openedCount === size && collected.every((each) => each.failureCount === 0),
    failures: [
      ...(openedCount < size ? [`${size - openedCount} streams never opened`] : []),
      ...collected.flatMap((each) => each.failures),
    ],
    deliveries: collected.reduce((sum, each) => sum + each.deliveries, 0),
    p50: histogramQuantile(histogram, 0.5),
    p99: histogramQuantile(histogram, 0.99),
    max: Math.max(...collected.map((each) => each.max)),
    heapPerStream: (after.heapUsed - before.heapUsed) / size,
    rssPerStream: (after.rss - before.rss) / size,
    hubRss: after.rss,
    hubCpu: (published.cpuMs / published.wallMs) * 100,
    loadCpu: (loadCpuMs / loadWallMs) * 100,
    lagMs: published.lagMs,
    rate: published.rate,
  }
}

/** Sends one command and resolves with the child's next message. */
function ask(child, message) {
  return new Promise((resolve, reject) => {
    const onMessage = (reply) => {
      child.off('exit', onExit)
      resolve(reply)
    }
    const onExit = (code) => {
      child.off('message', onMessage)
      reject(new Error(`child process exited with ${code}`))
    }
    child.once('message', onMessage)
    child.once('exit', onExit)
    child.send(message)
  })
}

// ---- hub process ---------------------------------------------------------------------------

async function runHub() {
  const entry = process.argv[process.argv.indexOf('--hub') + 1]
  const { createEventHub } = await import(pathToFileURL(entry).href)
  // 15 s heartbeats (the default, spelled out); no rotation, so a step's streams stay put.
  const hub = createEventHub({ ping: 15, rotateAfter: 0 })
  const server = createServer((req, res) => void hub.handle(req, res))
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))

  process.on('disconnect', () => process.exit(0))
  process.on('message', async (message) => {
    if (message.type === 'ready') process.send({ port: server.address().port })
    else if (message.type === 'memory') {
      globalThis.gc?.()
      globalThis.gc?.()
      const usage = process.memoryUsage()
      process.send({ rss: usage.rss, heapUsed: usage.heapUsed })
    } else if (message.type === 'wait-streams') {
      const deadline = performance.now() + message.timeout
      while (hub.stats().connections.stream !== message.count && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      process.send({ streams: hub.stats().connections.stream })
    } else if (message.type === 'publish') {
      const cpu = process.cpuUsage()
      const started = performance.now()
      let lag = 0
      let lastAt = 0
      for (let n = 1; n <= message.events; n += 1) {
        // Absolute schedule: a slow fan-out delays the next publish but does not lower the rate.
        const due = started + ((n - 1) * 1000) / message.rate
        const wait = due - performance.now()
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        else lag = Math.max(lag, -wait)
        lastAt = performance.now() - started
        await hub.publish({ data: `${n} ${preciseNow()}` })
      }
      // Fan-out writes are flushed on the next tick: count them in.
      await new Promise((resolve) => setImmediate(resolve))
      const used = process.cpuUsage(cpu)
      process.send({
        wallMs: performance.now() - started,
        cpuMs: (used.user + used.system) / 1000,
        lagMs: lag,
        rate: ((message.events - 1) * 1000) / lastAt,
      })
    }
  })
}
