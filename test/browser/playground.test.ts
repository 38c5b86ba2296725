import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { launchChromium, newProfile } from '../support/chromium'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const RESULTS = path.join(ROOT, 'test-results')

let server: ChildProcess
let url: string
let output = ''
let browser: Browser

/** Starts `node playground/server.mjs --port 0` and reads the URL it prints. */
function startPlaygroundProcess(): Promise<string> {
  for (const file of ['dist/index.js', 'dist/server/index.js']) {
    if (!existsSync(path.join(ROOT, file))) {
      throw new Error(`${file} is missing: the playground serves the built package. Run \`npm run build\` (npm run test:browser does).`)
    }
  }
  server = spawn(process.execPath, ['playground/server.mjs', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the playground printed no URL within 20 s:\n${output}`)), 20_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      const match = /Playground: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    server.stdout?.on('data', onData)
    server.stderr?.on('data', onData)
    server.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the playground exited with ${code}:\n${output}`))
    })
  })
}

async function count(page: Page, id: string): Promise<number> {
  return Number(await page.textContent(`[data-testid="${id}"]`))
}

async function text(page: Page, id: string): Promise<string> {
  return (await page.textContent(`[data-testid="${id}"]`)) ?? ''
}

beforeAll(async () => {
  url = await startPlaygroundProcess()
  browser = await launchChromium()
  await mkdir(RESULTS, { recursive: true })
})

afterAll(async () => {
  await browser?.close()
  if (server && server.exitCode === null) {
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve))
    server.kill('SIGINT')
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000))
    const result = await Promise.race([exited, timeout])
    if (result === 'timeout') server.kill('SIGKILL')
    // Ctrl-C drains the hub and exits cleanly.
    expect(result).toBe(0)
  }
})

describe('npm run playground', () => {
  test('the SDK keeps delivering behind a buffering proxy while native EventSource stalls', async () => {
    const profile = await newProfile(browser, { viewport: { width: 1280, height: 900 } })
    const page = await profile.newPage()
    const pageErrors: string[] = []
    page.on('pageerror', (error) => pageErrors.push(error.message))
    await page.goto(url)

    // Direct: both clients stream, the SDK on the top rung.
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="sdk-events"]')?.textContent) >= 3 &&
        Number(document.querySelector('[data-testid="native-events"]')?.textContent) >= 3,
      undefined,
      { timeout: 15_000 },
    )
    expect(await text(page, 'sdk-transport')).toBe('eventsource')
    expect(await text(page, 'native-status')).toBe('streaming')

    // Switch the network through the page's own control.
    await page.selectOption('[data-testid="network-mode"]', 'hold-until-close')
    await page.waitForFunction(
      () => ['sse-close', 'long-poll'].includes(document.querySelector('[data-testid="sdk-transport"]')?.textContent ?? ''),
      undefined,
      { timeout: 20_000 },
    )
    expect(await text(page, 'server-status')).toContain('Hold until close')
    expect(await text(page, 'sdk-history')).toMatch(/eventsource → sse-close\s*buffered|→ long-poll/)

    // Watch for 6 s: the SDK's count grows, the native one does not move.
    const sdkStart = await count(page, 'sdk-events')
    const nativeStart = await count(page, 'native-events')
    const nativeSeen = new Set<number>()
    for (let i = 0; i < 12; i++) {
      await page.waitForTimeout(500)
      nativeSeen.add(await count(page, 'native-events'))
    }
    const sdkEnd = await count(page, 'sdk-events')
    expect(sdkEnd - sdkStart).toBeGreaterThanOrEqual(15) // 5 events/s for 6 s, minus batching slack
    expect([...nativeSeen]).toEqual([nativeStart])
    expect(await text(page, 'native-status')).toBe('stalled')

    // Nothing lost, nothing twice, on the SDK side.
    const lost = page.locator('[data-testid="sdk-lost"]')
    expect(await lost.getAttribute('data-state')).toBe('ok')
    expect(await text(page, 'sdk-lost')).toMatch(/^0 lost, 0 duplicated/)
    expect(await page.locator('[data-testid="native-lost"] span').textContent()).toMatch(/\d+ not yet delivered/)
    expect(pageErrors).toEqual([])

    await page.screenshot({ path: path.join(RESULTS, 'playground.png'), fullPage: true })

    // Back to a clean network: the SDK stays down (remembered verdict) until reset, then climbs
    // back to the top, resuming where it was: still nothing lost across the new instance.
    await page.selectOption('[data-testid="network-mode"]', 'direct')
    await page.waitForFunction(() => document.querySelector('[data-testid="sdk-transport-note"]')?.textContent?.includes('remembered verdict'), undefined, {
      timeout: 10_000,
    })
    expect(await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('resilient-sse:')).length)).toBeGreaterThan(0)
    await page.click('[data-testid="reset-remembered"]')
    await page.waitForFunction(() => document.querySelector('[data-testid="sdk-transport"]')?.textContent === 'eventsource', undefined, {
      timeout: 15_000,
    })
    const afterReset = await count(page, 'sdk-events')
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="sdk-events"]')?.textContent) >= n + 5, afterReset, {
      timeout: 10_000,
    })
    expect(await text(page, 'sdk-lost')).toMatch(/^0 lost, 0 duplicated/)
    expect(await lost.getAttribute('data-state')).toBe('ok')
    expect(pageErrors).toEqual([])
    await profile.close()
  })

  test('`shared`: two tabs, one SDK connection; the other tab takes over when the first closes', async () => {
    const hubStreams = async () => ((await (await fetch(`${url}api/state`)).json()) as { hub: { connections: { stream: number } } }).hub.connections.stream
    const profile = await newProfile(browser, { viewport: { width: 1280, height: 900 } })
    const first = await profile.newPage()
    await first.goto(url)
    await first.waitForFunction(() => Number(document.querySelector('[data-testid="sdk-events"]')?.textContent) >= 2, undefined, { timeout: 15_000 })
    await first.check('[data-testid="shared"]')
    // Let the first tab's shared stream settle (its native stream + the shared one) before the
    // second tab joins: tabs that start within the same second can each open a connection
    // (see the report: a join race in the multiplexer).
    await expect.poll(hubStreams, { timeout: 10_000 }).toBe(2)
    const second = await profile.newPage()
    await second.goto(url)
    const events = async (page: Page, n: number) =>
      page.waitForFunction((min) => Number(document.querySelector('[data-testid="sdk-events"]')?.textContent) >= min, n, { timeout: 15_000 })
    await events(second, 5)
    // Two native EventSources (one per tab) and one SDK stream for both tabs.
    await expect.poll(hubStreams, { timeout: 10_000 }).toBe(3)

    await first.close()
    const before = await count(second, 'sdk-events')
    await events(second, before + 10)
    await expect.poll(hubStreams, { timeout: 10_000 }).toBe(2)
    expect(await text(second, 'sdk-lost')).toMatch(/^0 lost, 0 duplicated/)
    await profile.close()
  })

  test('the page fits a phone: one column, no horizontal scroll', async () => {
    const profile = await newProfile(browser, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 })
    const page = await profile.newPage()
    await page.goto(url)
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="sdk-events"]')?.textContent) >= 2, undefined, {
      timeout: 15_000,
    })
    const layout = await page.evaluate(() => {
      const box = (id: string) => document.querySelector(`[data-testid="${id}"]`)!.closest('section')!.getBoundingClientRect()
      return {
        scrollWidth: document.documentElement.scrollWidth,
        sdk: box('sdk-events').left,
        native: box('native-events').left,
        nativeTop: box('native-events').top,
        sdkBottom: box('sdk-events').bottom,
      }
    })
    expect(layout.scrollWidth).toBeLessThanOrEqual(390)
    expect(layout.native).toBe(layout.sdk)
    expect(layout.nativeTop).toBeGreaterThan(layout.sdkBottom)
    await page.screenshot({ path: path.join(RESULTS, 'playground-390.png'), fullPage: true })
    await profile.close()
  })
})
