// Publish → delivery latency through the Redis Streams store vs the in-memory store, for 1, 100
// and 1,000 open streams on one hub, and memory per open stream.
//
// The hub runs in this process; the readers run in a child process (raw `node:http` readers of
// `mode=stream`, one socket each), so the hub's memory is measured without them. Each event's data
// carries its publish time (`performance.timeOrigin + performance.now()`, same machine, both
// processes); latency = arrival in the reader − publish time, per stream and event. Publishing is
// paced (`--rate`), so this is latency, not throughput. With Redis the path is
// XADD (Lua) → XREAD BLOCK on the store's one reader connection → hub fan-out.
//
// Memory per stream: the hub process's heap (after GC) and RSS before and after the streams
// opened, divided by their number; the same for both stores (the store keeps nothing per stream).
//
// Usage: npx tsup && node --expose-gc bench/redis.mjs [--sizes=1,100,1000] [--events=50] [--rate=20] [--dist=dist]
//   needs /usr/bin/redis-server (apt-get install -y redis-server); it is started on a free port.
import { fork, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, get } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import os from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { formatMs, quantile, table } from './support/stats.mjs'
import { benchArgs, onEventBlocks, preciseNow } from './support/cli.mjs'

if (process.argv.includes('--reader')) await runReaders()
else await main()

async function main() {
  const args = benchArgs()
  const sizes = (args.sizes ?? '1,100,1000').split(',').map(Number)
  const events = Number(args.events ?? 50)
  const rate = Number(args.rate ?? 20)
  const root = fileURLToPath(new URL('../', import.meta.url))
  const entry = `${root}${args.dist ?? 'dist'}/server/index.js`
  if (!existsSync(entry)) {
    console.error(`${entry} is missing: build the package first (npx tsup).`)
    process.exit(1)
  }
  if (!existsSync('/usr/bin/redis-server')) {
    console.error('/usr/bin/redis-server is missing: apt-get update && apt-get install -y redis-server')
    process.exit(1)
  }
  if (typeof globalThis.gc !== 'function') console.warn('(run with node --expose-gc for steadier memory figures)')
  const { createEventHub, RedisStreamStore } = await import(pathToFileURL(entry).href)
  const redis = await startRedisServer()
  const readers = fork(fileURLToPath(import.meta.url), ['--reader'], { stdio: 'inherit' })
  const rows = []
  try {
    // Stores alternate within each size, so load drifting on a shared machine hits both alike.
    for (const size of sizes) {
      for (const storeName of ['memory', 'redis']) {
        const store = storeName === 'redis' ? new RedisStreamStore({ url: redis.url, key: `bench:${size}:${Date.now()}` }) : undefined
        if (store !== undefined) await store.ready()
        const hub = createEventHub({ store, rotateAfter: 0, ping: 30 })
        const server = createServer((req, res) => void hub.handle(req, res))
        await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
        const url = `http://127.0.0.1:${server.address().port}/events?mode=stream`
        // Warm up the path (Lua scripts cached, reader loop running) before measuring.
        await hub.publish({ data: '{}' })
        const before = memory()
        await ask(readers, { type: 'open', url, size })
        const after = memory()
        for (let index = 0; index < events; index += 1) {
          await hub.publish({ data: JSON.stringify({ t: preciseNow() }) })
          await new Promise((resolve) => setTimeout(resolve, 1000 / rate))
        }
        const { latencies, received } = await ask(readers, { type: 'collect', expected: events * size })
        rows.push([
          storeName,
          String(size),
          `${received}/${events * size}`,
          formatMs(quantile(latencies, 0.5)),
          formatMs(quantile(latencies, 0.99)),
          formatMs(Math.max(...latencies)),
          // One stream's share is below the noise of a GC: report memory from 100 streams up.
          size >= 100 ? ((after.heap - before.heap) / size / 1024).toFixed(1) : '-',
          size >= 100 ? ((after.rss - before.rss) / size / 1024).toFixed(1) : '-',
        ])
        await hub.close({ timeout: 500 })
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
        await store?.close()
      }
    }
  } finally {
    readers.kill()
    await redis.stop()
  }
  console.log(`resilient-sse/server: memory vs Redis Streams store — ${events} events at ${rate}/s per run`)
  console.log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg().map((load) => load.toFixed(1)).join(' ')}, Node ${process.version}, ${redis.version}\n`)
  console.log(table(['store', 'streams', 'delivered', 'p50 ms', 'p99 ms', 'max ms', 'heap KB/stream', 'rss KB/stream'], rows))
}

function memory() {
  globalThis.gc?.()
  const usage = process.memoryUsage()
  return { heap: usage.heapUsed, rss: usage.rss }
}

function ask(child, message) {
  return new Promise((resolve, reject) => {
    const onMessage = (reply) => {
      child.off('exit', onExit)
      resolve(reply)
    }
    const onExit = (code) => reject(new Error(`reader process exited with ${code}`))
    child.once('message', onMessage)
    child.once('exit', onExit)
    child.send(message)
  })
}

// ---- reader process ------------------------------------------------------------------------

async function runReaders() {
  let streams = []
  let latencies = []
  let received = 0
  process.on('message', async (message) => {
    if (message.type === 'open') {
      for (const stream of streams) stream.destroy()
      streams = []
      latencies = []
      received = 0
      const opened = []
      for (let index = 0; index < message.size; index += 1) opened.push(openReader(message.url))
      streams = await Promise.all(opened)
      process.send({ type: 'opened' })
    } else if (message.type === 'collect') {
      const deadline = Date.now() + 10_000
      while (received < message.expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      for (const stream of streams) stream.destroy()
      streams = []
      process.send({ latencies, received })
    }
  })

  function openReader(url) {
    return new Promise((resolve, reject) => {
      const request = get(url, { agent: false }, (response) => {
        let opened = false
        onEventBlocks(response, (block, now) => {
          if (!opened && block.includes('event: _canary')) {
            opened = true
            resolve(response)
          }
          const data = /^data: (\{"t":.*\})$/m.exec(block)
          if (data !== null) {
            latencies.push(now - JSON.parse(data[1]).t)
            received += 1
          }
        })
        response.on('error', () => {})
      })
      request.on('error', reject)
    })
  }
}

// ---- redis-server --------------------------------------------------------------------------

async function startRedisServer() {
  const port = await new Promise((resolve, reject) => {
    const probe = createNetServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address()
      probe.close(() => resolve(free))
    })
  })
  const child = spawn('/usr/bin/redis-server', ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let version = 'Redis'
  await new Promise((resolve, reject) => {
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
      const found = /Redis version=([\d.]+)/.exec(output)
      if (found !== null) version = `Redis ${found[1]}`
      if (output.includes('Ready to accept connections')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)))
  })
  return {
    url: `redis://127.0.0.1:${port}`,
    version,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', resolve)
        child.kill('SIGTERM')
      }),
  }
}
