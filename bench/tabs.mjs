// One connection per browser, measured in Chromium on loopback (plain HTTP/1.1).
//
// 1. Connections the server holds for 1, 8 and 20 tabs of one profile: `shared` through the
//    SharedWorker, through the Web Locks leader (SharedWorker deleted by an init script), and
//    off. Off, Chromium's six-connections-per-host limit caps what the server sees; the other
//    tabs stall (and count as "stalled": they received nothing).
// 2. Leader hand-over (Web Locks path): the leader tab (the oldest, first in the lock queue) is
//    closed while events flow; hand-over = close → the next leader's request reaching the
//    server; resume = close → an event published at the close reaching every remaining tab.
//    A new tab refills the profile after each hand-over.
// 3. The multiplexer's size: the lazily loaded chunk (min+gzip) and the worker script.
//
// Usage: npx tsup && node bench/tabs.mjs [--handovers=20] [--tabs=1,8,20]   (--tabs= skips part 1)
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { launchBenchBrowser } from './support/browser.mjs'
import { exitUnlessBuilt, REPO_ROOT as ROOT } from './support/cli.mjs'
import { formatMs, quantile, table } from './support/stats.mjs'

exitUnlessBuilt()
const { createEventHub } = await import('../dist/server/index.js')
const { openTab, prepareFiles, readTab, removeFiles, startStream, startTabsApp, until, waitForTab } = await import('../test/browser/support-tabs/tabs-app.mjs')

function option(name, fallback) {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`))
  return arg ? arg.slice(name.length + 3) : fallback
}
const HANDOVERS = Number(option('handovers', '20'))
const TAB_COUNTS = option('tabs', '1,8,20').split(',').filter(Boolean).map(Number)
const SHARED = { remember: false, shared: { workerUrl: '/worker.js' } }
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const files = await prepareFiles()
const browser = await launchBenchBrowser()

async function profileFor(mode) {
  const context = await browser.newContext()
  if (mode === 'broadcast') await context.addInitScript(() => void delete window.SharedWorker)
  return context
}

// ---- 1. connections per tab count -------------------------------------------------------------
const connectionRows = []
for (const mode of ['shared-worker', 'broadcast', 'off']) {
  for (const count of TAB_COUNTS) {
    const app = await startTabsApp(files, createEventHub({}))
    const context = await profileFor(mode)
    const tabs = []
    for (let i = 0; i < count; i++) tabs.push(await openTab(context, app))
    let max = 0
    const sampler = setInterval(() => (max = Math.max(max, app.openConnections())), 5)
    for (const tab of tabs) await startStream(tab, mode === 'off' ? { remember: false } : SHARED)
    await sleep(1500)
    await app.publish(5, 20)
    await sleep(1500)
    clearInterval(sampler)
    let stalled = 0
    for (const tab of tabs) if ((await readTab(tab)).messages.length < 5) stalled += 1
    connectionRows.push([mode, String(count), String(app.openConnections()), String(max), String(stalled)])
    await context.close()
    await app.close()
  }
}

// ---- 2. hand-over times ---------------------------------------------------------------------
const handOvers = []
const resumes = []
{
  const app = await startTabsApp(files, createEventHub({}))
  const context = await profileFor('broadcast')
  const tabs = []
  // A new tab waits for its first `open` (its join answered): a tab without a cursor starts
  // at the moment the coordinator answers it, and a hand-over before that would restart it.
  const addTab = async () => {
    const tab = await openTab(context, app)
    await startStream(tab, SHARED)
    await waitForTab(tab, (log) => log.opens >= 1, 'open', 15_000)
    tabs.push(tab)
  }
  for (let i = 0; i < 4; i++) await addTab()
  await until(() => app.openConnections() === 1, 'first leader connected', 15_000)
  for (let i = 0; i < HANDOVERS; i++) {
    await app.publish(3, 10)
    const leader = tabs.shift()
    const requests = app.eventRequests.length
    const closedAt = Date.now()
    const closing = leader.close()
    await app.publish(1, 0)
    const marker = String(app.published())
    await closing
    await until(() => app.eventRequests.length > requests, 'the next leader connects', 15_000)
    handOvers.push(app.eventRequests[requests].at - closedAt)
    for (const tab of tabs) {
      for (;;) {
        const log = await readTab(tab)
        if (log.messages.some((m) => m.data === marker)) break
        if (Date.now() - closedAt > 15_000) {
          const summary = { tab: tabs.indexOf(tab), of: tabs.length, received: log.messages.length, last: log.messages.slice(-3), opens: log.opens, errors: log.errors, marker }
          throw new Error(`the event published at the close did not arrive: ${JSON.stringify(summary)}`)
        }
        await sleep(5)
      }
    }
    resumes.push(Date.now() - closedAt)
    await addTab()
  }
  // Exactly once, in order, in every tab that lived through the whole run.
  const survivors = []
  for (const tab of tabs) survivors.push((await readTab(tab)).messages.map((m) => Number(m.data)))
  const ordered = survivors.every((data) => data.every((n, i) => i === 0 || n === data[i - 1] + 1))
  connectionRows.push(['(hand-over run: every remaining tab exactly once, in order)', '', '', '', ordered ? 'yes' : 'NO'])
  await context.close()
  await app.close()
}

await browser.close()
await removeFiles(files)

// ---- 3. size ----------------------------------------------------------------------------------
const outdir = await mkdtemp(path.join(os.tmpdir(), 'resilient-sse-size-'))
await build({ entryPoints: [path.join(ROOT, 'src/index.ts')], bundle: true, splitting: true, format: 'esm', minify: true, outdir, logLevel: 'silent' })
await build({ entryPoints: [path.join(ROOT, 'src/worker.ts')], bundle: true, format: 'esm', minify: true, outfile: path.join(outdir, 'worker', 'worker.js'), logLevel: 'silent' })
const sizes = []
for (const name of await readdir(outdir)) {
  if (!name.endsWith('.js')) continue
  const body = await readFile(path.join(outdir, name))
  sizes.push([name.startsWith('multiplexer') ? 'multiplexer chunk (lazy)' : name.startsWith('chunk') ? 'core chunk' : name, String(body.length), String(gzipSync(body, { level: 9 }).length)])
}
const worker = await readFile(path.join(outdir, 'worker', 'worker.js'))
sizes.push(['worker.js (standalone)', String(worker.length), String(gzipSync(worker, { level: 9 }).length)])
await rm(outdir, { recursive: true, force: true })

console.log(`Chromium, loopback HTTP/1.1, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}\n`)
console.log('Connections held by the server')
console.log(table(['sharing', 'tabs', 'open at end', 'max open', 'stalled tabs'], connectionRows))
console.log(`\nLeader hand-over (Web Locks), ${handOvers.length} hand-overs`)
console.log(
  table(
    ['', 'p50', 'p99', 'max'],
    [
      ['close → next leader request', formatMs(quantile(handOvers, 0.5)), formatMs(quantile(handOvers, 0.99)), formatMs(Math.max(...handOvers))],
      ['close → event in every tab', formatMs(quantile(resumes, 0.5)), formatMs(quantile(resumes, 0.99)), formatMs(Math.max(...resumes))],
    ],
  ),
)
console.log('\nSize (esbuild, minified)')
console.log(table(['file', 'bytes', 'gzip -9'], sizes))
