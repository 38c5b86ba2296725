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
  constructor(code: StreamErrorCode, message: string, { retryable, status, retryAfter, cause }: StreamErrorOptions = {}) {
    super(message, cause === undefined ? undefined : { cause })
    this.code = code
    this.retryable = !!retryable
    if (status !== undefined) this.status = status
    if (retryAfter !== undefined) this.retryAfter = retryAfter
  }

  /** @returns the plain-object form, safe to post across a worker or channel. */
  toJSON(): StreamErrorLike {
    const { name, code, message, retryable, status, retryAfter } = this
    return {
      name,
      code,
      message,
      retryable,
      ...(status !== undefined && { status }),
      ...(retryAfter !== undefined && { retryAfter }),
    }
  }

  /**
   * Rebuilds a `StreamError` from its plain form (after `postMessage`).
   * @param like - an object that passes {@link isStreamError}
   * @returns a real `StreamError`
   */
  static from(like: StreamErrorLike): StreamError {
    return like instanceof StreamError ? like : new StreamError(like.code, like.message, like)
  }
}

/**
 * Checks by `name` and `code`, not only `instanceof`: errors crossing a SharedWorker or
 * BroadcastChannel are structured-cloned and lose their prototype.
 * @param value - anything
 * @returns whether `value` is a `StreamError` or its plain form
 */
export function isStreamError(value: unknown): value is StreamErrorLike {
  return typeof value === 'object' && (value as StreamErrorLike | null)?.name === 'StreamError' && typeof (value as StreamErrorLike).code === 'string'
}
