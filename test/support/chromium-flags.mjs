// The one place that says how Chromium is found and launched, for the TypeScript test harness
// (test/support/chromium.ts) and the plain-node benchmarks (bench/support/browser.mjs) alike.

/** Where Debian installs Chromium. */
export const CHROMIUM_BINARY = '/usr/bin/chromium'

/** How to install Chromium when it is missing; quoted in errors so a failing run says what to do. */
export const CHROMIUM_INSTALL_HINT = 'apt-get update && apt-get install -y chromium'

/**
 * Flags for a quiet, deterministic headless Chromium: no sandbox (CI runs as root), no GPU, no
 * QUIC (every request is plain HTTP/1.1 over loopback), and no background traffic.
 */
export const CHROMIUM_ARGS = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
])
