// @ts-check
// The playground: `npm run playground` (builds dist/, then runs this file).
//   node playground/server.mjs [--port N] [--host 127.0.0.1] [--rate 5]
// PORT in the environment works too; `--port 0` lets the OS pick a free port.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startPlayground } from './server/app.mjs'

const DEFAULT_PORT = 5173

/**
 * @param {string | undefined} raw
 * @param {string} name
 * @returns {number | undefined}
 */
function toPort(raw, name) {
  if (raw === undefined || raw === '') return undefined
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`Invalid ${name} ${JSON.stringify(raw)}: use 0–65535 (0 picks a free port).`)
    process.exit(2)
  }
  return port
}

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    rate: { type: 'string', default: '5' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  console.log('Usage: node playground/server.mjs [--port N] [--host 127.0.0.1] [--rate 5]\nPORT from the environment is used when --port is absent; --port 0 picks a free port.')
  process.exit(0)
}

const explicitPort = toPort(values.port, '--port') ?? toPort(process.env.PORT, 'PORT')
const rate = Number(values.rate)

const dist = fileURLToPath(new URL('../dist/server/index.js', import.meta.url))
if (!existsSync(dist)) {
  console.error('dist/ is missing: run `npm run playground` (it builds first) or `npm run build`.')
  process.exit(1)
}
// Imported the way an app imports it: the package's own "exports" map, resolved to dist/.
const { createEventHub } = await import('resilient-sse/server')

const playground = await startPlayground({
  createEventHub,
  host: values.host,
  port: explicitPort ?? DEFAULT_PORT,
  // The default port walks upwards while taken; an explicit port must be free.
  portAttempts: explicitPort === undefined ? 20 : 1,
  rate: Number.isFinite(rate) ? Math.min(50, Math.max(0.2, rate)) : 5,
  onPublishError: (error) => console.error('publish failed:', error),
}).catch((/** @type {NodeJS.ErrnoException} */ error) => {
  if (error.code === 'EADDRINUSE') console.error(`Port ${explicitPort} is in use: pick another with --port N, or --port 0.`)
  else console.error(error)
  process.exit(1)
})

console.log(`Playground: ${playground.url}`)
console.log('Press Ctrl-C to stop.')

let stoppingSince = 0
/** @param {NodeJS.Signals} signal */
const stop = (signal) => {
  if (stoppingSince !== 0) {
    // Under `npm run`, one Ctrl-C can arrive twice (from the terminal and forwarded by npm):
    // only a second press, a moment later, forces the exit.
    if (Date.now() - stoppingSince < 1000) return
    console.log('Forced exit.')
    process.exit(130)
  }
  stoppingSince = Date.now()
  console.log(`\n${signal}: draining streams…`)
  playground.close({ timeout: 3000 }).then(
    () => {
      console.log('Stopped.')
      process.exit(0)
    },
    (error) => {
      console.error(error)
      process.exit(1)
    },
  )
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
