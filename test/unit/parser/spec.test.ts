import { describe, expect, test } from 'vitest'
import { chunkings, loadSpecCases, runParser } from './harness'
import type { ChunkMode } from './harness'

const cases = loadSpecCases()
const modes: ChunkMode[] = ['whole-string', 'whole-bytes', 'string-splits', 'byte-splits', 'one-byte', 'one-char']
const rules = [...new Set(cases.map((row) => row.rule))]

describe.each(rules)('WHATWG rule: %s', (rule) => {
  const rows = cases.filter((row) => row.rule === rule)
  describe.each(modes)('%s', (mode) => {
    test.each(rows.map((row) => [row.name, row] as const))('%s', (_name, row) => {
      const runs = chunkings(row, mode)
      if (row.input !== undefined || mode.endsWith('bytes') || mode.startsWith('byte') || mode === 'one-byte') {
        expect(runs.length).toBeGreaterThan(0)
      }
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
