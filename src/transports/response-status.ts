import type { Env } from '../env'
import { StreamError } from '../errors'
import type { Attempt } from './http'

/**
 * Whether another attempt may succeed after this status: 5xx, 429 and 408.
 * @param status - an HTTP status other than 200
 */
export const isRetryableStatus = (status: number): boolean => status >= 500 || status === 429 || status === 408

/**
 * Reads `Retry-After`: delta-seconds or an HTTP-date.
 * @see https://httpwg.org/specs/rfc9110.html#field.retry-after
 * @param value - the header value
 * @param now - the current time in ms (`env.now()`)
 * @returns the delay in ms, or `undefined` when absent or unreadable
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  value = value?.trim() ?? ''
  if (/^\d+$/.test(value)) return +value * 1000
  // Every HTTP-date form names the month in letters; `Date.parse` alone takes '-5' or '1.5'.
  const date = /[a-z]{3}/i.test(value) ? Date.parse(value) : NaN
  return isNaN(date) ? undefined : Math.max(0, date - now)
}

/**
 * The error for a response whose status is not 200 (204 and 4xx other than 408/429 are final).
 * @param response - the response
 * @param env - for `now()` (HTTP-date `Retry-After`)
 * @returns an `http-status` error with `status`, `retryable` and `retryAfter`
 */
export const statusError = ({ status, headers }: Response, env: Env): StreamError =>
  new StreamError('http-status', 'HTTP ' + status, {
    status,
    retryable: isRetryableStatus(status),
    retryAfter: parseRetryAfter(headers.get('Retry-After'), env.now()),
  })

/**
 * The media type of a `Content-Type` value without parameters, lower-cased.
 * @param value - the header value
 */
export const contentTypeEssence = (value: string | null): string => (value ?? '').split(';')[0]!.trim().toLowerCase()

/**
 * Checks status and content type; reports the error to the attempt's sink when they are wrong.
 * @returns whether the response is acceptable
 */
export function acceptResponse(response: Response, expected: string, attempt: Attempt, env: Env): boolean {
  const type = contentTypeEssence(response.headers.get('Content-Type'))
  const error =
    response.status !== 200
      ? statusError(response, env)
      : type !== expected && new StreamError('content-type', `expected ${expected}, got ${type || 'none'}`)
  if (error) attempt.sink.error(error)
  return !error
}
