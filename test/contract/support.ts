import type { StreamError } from '../../src/errors'
import type { EventStreamMessage } from '../../src/parser/types'
import type { ConnectRequest, TransportSink } from '../../src/transports/types'

/**
 * A complete {@link ConnectRequest} with test defaults.
 * @param overrides - fields to change
 */
export function connectRequest(overrides: Partial<ConnectRequest> = {}): ConnectRequest {
  return {
    url: 'http://127.0.0.1:1/events',
    lastEventId: undefined,
    startToken: undefined,
    headers: {},
    hasCustomHeaders: false,
    method: 'GET',
    body: undefined,
    withCredentials: false,
    maxEventSize: 1 << 20,
    ping: undefined,
    wait: undefined,
    protocolQuery: true,
    eventTypes: [],
    ...overrides,
  }
}

/** One recorded sink call. */
export type SinkCall =
  | { kind: 'open' }
  | { kind: 'message'; message: EventStreamMessage }
  | { kind: 'retry'; ms: number }
  | { kind: 'received'; bytes: number }
  | { kind: 'warning'; error: StreamError }
  | { kind: 'error'; error: StreamError }
  | { kind: 'end' }

/** A sink that records every call; `settled` resolves on `error` or `end`. */
export interface RecordingSink {
  readonly sink: TransportSink
  readonly calls: SinkCall[]
  /** Resolves with the terminal call (`error` or `end`). */
  readonly settled: Promise<SinkCall>
  /** Messages only. */
  messages(): EventStreamMessage[]
  /** Messages whose type does not start with `_`. */
  appMessages(): EventStreamMessage[]
  /** Calls other than `received`, as kinds. */
  kinds(): string[]
  /** The terminal error, failing when the attempt did not end in one. */
  error(): Promise<StreamError>
  /** Resolves at the first message for which `predicate` holds. */
  nextMessage(predicate?: (message: EventStreamMessage) => boolean): Promise<EventStreamMessage>
  /** Runs `hook` synchronously inside every `message` call (e.g. to close there). */
  onMessage(hook: (message: EventStreamMessage) => void): void
}

/** @returns a fresh {@link RecordingSink} */
export function recordSink(): RecordingSink {
  const calls: SinkCall[] = []
  let settle!: (call: SinkCall) => void
  const settled = new Promise<SinkCall>((resolve) => (settle = resolve))
  const waiters: Array<{ predicate: (m: EventStreamMessage) => boolean; resolve: (m: EventStreamMessage) => void }> = []
  let hook: ((message: EventStreamMessage) => void) | undefined
  const push = (call: SinkCall): void => {
    calls.push(call)
    if (call.kind === 'error' || call.kind === 'end') settle(call)
    if (call.kind === 'message') {
      hook?.(call.message)
      for (const waiter of [...waiters]) {
        if (waiter.predicate(call.message)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(call.message)
        }
      }
    }
  }
  const messages = (): EventStreamMessage[] =>
    calls.flatMap((call) => (call.kind === 'message' ? [call.message] : []))
  return {
    calls,
    settled,
    sink: {
      open: () => push({ kind: 'open' }),
      message: (message) => push({ kind: 'message', message }),
      retryHint: (ms) => push({ kind: 'retry', ms }),
      received: (bytes) => push({ kind: 'received', bytes }),
      warning: (error) => push({ kind: 'warning', error }),
      error: (error) => push({ kind: 'error', error }),
      end: () => push({ kind: 'end' }),
    },
    messages,
    appMessages: () => messages().filter((message) => !message.type.startsWith('_')),
    kinds: () => calls.filter((call) => call.kind !== 'received').map((call) => call.kind),
    error: async () => {
      const call = await settled
      if (call.kind !== 'error') throw new Error(`Expected an error, got ${call.kind}`)
      return call.error
    },
    nextMessage: (predicate = () => true) => {
      const seen = messages().find(predicate)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve) => waiters.push({ predicate, resolve }))
    },
    onMessage: (next) => {
      hook = next
    },
  }
}

/** Resolves after `ms` (bounded waits that let a wrongly late call show up). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
