import { defineConfig } from 'vitest/config'

/** Standalone config for the reliability suite (`npx vitest run --config test/reliability/vitest.config.ts`). */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
})
