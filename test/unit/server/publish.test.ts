import { describe, expect, test } from 'vitest'
import { type EventInput, HubError, createEventHub, createMemoryStore, isHubError } from '../../../src/server'

describe('publish', () => {
  test('returns increasing ids and counts published events', async () => {
    const hub = createEventHub()
    const a = await hub.publish({ data: 'a' })
    const b = await hub.publish({ event: 'x', data: 'b' })
    expect(a).toMatch(/^\d+-\d+$/)
    expect(b).not.toBe(a)
    expect(hub.stats().published).toBe(2)
    await hub.close()
  })

  test.each<[string, unknown, HubError['code']]>([
    ['a reserved name', { event: '_canary', data: 'x' }, 'reserved-event'],
    ['a reserved-looking name', { event: '_mine', data: 'x' }, 'reserved-event'],
    ['a name with LF', { event: 'a\nid: 9-9', data: 'x' }, 'invalid-event'],
    ['a name with CR', { event: 'a\rb', data: 'x' }, 'invalid-event'],
    ['a name with NUL', { event: 'a\0b', data: 'x' }, 'invalid-event'],
    ['a non-string name', { event: 42, data: 'x' }, 'invalid-event'],
    ['object data', { data: { a: 1 } }, 'invalid-data'],
    ['number data', { data: 5 }, 'invalid-data'],
    ['missing data', {}, 'invalid-data'],
    ['null data', { data: null }, 'invalid-data'],
    ['a lone surrogate', { data: 'a\uD800b' }, 'invalid-data'],
    ['a null event', null, 'invalid-data'],
    ['an id with LF', { data: 'x', id: '1-0\nevent: y' }, 'invalid-id'],
    ['an id with NUL', { data: 'x', id: '1-0\0' }, 'invalid-id'],
    ['a free-form id', { data: 'x', id: 'abc' }, 'invalid-id'],
    ['an id not after the head', { data: 'x', id: '1-0' }, 'invalid-id'],
    ['oversize data', { data: 'x'.repeat(2000) }, 'too-large'],
    ['oversize multi-byte data', { data: '€'.repeat(400) }, 'too-large'],
  ])('rejects %s with a typed HubError and keeps the log', async (_label, input, code) => {
    const store = createMemoryStore()
    const hub = createEventHub({ store, maxEventSize: 1100 })
    const kept = await hub.publish({ data: 'kept' })
    const error: unknown = await hub.publish(input as EventInput).then(
      () => undefined,
      (reason: unknown) => reason,
    )
    expect(error).toBeInstanceOf(HubError)
    expect(isHubError(error)).toBe(true)
    expect((error as HubError).code).toBe(code)
    const page = await store.readAfter('0-0', 10)
    expect(page.events).toEqual([{ id: kept, event: 'message', data: 'kept' }])
    expect(hub.stats().published).toBe(1)
    await hub.close()
  })

  test('accepts an event just under maxEventSize, NUL in data, and explicit later ids', async () => {
    const store = createMemoryStore()
    const hub = createEventHub({ store, maxEventSize: 100 })
    await expect(hub.publish({ data: 'x'.repeat(100 - 7 - 20) })).resolves.toBeTypeOf('string')
    await expect(hub.publish({ data: 'a\0b' })).resolves.toBeTypeOf('string')
    await expect(hub.publish({ data: 'x', id: '99999999999999-0' })).resolves.toBe('99999999999999-0')
    const page = await store.readAfter('0-0', 10)
    expect(page.events.map((event) => event.data.length)).toEqual([73, 3, 1])
    await hub.close()
  })

  test('normalises CR LF and CR in data to LF', async () => {
    const store = createMemoryStore()
    const hub = createEventHub({ store })
    await hub.publish({ data: 'a\r\nb\rc\n\rd' })
    expect((await store.readAfter('0-0', 1)).events[0]!.data).toBe('a\nb\nc\n\nd')
    await hub.close()
  })

  test('rejects with closed after close()', async () => {
    const hub = createEventHub()
    await hub.close()
    await expect(hub.publish({ data: 'x' })).rejects.toMatchObject({ name: 'HubError', code: 'closed' })
  })
})
