// The transport ladder in Chromium on loopback.
//
// 1. Delivery latency per transport: the ladder forced onto one rung (`transports: ['fetch']`
//    etc.), next to a plain native EventSource as the floor. Events are published at a steady
//    rate with the publish time in their data; latency = arrival in the page − publish time.
//    Both clocks are `performance.timeOrigin + performance.now()` on the same machine (the page
//    and Node read the same wall clock at sub-ms precision). A warm-up event that must arrive
//    first makes sure the connection is up before the measured events start. The events are
//    split into rounds that interleave the transports (fresh page and hub per round).
// 2. Time to first event behind a proxy that holds every response until it ends
//    (hold-until-close), with DEFAULT options, next to native EventSource through the same proxy:
//    native gets nothing until the response ends, which an event stream never does. Then the
//    same behind a real nginx that buffers (skipped when nginx is not installed): it holds the
//    response head as well, so the full 5 s canaryTimeout runs before the step-down. nginx does
//    release a held stream once its proxy buffer fills (a few KB), so native EventSource gets
//    its first events there after some seconds, in bursts (at the 10 events/s published here).
//
// The hub runs with its default options (ping 15 s, wait 25 s, batch burst 50 ms): the batch
// burst is why sse-close and long-poll latencies sit around 50 ms and above.
//
// Usage: npx tsup && node bench/ladder.mjs [--events=500] [--rate=50] [--runs=3] [--window=15] [--burst=50]
//   --events  measured events per transport (0 skips part 1)      --rate    events per second
//   --rounds  rounds the events are split into, transports interleaved within each round
//   --runs    time-to-first-event runs per client --window  seconds native EventSource is given
//   --burst   the hub's batch burst in ms (how long a held close/poll response waits for more
//             events after the first one); leave it out for the hub's default
import { rmSync } from 'node:fs'
import { cp, mkdtemp } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { launchBenchBrowser, openBenchPage, readLog, waitForLog } from './support/browser.mjs'
import { exitUnlessBuilt, REPO_ROOT as ROOT } from './support/cli.mjs'
import { startBufferingNginx } from './support/nginx.mjs'
import { formatMs, quantile, table } from './support/stats.mjs'

exitUnlessBuilt()
const { createEventHub } = await import('../dist/server/index.js')
// Serve a snapshot of dist, so a rebuild during the run (tsup empties dist first) cannot break it.
const DIST_SNAPSHOT = await mkdtemp(path.join(os.tmpdir(), 'resilient-sse-bench-dist-'))
await cp(path.join(ROOT, 'dist'), DIST_SNAPSHOT, { recursive: true })
process.on('exit', () => rmSync(DIST_SNAPSHOT, { recursive: true, force: true }))
const { startLadderApp, preciseNow } = await import('../test/browser/support/ladder-app.mjs')

function option(name, fallback) {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`))
  return arg ? Number(arg.slice(name.length + 3)) : fallback
}
const EVENTS = option('events', 500)
const RATE = option('rate', 50)
const RUNS = option('runs', 3)
const ROUNDS = option('rounds', 5)
const WINDOW_S = option('window', 15)
const BURST = option('burst', undefined)

/** Targets from the project brief. */
const TARGETS = {
  firstEventMs: 8000,
  p99: { eventsource: 5, fetch: 5, native: 5, 'sse-close': 50, 'long-poll': 50 },
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function withApp(browser, run, via = 'proxy') {
  const hub = createEventHub(BURST === undefined ? {} : { batch: { burst: BURST } })
  const app = await startLadderApp({ handler: (req, res) => hub.handle(req, res), distDir: DIST_SNAPSHOT })
  // `nginx`: a real buffering nginx in front of the app server instead of the simulated proxy.
  const nginx = via === 'nginx' ? await startBufferingNginx(app.origin) : undefined
  if (via === 'nginx' && !nginx) {
    await app.close()
    await hub.close({ timeout: 500 })
    return undefined
  }
  const { profile, page } = await openBenchPage(browser, `${nginx ? nginx.url : app.url}/`)
  try {
    return await run({ hub, app, page })
  } finally {
    await page.evaluate(() => window.__stop()).catch(() => {})
    await profile.close()
    await nginx?.close()
    await app.close()
    await hub.close({ timeout: 500 })
  }
}

/** Publishes `count` events at `rate`/s on a fixed schedule, data `"<n> <publish time>"`. */
async function publishTimed(hub, count, rate) {
  const interval = 1000 / rate
  const start = performance.now()
  for (let n = 1; n <= count; n++) {
    const due = start + (n - 1) * interval
    const wait = due - performance.now()
    if (wait > 0) await sleep(wait)
    await hub.publish({ data: `${n} ${preciseNow()}` })
  }
}

/** One round on one transport: `count` events. @returns the raw latencies and what arrived */
async function measureLatency(browser, transport, count) {
  return withApp(browser, async ({ hub, page }) => {
    if (transport === 'native') await page.evaluate(() => window.__startNative('/events'))
    else await page.evaluate((t) => window.__start('/events', { transports: [t], remember: false }), transport)
    // Warm-up: publish until one arrives, so the measured events find the connection up.
    let warm
    for (let i = 0; i < 30 && !warm; i++) {
      await hub.publish({ data: `warm-${i} 0` })
      warm = await waitForLog(page, (log) => log.messages.length > 0, 1000)
    }
    if (!warm) throw new Error(`${transport}: the warm-up event never arrived`)
    const warmCount = (await readLog(page)).messages.length
    await publishTimed(hub, count, RATE)
    const log = await waitForLog(page, (l) => l.messages.length >= warmCount + count, 30_000)
    await sleep(200)
    const final = await readLog(page)
    const measured = final.messages.filter((m) => !m.data.startsWith('warm-'))
    const order = measured.map((m) => Number(m.data.split(' ')[0]))
    const exact = log !== undefined && order.length === count && order.every((n, i) => n === i + 1)
    const latencies = measured.map((m) => m.at - Number(m.data.split(' ')[1]))
    return { received: measured.length, exact, latencies, actual: final.native ? 'native' : final.transport }
  })
}

async function firstEvent(browser, client, via = 'proxy') {
  return withApp(browser, async ({ hub, app, page }) => {
    if (via === 'proxy') app.proxy.setMode('hold-until-close')
    // Default options (a fresh profile has no remembered verdict).
    if (client === 'native') await page.evaluate(() => window.__startNative('/events'))
    else await page.evaluate(() => window.__start('/events'))
    // One event right away, then 10/s for the rest of the window.
    let stop = false
    const publisher = (async () => {
      for (let n = 1; !stop; n++) {
        await hub.publish({ data: `${n} ${preciseNow()}` })
        await sleep(100)
      }
    })()
    // The SDK gets at least 20 s whatever the window: a miss is a finding, not a short window.
    const timeout = client === 'native' ? WINDOW_S * 1000 : Math.max(WINDOW_S * 1000, 20_000)
    const log = await waitForLog(page, (l) => l.messages.length > 0, timeout)
    stop = true
    await publisher
    if (!log) return { client, firstMs: Number.POSITIVE_INFINITY, transport: null }
    const stepDown = log.changes.find((c) => c.reason === 'buffered')
    return {
      client,
      firstMs: log.messages[0].at - log.startedAt,
      stepDownMs: stepDown ? stepDown.at - log.startedAt : undefined,
      transport: log.native ? 'native' : log.transport,
    }
  }, via)
}

async function reportFirstEvent(browser, via, what) {
  console.log(`\nTime to first event behind ${what}, default options (${RUNS} runs each)`)
  const sdkRuns = []
  for (let i = 0; i < RUNS; i++) {
    const run = await firstEvent(browser, 'sdk', via)
    if (!run) {
      console.log('  skipped: nginx is not installed (apt-get install -y nginx)')
      return
    }
    sdkRuns.push(run)
  }
  const nativeRun = await firstEvent(browser, 'native', via)
  const sdkFirst = sdkRuns.map((r) => r.firstMs)
  const sdkMedian = quantile(sdkFirst, 0.5)
  const nativeText = Number.isFinite(nativeRun.firstMs)
    ? `${(nativeRun.firstMs / 1000).toFixed(2)} s`
    : `> ${WINDOW_S} s (never within the run)`
  const seconds = (ms) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'never')
  console.log(
    table(
      ['client', 'first event', 'runs', 'step-down at', 'final transport', 'target'],
      [
        [
          'resilient-sse',
          `${seconds(sdkMedian)} (median)`,
          sdkFirst.map(seconds).join(', '),
          sdkRuns.map((r) => (r.stepDownMs === undefined ? '-' : seconds(r.stepDownMs))).join(', '),
          [...new Set(sdkRuns.map((r) => r.transport))].join(', '),
          `≤ ${TARGETS.firstEventMs / 1000} s`,
        ],
        ['native EventSource', nativeText, '1', '-', 'native', '-'],
      ],
    ),
  )
  const ratio = Number.isFinite(nativeRun.firstMs) ? `${(nativeRun.firstMs / sdkMedian).toFixed(1)}×` : `> ${((WINDOW_S * 1000) / sdkMedian).toFixed(1)}×`
  console.log(`first event: native / resilient-sse ${ratio}; resilient-sse / target ${(sdkMedian / TARGETS.firstEventMs).toFixed(2)}×`)
}

async function reportLatency(browser) {
  // Rounds interleave the transports, so a burst of background load hits all of them alike.
  const transports = ['native', 'eventsource', 'fetch', 'sse-close', 'long-poll']
  const perRound = Math.ceil(EVENTS / ROUNDS)
  const acc = new Map(transports.map((t) => [t, { transport: t, received: 0, exact: true, latencies: [], actual: new Set() }]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const transport of transports) {
      const result = await measureLatency(browser, transport, perRound)
      const entry = acc.get(transport)
      entry.received += result.received
      entry.exact &&= result.exact
      entry.latencies.push(...result.latencies)
      entry.actual.add(result.actual)
    }
    process.stderr.write(`  round ${round + 1}/${ROUNDS}\n`)
  }
  const latency = [...acc.values()].map((e) => ({
    transport: e.transport,
    received: e.received,
    exact: e.exact,
    actual: [...e.actual].join(', '),
    p50: quantile(e.latencies, 0.5),
    p90: quantile(e.latencies, 0.9),
    p99: quantile(e.latencies, 0.99),
    max: Math.max(...e.latencies),
    min: Math.min(...e.latencies),
  }))
  const total = perRound * ROUNDS
  const native = latency[0]
  console.log('Per-event delivery latency (arrival in the page − publish time)')
  console.log(
    table(
      ['transport', 'on rung', 'received', 'once+order', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'p99 target', 'p99/target', 'p50 vs native'],
      latency.map((r) => [
        r.transport === 'native' ? 'native EventSource' : r.transport,
        r.actual,
        `${r.received}/${total}`,
        r.exact ? 'yes' : 'NO',
        formatMs(r.p50),
        formatMs(r.p90),
        formatMs(r.p99),
        formatMs(r.max),
        `≤ ${TARGETS.p99[r.transport]} ms`,
        `${(r.p99 / TARGETS.p99[r.transport]).toFixed(2)}×`,
        `${(r.p50 / native.p50).toFixed(1)}×`,
      ]),
    ),
  )
  const skew = Math.min(...latency.map((r) => r.min))
  if (skew < 0) console.log(`(smallest latency ${formatMs(skew)} ms: the two clocks disagree by about that much)`)
}

const browser = await launchBenchBrowser()
try {
  const hubText = BURST === undefined ? 'hub defaults' : `hub defaults but batch burst ${BURST} ms`
  console.log(`Chromium, loopback, ${hubText}; ${EVENTS} events at ${RATE}/s per transport; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores.\n`)
  if (EVENTS > 0) await reportLatency(browser)
  await reportFirstEvent(browser, 'proxy', 'the simulated hold-until-close proxy')
  await reportFirstEvent(browser, 'nginx', 'a real nginx (proxy_buffering on, HTTP/1.0 upstream, X-Accel-Buffering ignored)')
} finally {
  await browser.close()
}
