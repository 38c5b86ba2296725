import { defineConfig, type Options } from 'tsup'

type EsbuildPlugin = NonNullable<Options['esbuildPlugins']>[number]

/**
 * The adapters import the core through its public entry (`../index` in the sources, so tests
 * and the typecheck need no build). In the published files that import must be the package
 * itself, kept external: `resilient-sse/react` then never carries a second copy of the client.
 */
const coreExternal: EsbuildPlugin = {
  name: 'resilient-sse:core-external',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/index$/ }, (args) =>
      /[\\/]src[\\/](react|vue|adapters)[\\/]/.test(args.importer) ? { path: 'resilient-sse', external: true } : undefined,
    )
  },
}

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      'parser/index': 'src/parser/index.ts',
      'server/index': 'src/server/index.ts',
      'react/index': 'src/react/index.ts',
      'vue/index': 'src/vue/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    splitting: true,
    treeshake: true,
    external: ['resilient-sse', 'react', 'vue', 'redis'],
    esbuildPlugins: [coreExternal],
  },
  {
    // A SharedWorker script is fetched as one file: everything inlined, no chunks, no imports.
    entry: { worker: 'src/worker.ts' },
    format: ['esm'],
    splitting: false,
    minify: true,
    sourcemap: true,
    target: 'es2022',
    noExternal: [/.*/],
  },
  {
    entry: { 'resilient-sse': 'src/cdn.ts' },
    format: ['iife'],
    globalName: 'ResilientSSE',
    minify: true,
    sourcemap: true,
    target: 'es2020',
    outExtension: () => ({ js: '.global.js' }),
  },
])
