import { ResilientEventSource } from '../../../src/client'
import type { ResilientEventSourceOptions } from '../../../src/options'
import type { StreamErrorEvent, TransportChangeEvent } from '../../../src/events'

/** Everything a stream dispatched, in order. */
export interface Recording {
  es: ResilientEventSource
  messages: { type: string; data: string; lastEventId: string }[]
  errors: StreamErrorEvent[]
  changes: TransportChangeEvent[]
  opens: number
  log: string[]
}

/** Opens a stream with fast, deterministic backoff and records what it dispatches. */
export function record(url: string, options: ResilientEventSourceOptions = {}, types: string[] = []): Recording {
  const es = new ResilientEventSource(url, {
    remember: false,
    env: { random: () => 0 },
    ...options,
  })
  const recording: Recording = { es, messages: [], errors: [], changes: [], opens: 0, log: [] }
  const onMessage = (event: MessageEvent<string>): void => {
    recording.messages.push({ type: event.type, data: event.data, lastEventId: event.lastEventId })
    recording.log.push(`${event.type}:${event.data}`)
  }
  es.addEventListener('message', onMessage)
  for (const type of types) es.addEventListener(type, onMessage)
  es.addEventListener('error', (event) => {
    recording.errors.push(event)
    recording.log.push(`error:${event.error.code}${event.error.status ? `:${event.error.status}` : ''}`)
  })
  es.addEventListener('open', () => {
    recording.opens += 1
    recording.log.push('open')
  })
  es.addEventListener('transportchange', (event) => {
    recording.changes.push(event)
    recording.log.push(`transport:${event.transport}:${event.reason}`)
  })
  return recording
}

/** Polls `condition` every 5 ms until it holds, failing after `timeout` ms with `what`. */
export async function until(condition: () => boolean, what: string, timeout = 5000): Promise<void> {
  const start = Date.now()
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export const SSE = { 'Content-Type': 'text/event-stream' }
