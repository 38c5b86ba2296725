/**
 * What went wrong, as a closed set of codes. Check `error.code`, never the message.
 *
 * - `http-status`: the server answered with a status that is not 200 (see `status`).
 * - `content-type`: a 200 whose `Content-Type` is not what the transport expects.
 * - `network`: the request failed or the body broke off.
 * - `parse`: the server sent something that cannot be read (e.g. invalid long-poll JSON).
 * - `too-large`: an event exceeded `maxEventSize` and was dropped.
 * - `unsupported`: the transport cannot run here (missing API, headers on native EventSource).
 * - `timeout`: nothing arrived in time (canary, stall, long-poll deadline).
 * - `aborted`: the caller closed the stream or aborted its signal.
 * - `listener`: an app listener threw; the stream goes on.
 * - `gap`: the server no longer holds the requested cursor; events were missed.
 * - `buffered`: an intermediary holds the stream back.
 * - `headers`: the app's `headers` function threw or rejected.
 */
export type StreamErrorCode =
  | 'http-status'
  | 'content-type'
  | 'network'
  | 'parse'
  | 'too-large'
  | 'unsupported'
  | 'timeout'
  | 'aborted'
  | 'listener'
  | 'gap'
  | 'buffered'
  | 'headers'

/** Plain-object form of a {@link StreamError}: what survives `structuredClone`. */
export interface StreamErrorLike {
  readonly name: 'StreamError'
  readonly code: StreamErrorCode
  readonly message: string
  readonly retryable: boolean
  readonly status?: number
  /** Server-requested delay before the next attempt, in ms (from `Retry-After` or `_backoff`). */
  readonly retryAfter?: number
}

/** Options of the {@link StreamError} constructor. */
export interface StreamErrorOptions {
  retryable?: boolean
  status?: number
  retryAfter?: number
  cause?: unknown
}

/**
 * The one error class of resilient-sse. Every error the SDK reports is a `StreamError`.
 *
 * @example
 * ```ts
 * es.addEventListener('error', (e) => {
 *   const err = e.error
 *   if (isStreamError(err) && err.code === 'http-status' && err.status === 403) logout()
 * })
 * ```
 */
export class StreamError extends Error implements StreamErrorLike {
  override readonly name = 'StreamError' as const
  readonly code: StreamErrorCode
  readonly retryable: boolean
  readonly status?: number
  readonly retryAfter?: number

  /**
   * @param code - what went wrong
   * @param message - a sentence for people
   * @param options - `retryable` (default `false`), `status`, `retryAfter`, `cause`
   */
  constructor(code: StreamErrorCode, message: string, options: StreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.retryable = options.retryable ?? false
    if (options.status !== undefined) this.status = options.status
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter
  }

  /** @returns the plain-object form, safe to post across a worker or channel. */
  toJSON(): StreamErrorLike {
    const plain: { -readonly [K in keyof StreamErrorLike]: StreamErrorLike[K] } = {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
    }
    if (this.status !== undefined) plain.status = this.status
    if (this.retryAfter !== undefined) plain.retryAfter = this.retryAfter
    return plain
  }

  /**
   * Rebuilds a `StreamError` from its plain form (after `postMessage`).
   * @param like - an object that passes {@link isStreamError}
   * @returns a real `StreamError`
   */
  static from(like: StreamErrorLike): StreamError {
    if (like instanceof StreamError) return like
    const options: StreamErrorOptions = { retryable: like.retryable }
    if (like.status !== undefined) options.status = like.status
    if (like.retryAfter !== undefined) options.retryAfter = like.retryAfter
    return new StreamError(like.code, like.message, options)
  }
}

/**
 * Checks by `name` and `code`, not only `instanceof`: errors crossing a SharedWorker or
 * BroadcastChannel are structured-cloned and lose their prototype.
 * @param value - anything
 * @returns whether `value` is a `StreamError` or its plain form
 */
export function isStreamError(value: unknown): value is StreamErrorLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { name?: unknown }).name === 'StreamError' &&
    typeof (value as { code?: unknown }).code === 'string'
  )
}
