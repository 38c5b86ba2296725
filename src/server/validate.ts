import { Buffer } from 'node:buffer'
import { HubError } from './errors'
import { isEventId } from './ids'
import type { AppendInput, EventInput } from './store'

const FORBIDDEN_IN_FIELD = /[\r\n\0]/

interface WellFormedString {
  isWellFormed?(): boolean
}

/**
 * Checks and normalises an event before it reaches the store.
 * @param input - what the app passed to `publish`
 * @param maxEventSize - largest event name + data + id, in UTF-8 bytes
 * @returns the event to append (data with LF line breaks only)
 * @throws HubError with the code of the first problem found
 */
export function validateEventInput(input: EventInput, maxEventSize: number): AppendInput {
  if (typeof input !== 'object' || input === null) {
    throw new HubError('invalid-data', 'publish() takes an object { event?, data, id? }')
  }
  const event = input.event ?? 'message'
  if (typeof event !== 'string' || FORBIDDEN_IN_FIELD.test(event)) {
    throw new HubError('invalid-event', 'The event name must be a string without CR, LF or NUL')
  }
  if (event.startsWith('_')) {
    throw new HubError('reserved-event', `Event names starting with "_" are reserved for the protocol: ${JSON.stringify(event)}`)
  }
  if (typeof input.data !== 'string') {
    throw new HubError('invalid-data', `Event data must be a string, got ${input.data === null ? 'null' : typeof input.data}; serialise it first (e.g. JSON.stringify)`)
  }
  // A lone surrogate would become U+FFFD on the SSE wire but stay in poll JSON: refuse it so every
  // transport delivers the same string.
  if ((input.data as WellFormedString).isWellFormed?.() === false) {
    throw new HubError('invalid-data', 'Event data contains a lone surrogate (not well-formed UTF-16)')
  }
  if (input.id !== undefined && !isEventId(input.id)) {
    throw new HubError('invalid-id', `Event id must be <ms>-<seq>, got ${JSON.stringify(String(input.id)).slice(0, 80)}`)
  }
  const data = input.data.includes('\r') ? input.data.replace(/\r\n?/g, '\n') : input.data
  const size = Buffer.byteLength(event) + Buffer.byteLength(data) + (input.id?.length ?? 20)
  if (size > maxEventSize) {
    throw new HubError('too-large', `Event is ${size} bytes, more than maxEventSize (${maxEventSize})`)
  }
  return input.id === undefined ? { event, data } : { event, data, id: input.id }
}
