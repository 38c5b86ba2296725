#!/usr/bin/env node
// Production dependency audit: runs `npm audit --omit=dev --json` and fails on any advisory, at
// any severity. It also fails, with a message saying so, when npm could not ask the registry's
// audit endpoint (offline, a mirror without `/-/npm/v1/security/advisories/bulk`, a proxy
// refusing the POST): an audit that did not run must never read as a clean one.
//
// The package has no runtime dependencies, so npm has nothing to send and answers "0" without a
// request; the script prints that too, so a dependency added later shows up in the output.
//
//   node scripts/audit.mjs          check, print a one-line summary (or the advisories)
//   node scripts/audit.mjs --json   the parsed npm report on stdout
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const asJson = process.argv.includes('--json')

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], {
  cwd: root,
  encoding: 'utf8',
  // npm exits non-zero both for advisories and for failures; the JSON says which.
  shell: process.platform === 'win32',
  timeout: 120_000,
})

function fail(message) {
  console.error(`audit: ${message}`)
  process.exit(1)
}

if (run.error) fail(`could not run npm: ${run.error.message}`)

let report
try {
  report = JSON.parse(run.stdout)
} catch {
  fail(`npm audit printed no JSON (exit ${run.status}).\n${run.stderr.trim()}`)
}

if (report.error || !report.metadata) {
  const reason = report.message ?? report.error?.summary ?? 'unknown error'
  fail(
    `the registry's audit endpoint could not be reached, so nothing was audited: ${reason}\n` +
      'Run again with network access to the npm registry (or set `registry` to one that serves ' +
      '/-/npm/v1/security/advisories/bulk).',
  )
}

if (asJson) console.log(JSON.stringify(report, null, 2))

const counts = report.metadata.vulnerabilities ?? {}
const total = counts.total ?? 0
// `prod` counts the root package itself.
const productionDependencies = Math.max(0, (report.metadata.dependencies?.prod ?? 1) - 1)

if (total > 0) {
  const lines = Object.values(report.vulnerabilities ?? {}).map((entry) => {
    const via = (entry.via ?? []).map((item) => (typeof item === 'string' ? item : `${item.title} (${item.url})`))
    return `  ${entry.severity.padEnd(8)} ${entry.name} ${entry.range}: ${via.join('; ')}`
  })
  fail(`${total} advisor${total === 1 ? 'y' : 'ies'} in production dependencies:\n${lines.join('\n')}`)
}

console.log(
  productionDependencies === 0
    ? 'audit: no production dependencies, nothing to audit (0 advisories)'
    : `audit: 0 advisories in ${productionDependencies} production dependenc${productionDependencies === 1 ? 'y' : 'ies'}`,
)
