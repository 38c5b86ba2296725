import { connect } from 'node:net'
import { createParser } from 'eventsource-parser'
import { afterEach, describe, expect, test } from 'vitest'
import { formatEventFrame, formatReservedFrame, formatRetryFrame } from '../../../src/server/frames'
import { type TestServer, startHub } from './helpers'

function parse(text: string) {
  const events: { event: string | undefined; id: string | undefined; data: string }[] = []
  const retries: number[] = []
  createParser({ onEvent: (event) => events.push({ event: event.event, id: event.id, data: event.data }), onRetry: (ms) => retries.push(ms) }).feed(text)
  return { events, retries }
}

describe('frames', () => {
  test.each([
    ['plain', 'hello', 'hello'],
    ['empty', '', ''],
    ['LF', 'a\nb', 'a\nb'],
    ['CR LF', 'a\r\nb', 'a\nb'],
    ['lone CR', 'a\rb', 'a\nb'],
    ['trailing LF', 'a\n', 'a\n'],
    ['only line breaks', '\n\r\n\r', '\n\n\n'],
    ['an injected field', 'x\nid: 666-0\nevent: _end\n\ndata: evil', 'x\nid: 666-0\nevent: _end\n\ndata: evil'],
    ['leading spaces', '  two', '  two'],
    ['a colon first', ':not a comment', ':not a comment'],
    ['NUL', 'a\0b', 'a\0b'],
    ['unicode', 'é€😀', 'é€😀'],
  ])('data with %s stays one event with the same data', (_label, data, expected) => {
    const frame = formatEventFrame({ id: '5-1', event: 'tick', data })
    const { events } = parse(frame)
    expect(events).toEqual([{ event: 'tick', id: '5-1', data: expected }])
  })

  test('message events have no event: line; reserved frames have JSON data and an optional id', () => {
    expect(formatEventFrame({ id: '1-0', event: 'message', data: 'x' })).toBe('id: 1-0\ndata: x\n\n')
    expect(formatReservedFrame('_ping', { t: 5, n: 1 })).toBe('event: _ping\ndata: {"t":5,"n":1}\n\n')
    expect(formatReservedFrame('_gap', { reason: 'future' }, '9-9')).toBe('id: 9-9\nevent: _gap\ndata: {"reason":"future"}\n\n')
    const { events, retries } = parse(formatRetryFrame(1234.4) + formatEventFrame({ id: '1-0', event: 'message', data: 'x' }))
    expect(retries).toEqual([1234])
    expect(events).toHaveLength(1)
  })
})

describe('the first TCP chunk', () => {
  let server: TestServer | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  test('carries the response headers and the _canary together', async () => {
    server = await startHub()
    const { port } = new URL(server.url)
    const socket = connect(Number(port), '127.0.0.1')
    socket.setEncoding('utf8')
    const first = new Promise<string>((resolve) => socket.once('data', (chunk: string) => resolve(chunk)))
    socket.write('GET /events?mode=stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    const chunk = await first
    socket.destroy()
    expect(chunk.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true)
    const [head, body] = chunk.split('\r\n\r\n', 2) as [string, string]
    expect(head).toMatch(/\r\ncontent-type: text\/event-stream; charset=utf-8/i)
    expect(head).toMatch(/\r\ntransfer-encoding: chunked/i)
    expect(body).toMatch(/^[0-9a-f]+\r\nevent: _canary\ndata: \{"v":1,"mode":"stream"/)
    expect(body).toMatch(/retry: \d+\n\n\r\n$/)
  })
})
