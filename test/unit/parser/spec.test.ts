import { describe, expect, test } from 'vitest'
import { chunkings, loadSpecCases, runParser } from './harness'
import type { ChunkMode } from './harness'

const cases = loadSpecCases()
const modes: ChunkMode[] = ['whole-string', 'whole-bytes', 'string-splits', 'byte-splits', 'one-byte', 'one-char']
const isTextMode = (mode: ChunkMode): boolean => mode.includes('string') || mode === 'one-char'
const rules = [...new Set(cases.map((row) => row.rule))]

// Every case of the shared table, fed whole, cut in two at every character and every byte, and
// fed one byte (and one character) at a time. Cases given as raw bytes run in the byte modes only.
describe.each(rules)('WHATWG rule: %s', (rule) => {
  describe.each(modes)('%s', (mode) => {
    const rows = cases.filter((row) => row.rule === rule && (row.input !== undefined || !isTextMode(mode)))
    if (rows.length === 0) return
    test.each(rows.map((row) => [row.name, row] as const))('%s', (_name, row) => {
      const runs = chunkings(row, mode)
      expect(runs.length).toBeGreaterThan(0)
      for (const chunks of runs) {
        const log = runParser(chunks)
        const where = `chunks ${JSON.stringify(chunks.map((chunk) => (typeof chunk === 'string' ? chunk : Array.from(chunk))))}`
        expect(log.events, where).toEqual(row.events)
        expect(log.retries, where).toEqual(row.retries)
        expect(log.comments, where).toEqual(row.comments)
        expect(log.errors, where).toEqual([])
      }
    })
  })
})

test('the table covers every rule of the brief', () => {
  expect(rules).toEqual(
    expect.arrayContaining(['dispatch', 'data', 'space', 'line-ends', 'bom', 'no-colon', 'unknown', 'event', 'id', 'retry', 'comment', 'utf-8']),
  )
})
