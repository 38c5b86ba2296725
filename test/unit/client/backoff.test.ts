import { describe, expect, test } from 'vitest'
import { StreamError } from '../../../src/errors'
import { createBackoff, MAX_SERVER_DELAY, MAX_TIMER, MIN_DELAY } from '../../../src/retry'

const network = new StreamError('network', 'down', { retryable: true })

describe('full-jitter backoff', () => {
  test('window doubles from the base up to maxDelay; a draw of 1 hits the window edge', () => {
    const backoff = createBackoff({}, () => 1)
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoff.delay(n, network))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000])
  })

  test('delays are uniform in [floor, window]: a draw of 0 gives the 100 ms floor', () => {
    const backoff = createBackoff({}, () => 0)
    expect(backoff.delay(1, network)).toBe(MIN_DELAY)
    const spread = createBackoff({}, () => 0.5)
    expect(spread.delay(3, network)).toBe(2050)
  })

  test('the stream’s retry: replaces the base', () => {
    const backoff = createBackoff({}, () => 1)
    backoff.setServerBase(3000)
    expect(backoff.delay(1, network)).toBe(3000)
    expect(backoff.delay(2, network)).toBe(6000)
  })

  test('the stream’s retry: lowers the default base too', () => {
    const backoff = createBackoff({}, () => 1)
    backoff.setServerBase(500)
    expect(backoff.delay(1, network)).toBe(500)
  })

  test('an explicit initialDelay is a floor: retry: raises it, never lowers it', () => {
    const backoff = createBackoff({ initialDelay: 3000 }, () => 1)
    backoff.setServerBase(1500)
    expect(backoff.delay(1, network)).toBe(3000)
    backoff.setServerBase(5000)
    expect(backoff.delay(1, network)).toBe(5000)
  })

  test('Retry-After wins: that wait plus up to half of it, capped at 5 minutes', () => {
    const low = createBackoff({}, () => 0)
    const high = createBackoff({}, () => 1)
    const error = new StreamError('http-status', '503', { retryable: true, status: 503, retryAfter: 4000 })
    expect(low.delay(1, error)).toBe(4000)
    expect(high.delay(1, error)).toBe(6000)
    const huge = new StreamError('http-status', '503', { retryable: true, status: 503, retryAfter: 3_600_000 })
    expect(high.delay(1, huge)).toBe(MAX_SERVER_DELAY)
  })

  test('maxAttempts gives up; false never retries; a function decides', () => {
    expect(createBackoff({ maxAttempts: 2 }, () => 0).delay(3, network)).toBe(false)
    expect(createBackoff(false, () => 0).delay(1, network)).toBe(false)
    const custom = createBackoff((attempt) => (attempt > 2 ? false : attempt * 150), () => 0)
    expect([1, 2, 3].map((n) => custom.delay(n, network))).toEqual([150, 300, false])
  })

  test('every delay stays within 100 ms – MAX_TIMER, whatever the settings or the function return', () => {
    const from = (value: unknown): number | false => createBackoff(() => value as number, () => 0.5).delay(1, network)
    expect([10, 0, -1, NaN, undefined, '0', Infinity, 1e12].map(from)).toEqual([
      MIN_DELAY, MIN_DELAY, MIN_DELAY, MIN_DELAY, MIN_DELAY, MIN_DELAY, MAX_TIMER, MAX_TIMER,
    ])
    for (const settings of [{ initialDelay: NaN }, { factor: NaN }, { maxDelay: -1 }, { initialDelay: 1e15, maxDelay: Infinity }]) {
      for (const draw of [0, 0.5, 1]) {
        const delay = createBackoff(settings, () => draw).delay(3, network) as number
        expect(delay >= MIN_DELAY && delay <= MAX_TIMER).toBe(true)
      }
    }
    const retryAfter = new StreamError('http-status', '503', { retryable: true, status: 503, retryAfter: 0 })
    expect(createBackoff({}, () => 0).delay(1, retryAfter)).toBe(MIN_DELAY)
  })

  test('custom initialDelay, factor and maxDelay', () => {
    const backoff = createBackoff({ initialDelay: 200, factor: 3, maxDelay: 5000 }, () => 1)
    expect([1, 2, 3, 4].map((n) => backoff.delay(n, network))).toEqual([200, 600, 1800, 5000])
  })

  test('10,000 draws spread evenly: no 100 ms window of the first second holds more than 12.5 %', () => {
    let seed = 42
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    const backoff = createBackoff({}, random)
    const buckets = new Array<number>(10).fill(0)
    for (let i = 0; i < 10_000; i++) {
      const delay = backoff.delay(1, network) as number
      buckets[Math.min(9, Math.floor(delay / 100))]! += 1
    }
    expect(Math.max(...buckets)).toBeLessThan(1250)
  })
})
