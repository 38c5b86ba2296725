import type { EventStreamMessage } from '../../../src/parser'

/**
 * A deliberately naive, whole-input transcription of the WHATWG steps, used as the oracle of
 * the property tests. Written for clarity, not speed.
 * @returns the events and retries of a complete stream
 */
export function referenceParse(input: Uint8Array | string): { events: EventStreamMessage[]; retries: number[] } {
  let text = typeof input === 'string' ? input : new TextDecoder('utf-8', { ignoreBOM: true }).decode(input)
  if (text.startsWith('\uFEFF')) text = text.slice(1)
  const lines: string[] = []
  let current = ''
  for (let index = 0; index < text.length; index++) {
    const char = text[index]
    if (char === '\r') {
      lines.push(current)
      current = ''
      if (text[index + 1] === '\n') index++
    } else if (char === '\n') {
      lines.push(current)
      current = ''
    } else current += char
  }
  const events: EventStreamMessage[] = []
  const retries: number[] = []
  let data = ''
  let type = ''
  let ownId: string | undefined
  let lastIdBuffer = ''
  let lastEventId = ''
  for (const line of lines) {
    if (line === '') {
      lastEventId = lastIdBuffer
      if (data === '') {
        type = ''
        ownId = undefined
        continue
      }
      if (data.endsWith('\n')) data = data.slice(0, -1)
      events.push({ type: type === '' ? 'message' : type, data, id: ownId, lastEventId })
      data = ''
      type = ''
      ownId = undefined
      continue
    }
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') type = value
    else if (field === 'data') data += value + '\n'
    else if (field === 'id') {
      if (!value.includes('\0')) {
        lastIdBuffer = value
        ownId = value
      }
    } else if (field === 'retry') {
      if (/^[0-9]+$/.test(value)) retries.push(Number.parseInt(value, 10))
    }
  }
  return { events, retries }
}
