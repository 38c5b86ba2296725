// Chromium for the benchmarks: the system binary through playwright-core, with the flags the
// test harness uses (test/support/chromium-flags.mjs, shared with test/support/chromium.ts).
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import { CHROMIUM_ARGS, CHROMIUM_BINARY, CHROMIUM_INSTALL_HINT } from '../../test/support/chromium-flags.mjs'

export { CHROMIUM_BINARY }

/**
 * Launches headless system Chromium.
 * @returns the browser; close it when done
 * @throws Error with the install command when Chromium is missing
 */
export async function launchBenchBrowser() {
  if (!existsSync(CHROMIUM_BINARY)) {
    throw new Error(`Chromium is not installed (${CHROMIUM_BINARY} missing): ${CHROMIUM_INSTALL_HINT}`)
  }
  return chromium.launch({
    executablePath: CHROMIUM_BINARY,
    args: [...CHROMIUM_ARGS],
    timeout: 30_000,
  })
}

/**
 * Opens the ladder page (test/browser/support/ladder-page.js) in a fresh profile.
 * @returns the profile (close it when done) and the page, once the package has loaded
 */
export async function openBenchPage(browser, url) {
  const profile = await browser.newContext()
  const page = await profile.newPage()
  await page.goto(url)
  await page.waitForFunction(() => window.__sdkReady === true, undefined, { timeout: 15_000 })
  return { profile, page }
}

/** Reads the page recorder's `window.__log`. */
export function readLog(page) {
  return page.evaluate(() => window.__log)
}

/**
 * Polls the page log until `condition(log)` holds.
 * @returns the log that satisfied it, or `undefined` after `timeout` ms
 */
export async function waitForLog(page, condition, timeout) {
  const start = Date.now()
  for (;;) {
    const log = await readLog(page)
    if (condition(log)) return log
    if (Date.now() - start > timeout) return undefined
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
