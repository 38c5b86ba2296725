// Small pieces every bench shares: `--name=value` flags and a wall clock with sub-millisecond
// resolution that agrees across processes (for latencies measured from a publish timestamp).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The repository root, with a trailing separator. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * Exits with a message naming the build command unless the built browser and server entries
 * (`dist/index.js`, `dist/server/index.js`) exist; the browser benches load both.
 */
export function exitUnlessBuilt() {
  for (const file of ['dist/index.js', 'dist/server/index.js']) {
    if (!existsSync(`${REPO_ROOT}${file}`)) {
      console.error(`${file} is missing: build the package first (npx tsup).`)
      process.exit(1)
    }
  }
}

/** `--sizes=1,100 --rate=50` → `{ sizes: '1,100', rate: '50' }` (a bare `--flag` maps to undefined). */
export function benchArgs(argv = process.argv.slice(2)) {
  return Object.fromEntries(argv.filter((arg) => arg.startsWith('--')).map((arg) => arg.slice(2).split('=')))
}

/** Milliseconds since the epoch, fractional: comparable between processes on one machine. */
export const preciseNow = () => performance.timeOrigin + performance.now()

/**
 * Calls `onBlock(block, receivedAt)` for every complete event block (`\n\n`-terminated) of a
 * `text/event-stream` response read with `node:http`. The benches' servers write LF-only frames,
 * so a plain split is enough here; the SDK's parser is what handles the general case.
 */
export function onEventBlocks(response, onBlock) {
  response.setEncoding('utf8')
  let buffer = ''
  response.on('data', (chunk) => {
    const now = preciseNow()
    buffer += chunk
    let end
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      onBlock(block, now)
    }
  })
}
