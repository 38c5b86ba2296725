#!/usr/bin/env node
// Size budgets, min+gzip, per public entry. Each entry is bundled from src with esbuild the way an
// app's bundler would (ESM, minified, browser), frameworks and — for the adapters — the core left
// out, then gzipped. Budgets are in scripts/size-budgets.json: a `limit` fails the check when
// exceeded; a `target` is a goal not met yet: it prints how far off it is, and its `ceiling` (the
// size recorded when the target was set, plus a little room) fails the check like a limit, so an
// entry that misses its target cannot grow unnoticed either.
//
//   node scripts/size.mjs            check, print the table
//   node scripts/size.mjs --update   also record the current sizes in the JSON file
//   node scripts/size.mjs --json     machine-readable output
//   node scripts/size.mjs --why core where the entry's bytes go (per source file, minified)
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const budgetsFile = path.join(root, 'scripts/size-budgets.json')
const args = process.argv.slice(2)

/** The adapters' `../index` is the published `resilient-sse`: external, like in the build. */
const coreExternal = {
  name: 'core-external',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/index$/ }, (args) =>
      /[\\/]src[\\/](react|vue|adapters)[\\/]/.test(args.importer) ? { path: 'resilient-sse', external: true } : undefined,
    )
  },
}

/**
 * What each entry measures. `lazy: true` counts only chunks loaded by dynamic import (the
 * multiplexer is fetched when `shared` is used); otherwise the entry and its static imports.
 */
const ENTRIES = {
  parser: { source: "export * from './src/parser/index.ts'" },
  core: { source: "export * from './src/index.ts'" },
  multiplexer: { source: "export * from './src/index.ts'", lazy: true },
  react: { source: "export * from './src/react/index.ts'" },
  vue: { source: "export * from './src/vue/index.ts'" },
  // A script run for its side effects: bundled from the file itself (an `import` of it would be
  // dropped, the package being side-effect free).
  worker: { file: 'src/worker.ts', optional: 'src/worker.ts' },
}

async function measure(name, entry) {
  const result = await build({
    ...(entry.file
      ? { entryPoints: [path.join(root, entry.file)] }
      : { stdin: { contents: entry.source, resolveDir: root, loader: 'ts', sourcefile: `${name}-entry.ts` } }),
    bundle: true,
    minify: true,
    format: 'esm',
    splitting: true,
    outdir: path.join(root, '.size-out'),
    write: false,
    platform: 'browser',
    target: 'es2022',
    metafile: true,
    treeShaking: true,
    external: ['react', 'vue', 'resilient-sse'],
    plugins: [coreExternal],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  })
  const outputs = result.metafile.outputs
  const entryFile = Object.keys(outputs).find((file) => outputs[file].entryPoint)
  const statics = new Set()
  const lazies = new Set()
  const walk = (file) => {
    if (statics.has(file)) return
    statics.add(file)
    for (const imported of outputs[file].imports) {
      if (imported.external) continue
      if (imported.kind === 'dynamic-import') lazies.add(imported.path)
      else walk(imported.path)
    }
  }
  walk(entryFile)
  const counted = entry.lazy ? [...lazies].filter((file) => !statics.has(file)) : [...statics]
  const files = new Map(result.outputFiles.map((file) => [path.relative(root, file.path), file.contents]))
  const code = Buffer.concat(counted.map((file) => Buffer.from(files.get(file) ?? new Uint8Array())))
  const inputs = {}
  for (const file of counted) {
    for (const [input, info] of Object.entries(outputs[file].inputs)) inputs[input] = (inputs[input] ?? 0) + info.bytesInOutput
  }
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length, inputs }
}

const kb = (bytes) => `${(bytes / 1024).toFixed(2)} KB`
const budgets = JSON.parse(readFileSync(budgetsFile, 'utf8'))
const results = {}
for (const [name, entry] of Object.entries(ENTRIES)) {
  if (entry.optional && !existsSync(path.join(root, entry.optional))) continue
  results[name] = await measure(name, entry)
}

const why = args[args.indexOf('--why') + 1]
if (args.includes('--why') && results[why]) {
  const rows = Object.entries(results[why].inputs).sort((a, b) => b[1] - a[1])
  console.log(`${why}: minified bytes per source file (before gzip)`)
  for (const [file, bytes] of rows) console.log(`${String(bytes).padStart(8)}  ${file}`)
  process.exit(0)
}

let failed = false
const table = []
for (const [name, size] of Object.entries(results)) {
  const budget = budgets.entries[name]
  let verdict = 'no budget'
  if (budget) {
    const over = size.gzip - budget.budget
    if (budget.kind === 'limit') {
      verdict = over > 0 ? `FAIL: ${kb(over)} over` : 'ok'
      if (over > 0) failed = true
    } else {
      verdict = `${over > 0 ? `target: ${kb(over)} to go` : 'target met: make it a limit'}${budget.ceiling ? `; ceiling ${kb(budget.ceiling)} ok` : ''}`
      const aboveCeiling = size.gzip - (budget.ceiling ?? Infinity)
      if (aboveCeiling > 0) {
        verdict = `FAIL: ${kb(aboveCeiling)} over its ceiling ${kb(budget.ceiling)}`
        failed = true
      }
    }
    if (args.includes('--update')) budget.current = size.gzip
  }
  table.push({ entry: name, min: size.min, gzip: size.gzip, budget: budget?.budget, kind: budget?.kind, verdict })
}
if (args.includes('--update')) writeFileSync(budgetsFile, `${JSON.stringify(budgets, null, 2)}\n`)

if (args.includes('--json')) {
  console.log(JSON.stringify(table, null, 2))
} else {
  console.log('entry        min        min+gzip   budget     kind    verdict')
  for (const row of table) {
    console.log(
      `${row.entry.padEnd(12)} ${kb(row.min).padEnd(10)} ${kb(row.gzip).padEnd(10)} ${(row.budget ? kb(row.budget) : '-').padEnd(10)} ${(row.kind ?? '-').padEnd(7)} ${row.verdict}`,
    )
  }
}
if (failed) {
  console.error('size: an entry exceeds its limit or ceiling (scripts/size-budgets.json)')
  process.exit(1)
}
