import { readFileSync } from 'node:fs'
import { createEventStreamParser } from '../../../src/parser'
import type { EventStreamMessage, EventStreamParserOptions } from '../../../src/parser'

/** One row of bench/parser-spec-cases.json, with `null` ids turned into `undefined`. */
export interface SpecCase {
  rule: string
  name: string
  input?: string
  bytes?: Array<string | number>
  events: EventStreamMessage[]
  retries: number[]
  comments: string[]
}

interface RawCase extends Omit<SpecCase, 'events' | 'retries' | 'comments'> {
  events: Array<Omit<EventStreamMessage, 'id'> & { id: string | null }>
  retries?: number[]
  comments?: string[]
}

/** @returns the shared WHATWG case table (also used by bench/parser-conformance.mjs) */
export function loadSpecCases(): SpecCase[] {
  const url = new URL('../../../bench/parser-spec-cases.json', import.meta.url)
  const raw = JSON.parse(readFileSync(url, 'utf8')) as { cases: RawCase[] }
  return raw.cases.map((row) => ({
    ...row,
    events: row.events.map((event) => ({ ...event, id: event.id ?? undefined })),
    retries: row.retries ?? [],
    comments: row.comments ?? [],
  }))
}

/** @returns the case's input as UTF-8 bytes (raw numbers kept as bytes) */
export function caseBytes(row: SpecCase): Uint8Array {
  if (row.input !== undefined) return new TextEncoder().encode(row.input)
  const parts: number[] = []
  for (const part of row.bytes ?? []) {
    if (typeof part === 'number') parts.push(part)
    else parts.push(...new TextEncoder().encode(part))
  }
  return Uint8Array.from(parts)
}

/** Everything a parser reported, in separate lists. */
export interface ParserLog {
  events: EventStreamMessage[]
  retries: number[]
  comments: string[]
  errors: string[]
}

/**
 * Feeds `chunks` to a fresh parser, then `end()`.
 * @returns what it reported
 */
export function runParser(
  chunks: Iterable<Uint8Array | string>,
  options: Partial<EventStreamParserOptions> = {},
): ParserLog {
  const log: ParserLog = { events: [], retries: [], comments: [], errors: [] }
  const parser = createEventStreamParser({
    onEvent: (message) => log.events.push(message),
    onRetry: (ms) => log.retries.push(ms),
    onComment: (text) => log.comments.push(text),
    onError: (error) => log.errors.push(error.code),
    ...options,
  })
  for (const chunk of chunks) parser.feed(chunk)
  parser.end()
  return log
}

/** How a case's input is cut into chunks. */
export type ChunkMode = 'whole-string' | 'whole-bytes' | 'string-splits' | 'byte-splits' | 'one-byte' | 'one-char'

/**
 * @returns every chunking of `row` for `mode` (several for the split modes), each a list of chunks
 */
export function chunkings(row: SpecCase, mode: ChunkMode): Array<Array<Uint8Array | string>> {
  const bytes = caseBytes(row)
  const text = row.input
  switch (mode) {
    case 'whole-string':
      return text === undefined ? [] : [[text]]
    case 'whole-bytes':
      return [[bytes]]
    case 'string-splits':
      if (text === undefined) return []
      return Array.from({ length: text.length + 1 }, (_, at) => [text.slice(0, at), text.slice(at)])
    case 'byte-splits':
      return Array.from({ length: bytes.length + 1 }, (_, at) => [bytes.subarray(0, at), bytes.subarray(at)])
    case 'one-byte':
      return [Array.from(bytes, (byte) => Uint8Array.of(byte))]
    case 'one-char':
      return text === undefined ? [] : [Array.from({ length: text.length }, (_, at) => text.charAt(at))]
  }
}
