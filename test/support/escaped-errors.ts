import { afterAll, beforeAll, expect } from 'vitest'

/**
 * Collects what escapes the code under test while the calling file (or `describe` block) runs: an
 * uncaught exception from a timer or callback, a rejected promise nobody awaits. The block's last
 * hook fails when anything escaped; tests may also assert on the returned list themselves.
 * @returns the errors that escaped so far
 */
export function collectEscapedErrors(): readonly unknown[] {
  const escaped: unknown[] = []
  const onEscape = (error: unknown): void => void escaped.push(error)
  beforeAll(() => {
    process.on('uncaughtException', onEscape)
    process.on('unhandledRejection', onEscape)
  })
  afterAll(() => {
    process.off('uncaughtException', onEscape)
    process.off('unhandledRejection', onEscape)
    expect(escaped).toEqual([])
  })
  return escaped
}
