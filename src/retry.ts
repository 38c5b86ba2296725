import type { StreamError } from './errors'
import { within } from './options'

/** Backoff settings; every field is optional. */
export interface RetryOptions {
  /**
   * Base delay in ms. Left unset, the stream's `retry:` field replaces it; set, it is a floor
   * that a `retry:` field can raise but not lower.
   * @defaultValue 1000
   */
  initialDelay?: number
  /**
   * Cap of the backoff window in ms.
   * @defaultValue 30000
   */
  maxDelay?: number
  /**
   * Growth of the window per failed attempt.
   * @defaultValue 2
   */
  factor?: number
  /**
   * Failed attempts in a row after which the stream gives up (`Infinity`: never).
   * @defaultValue Infinity
   */
  maxAttempts?: number
}

/**
 * Your own policy: the delay in ms before attempt `attempt` (1 for the first retry), or `false`
 * to give up. Called after every failed attempt.
 */
export type RetryFunction = (attempt: number, error: StreamError) => number | false

/** `retry` option: settings, a function, or `false` to never reconnect after a failure. */
export type RetryOption = RetryOptions | RetryFunction | false

/** The floor of every computed delay, so a zero draw never turns into a hot loop. */
export const MIN_DELAY = 100
/** Cap of a server-requested wait (`Retry-After`, `_backoff`). */
export const MAX_SERVER_DELAY = 5 * 60_000
/** Cap of every delay (≈ 11.6 days): platforms fire timers past 2³¹ − 1 ms at once. */
export const MAX_TIMER = 1e9

/** A backoff policy with the server's hints applied. */
export interface Backoff {
  /**
   * @param attempt - failed attempts in a row, 1 for the first retry
   * @param error - why the last attempt failed
   * @returns the delay in ms, clamped to 100 ms – {@link MAX_TIMER} (100 ms when it is not a
   *   number), or `false` to give up
   * @throws what a `retry` function throws
   */
  delay(attempt: number, error: StreamError): number | false
  /** The stream's `retry:` field: replaces the default base delay, raises an explicit `initialDelay`. */
  setServerBase(ms: number): void
}

/**
 * Full-jitter exponential backoff: uniform between 100 ms and
 * `min(maxDelay, base × factor^(attempt-1))`. A server's `Retry-After` (in `error.retryAfter`) wins: that wait plus
 * `random(0, half of it)`, capped at 5 minutes. Whatever the settings or the function return
 * (NaN, negative, `Infinity`, a string), a delay stays within 100 ms – {@link MAX_TIMER}, so no
 * value turns into a hot loop.
 * @param option - the `retry` option
 * @param random - a `Math.random`-like source (injected for tests)
 * @returns the policy
 */
export function createBackoff(option: RetryOption | undefined, random: () => number): Backoff {
  let serverBase: number | undefined
  // `Object()`: `null` or a number (from plain JavaScript) read as no settings.
  const settings: RetryOptions = Object(option)
  const initialDelay = settings.initialDelay ?? 1000
  const maxDelay = settings.maxDelay ?? 30_000
  const factor = settings.factor ?? 2
  const maxAttempts = settings.maxAttempts ?? Infinity
  const pick = (attempt: number, error: StreamError): number | false => {
    if (option === false) return false
    if (typeof option === 'function') return option(attempt, error)
    if (attempt > maxAttempts) return false
    if (error.retryAfter !== undefined) {
      const wait = error.retryAfter
      return Math.min(MAX_SERVER_DELAY, wait + random() * (wait / 2))
    }
    // The stream's `retry:` replaces the default base; an explicit `initialDelay` stays a floor.
    const base = Math.max(serverBase ?? initialDelay, settings.initialDelay ?? 0)
    const window = Math.min(maxDelay, base * factor ** Math.max(0, attempt - 1))
    // Uniform over [floor, window]: clamping draws below the floor would pile them up there.
    return MIN_DELAY + random() * (window - MIN_DELAY)
  }
  return {
    setServerBase(ms) {
      serverBase = ms
    },
    delay(attempt, error) {
      const ms = pick(attempt, error)
      // Below the floor, NaN (a NaN setting) or junk (a function's): the floor.
      return ms === false ? ms : within(ms, MIN_DELAY, MAX_TIMER, MIN_DELAY)
    },
  }
}
