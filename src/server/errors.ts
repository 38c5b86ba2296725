/**
 * Why the hub refused a call, as a closed set of codes. Check `error.code`, never the message.
 *
 * - `reserved-event`: the event name starts with `_` (reserved for the protocol).
 * - `invalid-event`: the event name is not a string or contains CR, LF or NUL.
 * - `invalid-data`: `data` is not a string or is not well-formed UTF-16 (lone surrogates).
 * - `invalid-id`: an explicit id is not `<ms>-<seq>` or not greater than the log's head.
 * - `too-large`: event name, data and id together exceed `maxEventSize` bytes (UTF-8).
 * - `closed`: the hub or store was closed.
 * - `store-unavailable`: a networked store (Redis) could not be reached or refused the command;
 *   the event may or may not have been stored if the connection dropped mid-command.
 */
export type HubErrorCode =
  | 'reserved-event'
  | 'invalid-event'
  | 'invalid-data'
  | 'invalid-id'
  | 'too-large'
  | 'closed'
  | 'store-unavailable'

/** Plain-object form of a {@link HubError}. */
export interface HubErrorLike {
  readonly name: 'HubError'
  readonly code: HubErrorCode
  readonly message: string
}

/**
 * The one error class of `resilient-sse/server`: `publish` rejects with it, and nothing already
 * in the log is lost when it does.
 *
 * @example
 * ```ts
 * try {
 *   await hub.publish({ event: '_canary', data: 'x' })
 * } catch (error) {
 *   if (isHubError(error) && error.code === 'reserved-event') console.warn(error.message)
 * }
 * ```
 */
export class HubError extends Error implements HubErrorLike {
  override readonly name = 'HubError' as const
  readonly code: HubErrorCode

  /**
   * @param code - what went wrong
   * @param message - a sentence for people
   * @param options - `cause`: the underlying error, if any
   */
  constructor(code: HubErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
  }
}

/**
 * Checks by `name` and `code`, not only `instanceof` (errors may cross realms or be cloned).
 * @param value - anything
 * @returns whether `value` is a `HubError` or its plain form
 */
export function isHubError(value: unknown): value is HubErrorLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { name?: unknown }).name === 'HubError' &&
    typeof (value as { code?: unknown }).code === 'string'
  )
}
