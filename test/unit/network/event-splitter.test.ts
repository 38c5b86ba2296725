import { describe, expect, test } from 'vitest'
import { createEventSplitter } from '../../support/proxies'

function split(chunks: readonly string[]): { blocks: string[]; rest: string } {
  const splitter = createEventSplitter()
  const blocks: string[] = []
  for (const chunk of chunks) {
    for (const block of splitter.push(Buffer.from(chunk))) blocks.push(block.toString('utf8'))
  }
  return { blocks, rest: splitter.rest().toString('utf8') }
}

describe('createEventSplitter', () => {
  test.each([
    ['LF', 'data: a\n\ndata: b\n\n', ['data: a\n\n', 'data: b\n\n']],
    ['CRLF', 'data: a\r\n\r\ndata: b\r\n\r\n', ['data: a\r\n\r\n', 'data: b\r\n\r\n']],
    ['CR', 'data: a\r\rdata: b\r\r', ['data: a\r\r', 'data: b\r\r']],
    ['mixed', 'data: a\r\n\ndata: b\n\r\n', ['data: a\r\n\n', 'data: b\n\r\n']],
    ['multi-line event', 'id: 1\nevent: x\ndata: a\ndata: b\n\n', ['id: 1\nevent: x\ndata: a\ndata: b\n\n']],
    ['comment block', ': ping\n\ndata: a\n\n', [': ping\n\n', 'data: a\n\n']],
  ])('%s line endings', (_name, input, expected) => {
    expect(split([input])).toEqual({ blocks: expected, rest: '' })
  })

  test('leading blank lines stay with the next block', () => {
    expect(split(['\n\n\ndata: a\n\n'])).toEqual({ blocks: ['\n\n\ndata: a\n\n'], rest: '' })
  })

  test('keeps the unfinished block as rest', () => {
    expect(split(['data: a\n\ndata: b\n'])).toEqual({ blocks: ['data: a\n\n'], rest: 'data: b\n' })
  })

  test('every split point of a stream yields the same bytes, in order', () => {
    const input = 'id: 1\r\ndata: a\r\n\r\n: c\n\ndata: b\r\rdata: c\n\n'
    for (let cut = 0; cut <= input.length; cut++) {
      const { blocks, rest } = split([input.slice(0, cut), input.slice(cut)])
      expect(blocks.join('') + rest).toBe(input)
      expect(blocks.length).toBe(4)
      expect(rest).toBe('')
    }
  })

  test('a CRLF split across chunks still ends the block', () => {
    const { blocks, rest } = split(['data: a\r\n\r', '\ndata: b\n\n'])
    expect(blocks).toEqual(['data: a\r\n\r', '\ndata: b\n\n'])
    expect(rest).toBe('')
  })
})
