import { describe, expect, test } from 'vitest'
import { compareEventIds, createMemoryStore, isEventId, parseEventId, type StoredEvent } from '../../../src/server'
import { describeEventStoreContract } from './store-contract'

describeEventStoreContract('createMemoryStore', () => createMemoryStore())

function clock(start = 1_000_000) {
  let time = start
  return {
    now: () => time,
    set(value: number) {
      time = value
    },
    advance(ms: number) {
      time += ms
    },
  }
}

describe('ids', () => {
  test.each([
    ['0-0', true],
    ['1700000000000-0', true],
    ['1700000000000-12', true],
    ['9007199254740991-9007199254740991', true],
    ['9007199254740992-0', false],
    ['99999999999999999999-0', false],
    ['-1-0', false],
    ['1-', false],
    ['1', false],
    [' 1-0', false],
    ['1-0 ', false],
    ['1.5-0', false],
    ['0x1-0', false],
    ['', false],
    ['earliest', false],
  ])('isEventId(%j) is %s', (id, expected) => {
    expect(isEventId(id)).toBe(expected)
  })

  test('compares numerically, not as strings', () => {
    expect(compareEventIds('10-0', '9-0')).toBeGreaterThan(0)
    expect(compareEventIds('5-10', '5-9')).toBeGreaterThan(0)
    expect(compareEventIds('5-1', '5-1')).toBe(0)
    expect(compareEventIds('4-99', '5-0')).toBeLessThan(0)
    expect(() => compareEventIds('x', '1-0')).toThrow(TypeError)
  })
})

describe('createMemoryStore', () => {
  test('ids are <ms>-<seq>: same ms increments seq, and never go backwards with the clock', async () => {
    const time = clock(5000)
    const store = createMemoryStore({ now: time.now })
    expect(await store.head()).toBe('0-0')
    expect(await store.oldest()).toBeNull()
    const ids = [await store.append({ event: 'message', data: 'a' }), await store.append({ event: 'message', data: 'b' })]
    time.set(6000)
    ids.push(await store.append({ event: 'message', data: 'c' }))
    time.set(4000) // the clock jumps back
    ids.push(await store.append({ event: 'message', data: 'd' }))
    time.set(7000)
    ids.push(await store.append({ event: 'message', data: 'e' }))
    expect(ids).toEqual(['5000-0', '5000-1', '6000-0', '6000-1', '7000-0'])
    expect(await store.head()).toBe('7000-0')
    expect(await store.oldest()).toBe('5000-0')
  })

  test('explicit ids must be after the head', async () => {
    const store = createMemoryStore({ now: () => 100 })
    expect(await store.append({ event: 'message', data: 'a', id: '500-3' })).toBe('500-3')
    await expect(store.append({ event: 'message', data: 'b', id: '500-3' })).rejects.toMatchObject({ name: 'HubError', code: 'invalid-id' })
    await expect(store.append({ event: 'message', data: 'b', id: '400-0' })).rejects.toMatchObject({ code: 'invalid-id' })
    // The generated id continues after the explicit one although the clock is behind it.
    expect(await store.append({ event: 'message', data: 'c' })).toBe('500-4')
    const page = await store.readAfter('0-0', 10)
    expect(page.events.map((event) => event.data)).toEqual(['a', 'c'])
  })

  test('readAfter pages with limit and more, exclusive of the cursor', async () => {
    const time = clock()
    const store = createMemoryStore({ now: time.now })
    const ids: string[] = []
    for (let index = 0; index < 7; index += 1) {
      ids.push(await store.append({ event: 'message', data: String(index) }))
      if (index % 2 === 0) time.advance(1)
    }
    const first = await store.readAfter('0-0', 3)
    expect(first).toMatchObject({ more: true, expired: false, from: '0-0' })
    expect(first.events.map((event) => event.id)).toEqual(ids.slice(0, 3))
    const second = await store.readAfter(ids[2]!, 10)
    expect(second.events.map((event) => event.id)).toEqual(ids.slice(3))
    expect(second.more).toBe(false)
    // A cursor between two ids (never issued) is a position: events after it.
    const between = parseEventId(ids[3]!)!
    const page = await store.readAfter(`${between.ms}-${between.seq + 100}`, 10)
    expect(page.events[0]!.id).toBe(ids.find((id) => compareEventIds(id, `${between.ms}-${between.seq + 100}`) > 0))
    expect((await store.readAfter(ids[6]!, 10)).events).toEqual([])
  })

  test('keeps at most maxEvents; older cursors are expired and continue from the floor', async () => {
    const time = clock()
    const store = createMemoryStore({ maxEvents: 3, now: time.now })
    const ids: string[] = []
    for (let index = 0; index < 5; index += 1) {
      time.advance(1)
      ids.push(await store.append({ event: 'message', data: String(index) }))
    }
    expect(await store.oldest()).toBe(ids[2])
    const expired = await store.readAfter(ids[0]!, 10)
    expect(expired).toMatchObject({ expired: true, from: ids[1], more: false })
    expect(expired.events.map((event) => event.data)).toEqual(['2', '3', '4'])
    // The newest dropped id is still a complete cursor.
    expect(await store.readAfter(ids[1]!, 10)).toMatchObject({ expired: false, from: ids[1] })
    expect((await store.readAfter('0-0', 10)).expired).toBe(true)
  })

  test('drops events older than maxAge (injected clock)', async () => {
    const time = clock(10_000)
    const store = createMemoryStore({ maxAge: 1000, now: time.now })
    const a = await store.append({ event: 'message', data: 'a' })
    time.advance(600)
    const b = await store.append({ event: 'message', data: 'b' })
    time.advance(500) // a is 1100 ms old, b 500 ms
    expect(await store.oldest()).toBe(b)
    const page = await store.readAfter('0-0', 10)
    expect(page).toMatchObject({ expired: true, from: a })
    expect(page.events.map((event) => event.data)).toEqual(['b'])
    time.advance(600)
    expect(await store.oldest()).toBeNull()
    expect(await store.head()).toBe(b)
    expect((await store.readAfter(b, 10)).expired).toBe(false)
  })

  test('the ring buffer wraps around many times without losing order', async () => {
    const time = clock()
    const store = createMemoryStore({ maxEvents: 7, now: time.now })
    const ids: string[] = []
    for (let index = 0; index < 100; index += 1) {
      if (index % 3 === 0) time.advance(1)
      ids.push(await store.append({ event: 'message', data: String(index) }))
    }
    const page = await store.readAfter(ids[92]!, 100)
    expect(page.events.map((event) => event.data)).toEqual(['93', '94', '95', '96', '97', '98', '99'])
    expect((await store.readAfter(ids[91]!, 100)).expired).toBe(true)
    expect((await store.readAfter(ids[95]!, 2)).events.map((event) => event.data)).toEqual(['96', '97'])
  })

  test('subscribers get every append in order; a throwing one harms nobody', async () => {
    const store = createMemoryStore()
    const seen: StoredEvent[] = []
    const stopThrowing = store.subscribe(() => {
      throw new Error('listener bug')
    })
    const stop = store.subscribe((event) => seen.push(event))
    await store.append({ event: 'message', data: 'a' })
    await store.append({ event: 'x', data: 'b' })
    stop()
    stopThrowing()
    await store.append({ event: 'message', data: 'c' })
    expect(seen.map((event) => `${event.event}:${event.data}`)).toEqual(['message:a', 'x:b'])
  })

  test('rejects appends after close', async () => {
    const store = createMemoryStore()
    await store.close()
    await expect(store.append({ event: 'message', data: 'a' })).rejects.toMatchObject({ code: 'closed' })
  })

  test('rejects a bad maxEvents', () => {
    expect(() => createMemoryStore({ maxEvents: 0 })).toThrow(RangeError)
  })

  test('rejects a maxAge that is not a number ≥ 0 (NaN would keep every event forever)', () => {
    for (const maxAge of [Number.NaN, -1, '60000' as unknown as number]) {
      expect(() => createMemoryStore({ maxAge })).toThrow(/maxAge/)
    }
    expect(() => createMemoryStore({ maxAge: Number.POSITIVE_INFINITY })).not.toThrow()
  })
})
