// Server load: how many open streams ONE hub process holds with 15 s heartbeats while it fans out
// 100 events/s, what each stream costs in memory, and the publish → delivery latency.
//
// Processes, loopback only (127.0.0.0/8):
// - the hub: `createEventHub({ ping: 15, rotateAfter: 0 })` from the built package behind one
//   `node:http` server on 127.0.0.1, port 0, alone in its process (`--hub`, run with --expose-gc),
//   which also publishes, in-process, as an app would. A fresh hub process per step, so every
//   step's RSS starts from the same baseline;
// - `--workers` load generators (bench/support/sse-load.mjs): plain `node:http` GETs of
//   `?mode=stream`, one socket each, each worker from its own 127.0.x.y source address per step
//   so ephemeral ports in TIME_WAIT never run out;
// - this orchestrator, which only sends commands over IPC and prints.
//
// Fan-out step (N streams): the hub's heap (after GC) and RSS are read, N streams open (each
// counted once its `_canary` arrived and the hub reports N open), memory is read again → bytes per
// stream. The hub then publishes `rate × duration` events on an absolute schedule (stopping after
// twice the planned time if it cannot keep up), each with `data: <n> <publish time>`; the workers
// record arrival − publish time per stream and event (0.1 ms histogram) and check that every stream
// got 1…E exactly once and in order. A step passes when every stream is complete, p99 < 1 s and
// the hub managed ≥ 95 % of the rate. After the fixed sizes, the ramp tries sizes between the
// largest fixed size that passed and the smallest that failed, upwards, until one fails.
//
// Idle step: as many streams as the file-descriptor limit allows (`--idle`), no events: every
// stream must get its 15 s `_ping` and stay open; reports memory per stream and the hub's CPU.
//
// `--flush=N` creates the hub with `flushInterval: N` (write coalescing: each stream's live events
// go out as one write at most every N ms); the default 0 writes every event at once.
//
// Usage: npm run build && node bench/server-load.mjs [--sizes=1000,5000] [--ramp=250,500,…]
//   [--rate=100] [--duration=10] [--workers=2] [--idle=max|N|0] [--flush=0] [--dist=dist]
import { fork, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import os from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { histogramQuantile, mergeHistograms } from './support/sse-load.mjs'
import { formatMs, table } from './support/stats.mjs'
import { benchArgs, preciseNow } from './support/cli.mjs'

const P99_LIMIT_MS = 1000
/** File descriptors kept free in each process beyond the sockets (stdio, IPC, libuv, listener). */
const FD_MARGIN = 200

if (process.argv.includes('--hub')) await runHub()
else await main()

async function main() {
  const args = benchArgs()
  const sizes = (args.sizes ?? '1000,5000').split(',').filter(Boolean).map(Number)
  const rate = Number(args.rate ?? 100)
  const duration = Number(args.duration ?? 10)
  const workerCount = Number(args.workers ?? 2)
  const flushInterval = Number(args.flush ?? 0)
  const root = fileURLToPath(new URL('../', import.meta.url))
  const entry = `${root}${args.dist ?? 'dist'}/server/index.js`
  if (!existsSync(entry)) {
    console.error(`${entry} is missing: build the package first (npm run build).`)
    process.exit(1)
  }

  // Each open stream is one socket in the hub (and one in a worker): the hub process's
  // RLIMIT_NOFILE bounds what it can hold, whatever its CPU and memory.
  const shell = (command) => spawnSync('sh', ['-c', command], { encoding: 'utf8' }).stdout.trim()
  const fdLimit = Number(shell('ulimit -n'))
  const maxStreams = Number.isFinite(fdLimit) ? fdLimit - FD_MARGIN : 1_000_000
  const tooMany = sizes.filter((size) => size > maxStreams)
  if (tooMany.length > 0 || maxStreams < 1000) {
    console.error(
      `ulimit -n is ${fdLimit}: the hub can hold at most ${maxStreams} streams, fewer than ${tooMany.join(', ') || 1000}. ` +
        `Raise it in the shell first (ulimit -n 65536; the hard limit here is ${shell('ulimit -Hn')}).`,
    )
    process.exit(1)
  }
  const rampAsked = (args.ramp ?? '250,500,750,1500,2000,2500,3000,4000,6000,8000,10000,15000,20000').split(',').filter(Boolean).map(Number)
  const ramp = [...new Set(rampAsked.map((size) => Math.min(size, maxStreams)))].filter((size) => !sizes.includes(size)).sort((a, b) => a - b)
  const idle = args.idle === undefined || args.idle === 'max' ? maxStreams : Math.min(Number(args.idle), maxStreams)

  let hub
  const workers = Array.from({ length: workerCount }, () =>
    fork(fileURLToPath(new URL('./support/sse-load.mjs', import.meta.url)), ['--sse-load'], { stdio: 'inherit' }),
  )
  const stop = () => {
    for (const child of [hub, ...workers]) child?.kill()
  }
  // A fresh hub process per step, so its RSS starts from the same baseline (RSS rarely shrinks).
  const startHub = async () => {
    hub?.kill()
    hub = fork(fileURLToPath(import.meta.url), ['--hub', entry, String(flushInterval)], { execArgv: ['--expose-gc'], stdio: 'inherit' })
    const { port } = await new Promise((resolve, reject) => {
      hub.once('message', resolve)
      hub.once('exit', (code) => reject(new Error(`hub process exited with ${code}`)))
    })
    return `http://127.0.0.1:${port}/events?mode=stream`
  }
  process.on('SIGINT', () => {
    stop()
    process.exit(130)
  })
  // The whole run is bounded: a stuck step cannot keep the processes alive.
  const watchdog = setTimeout(() => {
    console.error('server-load: gave up after 30 minutes')
    stop()
    process.exit(1)
  }, 30 * 60_000)
  watchdog.unref()

  const rows = []
  const failures = []
  let step = 0
  let holds = 0
  let firstFailure
  let idleResult
  const loadAverages = []
  try {
    const run = async (size, kind) => {
      step += 1
      loadAverages.push(os.loadavg()[0])
      const url = await startHub()
      const result = await measure({ hub, workers, url, size, rate, duration, step })
      // The publisher shares the hub's event loop: a hub that cannot flush the fan-out in time
      // publishes late, which shows as a rate below the target, not as latency.
      const passed = result.complete && result.p99 < P99_LIMIT_MS && result.rate >= rate * 0.95
      rows.push([
        kind,
        size.toLocaleString('en'),
        `${(result.openMs / 1000).toFixed(1)} s`,
        `${result.good.toLocaleString('en')}/${size.toLocaleString('en')}`,
        `${result.deliveries.toLocaleString('en')}/${(size * result.events).toLocaleString('en')}`,
        result.rate.toFixed(0),
        formatMs(result.p50),
        formatMs(result.p99),
        formatMs(result.max),
        (result.heapPerStream / 1024).toFixed(1),
        (result.rssPerStream / 1024).toFixed(1),
        ((result.hubRss / 1024 / 1024) | 0).toLocaleString('en'),
        `${result.hubCpu.toFixed(0)} %`,
        Number.isFinite(result.hubWait) ? `${result.hubWait.toFixed(0)} %` : 'n/a',
        result.hubMicros.toFixed(1),
        `${result.loadCpu.toFixed(0)} %`,
        passed ? 'yes' : 'no',
      ])
      for (const failure of result.failures) failures.push(`${size} streams: ${failure}`)
      console.error(`  step ${step}: ${size} streams, ${result.rate.toFixed(0)} ev/s, p99 ${formatMs(result.p99)} ms, ${result.good}/${size} complete${passed ? '' : ' — FAILED'}`)
      if (passed) holds = Math.max(holds, size)
      else firstFailure = Math.min(firstFailure ?? size, size)
      return passed
    }
    for (const size of sizes) await run(size, 'fixed')
    // The ramp searches between the largest fixed size that passed and the smallest that failed,
    // upwards, and stops at its first failure.
    const floor = holds
    const ceiling = firstFailure ?? Number.POSITIVE_INFINITY
    for (const size of ramp.filter((each) => each > floor && each < ceiling)) {
      if (!(await run(size, 'ramp'))) break
    }
    if (idle > 0) {
      step += 1
      loadAverages.push(os.loadavg()[0])
      const url = await startHub()
      idleResult = await measureIdle({ hub, workers, url, size: idle, step })
      console.error(`  step ${step}: ${idle} idle streams, ${idleResult.pinged}/${idle} got a _ping`)
    }
  } finally {
    await Promise.all(workers.map((worker) => ask(worker, { type: 'close' }).catch(() => {})))
    stop()
    clearTimeout(watchdog)
  }

  const flushNote = flushInterval > 0 ? `, flushInterval ${flushInterval} ms` : ''
  console.log(`resilient-sse/server: one hub process (ping 15 s${flushNote}), ${rate} events/s fanned out to every stream for ${duration} s per step, loopback`)
  console.log(
    `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}) shared by the hub and ${workerCount} load-generator processes; ` +
      `1-min load average ${Math.min(...loadAverages).toFixed(1)}–${Math.max(...loadAverages).toFixed(1)} at the steps; Node ${process.version}; ulimit -n ${fdLimit}\n`,
  )
  console.log(
    table(
      ['step', 'streams', 'open', 'complete', 'deliveries', 'ev/s', 'p50 ms', 'p99 ms', 'max ms', 'heap KB/stream', 'rss KB/stream', 'hub rss MB', 'hub cpu', 'hub waited', 'hub µs/delivery', 'load cpu', 'pass'],
      rows,
    ),
  )
  console.log(
    '\ncomplete = streams that got every event exactly once, in order; ev/s = rate the hub managed to publish;\n' +
      'cpu = % of one core during the publish window; hub waited = share of that window the hub was ready to run\n' +
      'but waited for a CPU taken by other processes (co-tenants, load generators); hub µs/delivery = hub CPU time / deliveries.',
  )
  console.log(
    `\nWith fan-out: holds ${holds.toLocaleString('en')} streams (every event delivered in order, p99 < ${P99_LIMIT_MS} ms, ≥ ${rate * 0.95} ev/s)` +
      (firstFailure !== undefined ? `; ${firstFailure.toLocaleString('en')} failed.` : holds >= maxStreams ? ` — the file-descriptor limit (ulimit -n ${fdLimit}).` : '.'),
  )
  if (idleResult !== undefined) {
    console.log(
      `Idle (heartbeats only): ${idleResult.held.toLocaleString('en')} streams held${idle >= maxStreams ? ` (the file-descriptor limit, ulimit -n ${fdLimit})` : ''}, ` +
        `${idleResult.pinged.toLocaleString('en')} got their 15 s _ping, ${idleResult.ended} dropped; opened in ${(idleResult.openMs / 1000).toFixed(1)} s; ` +
        `heap ${(idleResult.heapPerStream / 1024).toFixed(1)} KB and RSS ${(idleResult.rssPerStream / 1024).toFixed(1)} KB per stream, hub RSS ${(idleResult.hubRss / 1024 / 1024).toFixed(0)} MB; ` +
        `hub CPU ${idleResult.hubCpu.toFixed(1)} % of a core while idle.`,
    )
  }
  if (failures.length > 0) {
    console.log(`\nDelivery failures (first ${Math.min(failures.length, 20)} of ${failures.length}):`)
    for (const failure of failures.slice(0, 20)) console.log(`  ${failure}`)
  }
  // Latency over the bound is a capacity finding; a lost, repeated or reordered event is a bug.
  const idleBroken = idleResult !== undefined && (idleResult.opened < idle || idleResult.pinged < idle || idleResult.ended > 0)
  if (failures.length > 0 || idleBroken) process.exitCode = 1
}

async function openStreams({ hub, workers, url, size, step }) {
  await Promise.all(workers.map((worker) => ask(worker, { type: 'close' })))
  await ask(hub, { type: 'wait-streams', count: 0, timeout: 30_000 })
  const before = await ask(hub, { type: 'memory' })
  const shares = workers.map((_, index) => Math.floor(size / workers.length) + (index < size % workers.length ? 1 : 0))
  const started = performance.now()
  const opened = await Promise.all(
    workers.map((worker, index) =>
      // A fresh source address per step and worker: the previous step's ports may sit in TIME_WAIT.
      ask(worker, { type: 'open', url, count: shares[index], localAddress: `127.0.${1 + (step % 250)}.${2 + index}` }),
    ),
  )
  const openMs = performance.now() - started
  const count = opened.reduce((sum, each) => sum + each.opened, 0)
  for (const each of opened) if (each.failed > 0) console.error(`  ${each.failed} streams failed to open: ${each.errors.join('; ')}`)
  const held = await ask(hub, { type: 'wait-streams', count, timeout: 30_000 })
  const after = await ask(hub, { type: 'memory' })
  return {
    opened: count,
    held: held.streams,
    openMs,
    heapPerStream: (after.heapUsed - before.heapUsed) / size,
    rssPerStream: (after.rss - before.rss) / size,
    hubRss: after.rss,
  }
}

async function measure({ hub, workers, url, size, rate, duration, step }) {
  const open = await openStreams({ hub, workers, url, size, step })
  // Bounded: a hub that cannot keep up stops publishing after twice the planned time.
  const published = await ask(hub, { type: 'publish', events: Math.round(rate * duration), rate, maxMs: 2 * duration * 1000 })
  const events = published.events
  const collected = await Promise.all(workers.map((worker) => ask(worker, { type: 'collect', events, timeout: 15_000 })))
  const histogram = mergeHistograms(collected.map((each) => each.histogram))
  const deliveries = collected.reduce((sum, each) => sum + each.deliveries, 0)
  const loadCpuMs = collected.reduce((sum, each) => sum + each.cpuMs, 0)
  const loadWallMs = Math.max(...collected.map((each) => each.wallMs))
  return {
    ...open,
    events,
    good: collected.reduce((sum, each) => sum + each.good, 0),
    complete: open.opened === size && collected.every((each) => each.failureCount === 0),
    failures: [...(open.opened < size ? [`${size - open.opened} streams never opened`] : []), ...collected.flatMap((each) => each.failures)],
    deliveries,
    p50: histogramQuantile(histogram, 0.5),
    p99: histogramQuantile(histogram, 0.99),
    max: Math.max(...collected.map((each) => each.max)),
    hubCpu: (published.cpuMs / published.wallMs) * 100,
    hubWait: (published.waitMs / published.wallMs) * 100,
    hubMicros: (published.cpuMs * 1000) / Math.max(1, deliveries),
    loadCpu: (loadCpuMs / loadWallMs) * 100,
    rate: published.rate,
  }
}

async function measureIdle({ hub, workers, url, size, step }) {
  const open = await openStreams({ hub, workers, url, size, step })
  const cpu = await ask(hub, { type: 'cpu' })
  // The hub pings a stream 15 s after its last write (the canary here): wait for one round.
  const pinged = await Promise.all(workers.map((worker) => ask(worker, { type: 'wait-pings', timeout: 40_000 })))
  const cpuAfter = await ask(hub, { type: 'cpu' })
  return {
    ...open,
    pinged: pinged.reduce((sum, each) => sum + each.pinged, 0),
    ended: pinged.reduce((sum, each) => sum + each.ended, 0),
    hubCpu: ((cpuAfter.cpuMs - cpu.cpuMs) / (cpuAfter.at - cpu.at)) * 100,
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

/**
 * Time the main thread (the event loop) spent ready to run but waiting for a CPU, in ms (Linux
 * `/proc/thread-self/schedstat`, second field); `NaN` elsewhere. It shows how much of a step's
 * latency came from other processes on a shared machine.
 */
function runQueueMs() {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[1]) / 1e6
  } catch {
    return Number.NaN
  }
}

async function runHub() {
  const entry = process.argv[process.argv.indexOf('--hub') + 1]
  const flushInterval = Number(process.argv[process.argv.indexOf('--hub') + 2] ?? 0)
  const { createEventHub } = await import(pathToFileURL(entry).href)
  // 15 s heartbeats (the default, spelled out); no rotation, so a step's streams stay put.
  const hub = createEventHub({ ping: 15, rotateAfter: 0, flushInterval })
  const server = createServer((req, res) => void hub.handle(req, res))
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))

  process.on('disconnect', () => process.exit(0))
  process.send({ type: 'ready', port: server.address().port })
  process.on('message', async (message) => {
    if (message.type === 'memory') {
      globalThis.gc?.()
      globalThis.gc?.()
      const usage = process.memoryUsage()
      process.send({ rss: usage.rss, heapUsed: usage.heapUsed })
    } else if (message.type === 'cpu') {
      const usage = process.cpuUsage()
      process.send({ cpuMs: (usage.user + usage.system) / 1000, at: performance.now() })
    } else if (message.type === 'wait-streams') {
      const deadline = performance.now() + message.timeout
      while (hub.stats().connections.stream !== message.count && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      process.send({ streams: hub.stats().connections.stream })
    } else if (message.type === 'publish') {
      const cpu = process.cpuUsage()
      const queued = runQueueMs()
      const started = performance.now()
      let lag = 0
      let lastAt = 0
      let n = 1
      for (; n <= message.events && performance.now() - started < message.maxMs; n += 1) {
        // Absolute schedule: a slow fan-out delays the next publish but does not lower the rate.
        const due = started + ((n - 1) * 1000) / message.rate
        const wait = due - performance.now()
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        else lag = Math.max(lag, -wait)
        lastAt = performance.now() - started
        await hub.publish({ data: `${n} ${preciseNow()}` })
      }
      // Fan-out writes are flushed on the next tick (coalesced ones after flushInterval): count them in.
      if (flushInterval > 0) await new Promise((resolve) => setTimeout(resolve, flushInterval + 1))
      await new Promise((resolve) => setImmediate(resolve))
      const used = process.cpuUsage(cpu)
      process.send({
        wallMs: performance.now() - started,
        cpuMs: (used.user + used.system) / 1000,
        events: n - 1,
        waitMs: runQueueMs() - queued,
        lagMs: lag,
        rate: ((n - 2) * 1000) / lastAt,
      })
    }
  })
}
