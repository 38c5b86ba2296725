#!/usr/bin/env node
// Packs the package as npm would publish it, installs the tarball into a throw-away app (offline:
// the package has no runtime dependencies; react and vue, optional peers, are linked from this
// repo), and loads every public subpath with `import` and with `require`. Needs a build (`dist/`).
//
//   npm run test:pack
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
if (!existsSync(path.join(root, 'dist/index.js'))) {
  console.error('pack-smoke: dist/ is missing; run `npm run build` first')
  process.exit(1)
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const work = mkdtempSync(path.join(tmpdir(), 'resilient-sse-pack-'))
const failures = []
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`)
  if (!ok) failures.push(what)
}

try {
  // 1. The tarball: only what `files` allows, and every file the exports map names.
  const [packed] = JSON.parse(execFileSync(npm, ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' }))
  const files = packed.files.map((file) => file.path)
  check(files.every((file) => /^(dist\/|README\.md$|CHANGELOG\.md$|package\.json$|LICENSE)/.test(file)), 'tarball holds only dist/, README, CHANGELOG, LICENSE, package.json')
  check(!files.some((file) => /\.test\.|^src\/|^test\//.test(file)), 'no sources or tests in the tarball')
  const named = JSON.stringify(pkg.exports).match(/\.\/dist\/[^"]+/g) ?? []
  for (const file of new Set(named)) check(files.includes(file.slice(2)), `exports target ${file} is in the tarball`)

  // The adapters import the core as the package itself: never a second copy of the client. The
  // import may sit in a chunk the two adapters share, so the adapter's chunks are followed too.
  for (const adapter of ['react', 'vue']) {
    for (const file of [`dist/${adapter}/index.js`, `dist/${adapter}/index.cjs`]) {
      const code = []
      const pending = [path.join(root, file)]
      const seen = new Set()
      while (pending.length > 0) {
        const next = pending.pop()
        if (seen.has(next)) continue
        seen.add(next)
        const text = readFileSync(next, 'utf8')
        code.push(text)
        for (const match of text.matchAll(/['"]((?:\.\.?\/)+chunk-[\w-]+\.c?js)['"]/g)) pending.push(path.resolve(path.dirname(next), match[1]))
      }
      const imports = code.some((text) => /(from |require\()['"]resilient-sse['"]/.test(text))
      const copies = code.some((text) => /\bResilientEventSource\s*=\s*class\b|\bclass ResilientEventSource\b/.test(text))
      check(imports && !copies, `${file} (and its ${code.length - 1} chunk(s)) imports resilient-sse and holds no copy of the client`)
    }
  }

  // 2. A fresh app that installs the tarball without the network.
  const app = path.join(work, 'app')
  mkdirSync(path.join(app, 'node_modules'), { recursive: true })
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'pack-smoke-app', private: true, version: '0.0.0' }))
  execFileSync(
    npm,
    ['install', path.join(work, packed.filename), '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', '--offline', '--omit=peer', '--loglevel=error'],
    { cwd: app, stdio: 'inherit' },
  )
  for (const peer of ['react', 'react-dom', 'vue']) {
    symlinkSync(path.join(root, 'node_modules', peer), path.join(app, 'node_modules', peer), 'dir')
  }

  // 3. Every subpath through `import` (ESM) and `require` (CJS), and a server render per adapter.
  const subpaths = Object.keys(pkg.exports).filter((subpath) => subpath !== './worker' && subpath !== './package.json')
  const specifier = (subpath) => (subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`)
  writeFileSync(
    path.join(app, 'esm.mjs'),
    `
const out = {}
for (const id of ${JSON.stringify(subpaths.map(specifier))}) out[id] = Object.keys(await import(id)).sort()
out['package.json'] = (await import('${pkg.name}/package.json', { with: { type: 'json' } })).default.version
const worker = import.meta.resolve('${pkg.name}/worker')
const { readFileSync } = await import('node:fs')
const source = readFileSync(new URL(worker), 'utf8')
out.worker = { file: worker.split('/node_modules/')[1], standalone: !/^\\s*(import|export)\\b/m.test(source) }
const { createElement } = await import('react')
const { renderToString } = await import('react-dom/server')
const { useEventStream } = await import('${pkg.name}/react')
function View() { return createElement('p', null, useEventStream('http://127.0.0.1:9/events').status) }
out.reactSsr = renderToString(createElement(View))
const vue = await import('vue')
const vueServer = await import('vue/server-renderer')
const vueAdapter = await import('${pkg.name}/vue')
out.vueSsr = await vueServer.renderToString(vue.createSSRApp({ setup() { const s = vueAdapter.useEventStream('http://127.0.0.1:9/events'); return () => vue.h('p', s.status.value) } }))
const core = await import('${pkg.name}')
const parser = await import('${pkg.name}/parser')
out.parserShared = core.createEventStreamParser === parser.createEventStreamParser
console.log(JSON.stringify(out))
`,
  )
  writeFileSync(
    path.join(app, 'cjs.cjs'),
    `
const out = {}
for (const id of ${JSON.stringify(subpaths.map(specifier))}) out[id] = Object.keys(require(id)).sort()
out['package.json'] = require('${pkg.name}/package.json').version
console.log(JSON.stringify(out))
`,
  )
  const run = (file) => JSON.parse(execFileSync(process.execPath, [file], { cwd: app, encoding: 'utf8' }))
  const esm = run('esm.mjs')
  const cjs = run('cjs.cjs')
  for (const subpath of subpaths) {
    const id = specifier(subpath)
    check(esm[id]?.length > 0, `import('${id}') has exports: ${esm[id]?.join(', ')}`)
    check(JSON.stringify(cjs[id]) === JSON.stringify(esm[id]), `require('${id}') has the same exports`)
  }
  check(esm['package.json'] === pkg.version && cjs['package.json'] === pkg.version, `${pkg.name}/package.json loads (${pkg.version})`)
  check(esm.worker.file === `${pkg.name}/dist/worker.js` && esm.worker.standalone, `${pkg.name}/worker is one file without import/export (${esm.worker.file})`)
  check(esm.reactSsr === '<p>connecting</p>', `react adapter renders on the server: ${esm.reactSsr}`)
  check(esm.vueSsr === '<p>connecting</p>', `vue adapter renders on the server: ${esm.vueSsr}`)
  check(esm.parserShared === true, 'the core and ./parser share one parser module')
} finally {
  rmSync(work, { recursive: true, force: true })
}

if (failures.length > 0) {
  console.error(`pack-smoke: ${failures.length} check(s) failed`)
  process.exit(1)
}
console.log('pack-smoke: ok')
