import type { Env } from '../env'
import { StreamError } from '../errors'
import type { Attempt } from './http'

/**
 * Whether another attempt may succeed after this status: 5xx, 429 and 408.
 * @param status - an HTTP status other than 200
 */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408
}

/**
 * Reads `Retry-After`: delta-seconds or an HTTP-date.
 * @see https://httpwg.org/specs/rfc9110.html#field.retry-after
 * @param value - the header value
 * @param now - the current time in ms (`env.now()`)
 * @returns the delay in ms, or `undefined` when absent or unreadable
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  // Every HTTP-date form names the month in letters; `Date.parse` alone takes '-5' or '1.5'.
  const date = /[a-z]{3}/i.test(trimmed) ? Date.parse(trimmed) : Number.NaN
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/**
 * The error for a response whose status is not 200.
 * @param response - the response
 * @param env - for `now()` (HTTP-date `Retry-After`)
 * @returns an `http-status` error with `status`, `retryable` and `retryAfter`
 */
export function statusError(response: Response, env: Env): StreamError {
  const { status } = response
  const retryAfter = parseRetryAfter(response.headers.get('Retry-After'), env.now())
  const options = { status, retryable: status !== 204 && isRetryableStatus(status) }
  return new StreamError('http-status', `Server answered ${status}`, {
    ...options,
    ...(retryAfter === undefined ? {} : { retryAfter }),
  })
}

/**
 * The media type of a `Content-Type` value without parameters, lower-cased.
 * @param value - the header value
 */
export function contentTypeEssence(value: string | null): string {
  return (value ?? '').split(';')[0]!.trim().toLowerCase()
}

/**
 * Checks status and content type; reports the error to the attempt's sink when they are wrong.
 * @returns whether the response is acceptable
 */
export function acceptResponse(response: Response, expected: string, attempt: Attempt, env: Env): boolean {
  if (response.status !== 200) {
    attempt.sink.error(statusError(response, env))
    return false
  }
  const type = contentTypeEssence(response.headers.get('Content-Type'))
  if (type !== expected) {
    attempt.sink.error(
      new StreamError('content-type', `Expected ${expected}, got ${type || 'no Content-Type'}`),
    )
    return false
  }
  return true
}
