import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'

// The package's shape, checked without a build (publint, attw and the pack smoke test check the
// built files: `npm run test:pack`).
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  type: string
  sideEffects: boolean
  dependencies?: Record<string, string>
  peerDependencies: Record<string, string>
  peerDependenciesMeta: Record<string, { optional: boolean }>
  exports: Record<string, string | Record<string, Record<string, string>>>
  files: string[]
}

describe('package.json', () => {
  test('ESM, side-effect free, no runtime dependencies, react, vue and redis optional peers', () => {
    expect(pkg.type).toBe('module')
    expect(pkg.sideEffects).toBe(false)
    expect(pkg.dependencies ?? {}).toEqual({})
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['react', 'redis', 'vue'])
    expect(pkg.peerDependenciesMeta).toEqual({ react: { optional: true }, vue: { optional: true }, redis: { optional: true } })
    expect(pkg.files).toContain('dist')
  })

  test('every entry has import and require conditions, types first in each', () => {
    expect(Object.keys(pkg.exports)).toEqual(['.', './parser', './server', './react', './vue', './worker', './package.json'])
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue
      expect(Object.keys(target), subpath).toEqual(['import', 'require'])
      expect(Object.keys(target.import ?? {}), subpath).toEqual(['types', 'default'])
      expect(Object.keys(target.require ?? {}), subpath).toEqual(['types', 'default'])
      expect(target.require?.types, subpath).toMatch(/\.d\.cts$/)
      expect(target.require?.default, subpath).toMatch(/\.cjs$/)
    }
    expect(pkg.exports['./worker']).toBe('./dist/worker.js')
  })
})

describe('adapters', () => {
  test.each(['react', 'vue', 'adapters'])('src/%s imports only its framework, the public core entry and the shared adapter helper', (dir) => {
    const imports = new Set<string>()
    for (const file of readdirSync(path.join('src', dir))) {
      const text = readFileSync(path.join('src', dir, file), 'utf8')
      for (const match of text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+'([^']+)'/gm)) imports.add(match[1] as string)
    }
    const allowed = new Set(['react', 'vue', '../index', '../adapters/stream-state'])
    expect([...imports].filter((specifier) => !allowed.has(specifier))).toEqual([])
    expect(imports.has('../index')).toBe(true)
  })
})
