// Small pieces every bench shares: `--name=value` flags and a wall clock with sub-millisecond
// resolution that agrees across processes (for latencies measured from a publish timestamp).

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
