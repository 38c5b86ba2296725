import { describe, expect, test } from 'vitest'
import { type EventStore, type StoredEvent, compareEventIds, isEventId, isHubError } from '../../../src/server'

/**
 * The behaviour every `EventStore` must have, as a reusable suite: call it from a store's test
 * file with a factory that returns a fresh, empty store (a Redis store: a fresh stream key).
 * Retention is store-specific and tested separately.
 */
export function describeEventStoreContract(name: string, create: () => EventStore | Promise<EventStore>): void {
  describe(`EventStore contract: ${name}`, () => {
    const append = (store: EventStore, data: string, event = 'message') => store.append({ event, data })

    test('an empty store', async () => {
      const store = await create()
      expect(await store.head()).toBe('0-0')
      expect(await store.oldest()).toBeNull()
      expect(await store.readAfter('0-0', 10)).toEqual({ events: [], more: false, expired: false, from: '0-0' })
      await store.close()
    })

    test('ids are well-formed and strictly increasing; head and oldest follow', async () => {
      const store = await create()
      const ids: string[] = []
      for (let index = 0; index < 50; index += 1) ids.push(await append(store, String(index)))
      for (const id of ids) expect(isEventId(id)).toBe(true)
      for (let index = 1; index < ids.length; index += 1) expect(compareEventIds(ids[index]!, ids[index - 1]!)).toBeGreaterThan(0)
      expect(await store.head()).toBe(ids.at(-1))
      expect(await store.oldest()).toBe(ids[0])
      await store.close()
    })

    test('readAfter is exclusive and pages with limit and more, each event exactly once', async () => {
      const store = await create()
      const ids: string[] = []
      for (let index = 0; index < 23; index += 1) ids.push(await append(store, `d${index}`, index % 3 === 0 ? 'x' : 'message'))
      const seen: StoredEvent[] = []
      let cursor = '0-0'
      for (;;) {
        const page = await store.readAfter(cursor, 5)
        expect(page.expired).toBe(false)
        expect(page.from).toBe(cursor)
        expect(page.events.length).toBeLessThanOrEqual(5)
        seen.push(...page.events)
        if (!page.more) break
        cursor = page.events.at(-1)!.id
      }
      expect(seen.map((event) => event.id)).toEqual(ids)
      expect(seen[3]).toEqual({ id: ids[3], event: 'x', data: 'd3' })
      expect((await store.readAfter(ids[10]!, 100)).events.map((event) => event.id)).toEqual(ids.slice(11))
      expect((await store.readAfter(ids.at(-1)!, 100)).events).toEqual([])
      await store.close()
    })

    test('data round-trips exactly', async () => {
      const store = await create()
      const samples = ['', 'a\nb\n', ' lead', 'é€😀', 'x'.repeat(100_000), '{"json":[1,2]}']
      for (const data of samples) await append(store, data)
      const page = await store.readAfter('0-0', 100)
      expect(page.events.map((event) => event.data)).toEqual(samples)
      await store.close()
    })

    test('explicit ids must be after the head; a refused append changes nothing', async () => {
      const store = await create()
      const first = await append(store, 'a')
      const [ms] = first.split('-')
      const later = `${Number(ms) + 1000}-5`
      expect(await store.append({ event: 'message', data: 'b', id: later })).toBe(later)
      for (const id of [later, first, '0-1']) {
        const error: unknown = await store.append({ event: 'message', data: 'c', id }).catch((reason: unknown) => reason)
        expect(isHubError(error) && error.code).toBe('invalid-id')
      }
      const page = await store.readAfter('0-0', 10)
      expect(page.events.map((event) => event.data)).toEqual(['a', 'b'])
      expect(await store.head()).toBe(later)
      await store.close()
    })

    test('subscribers see every append in order; unsubscribe stops delivery', async () => {
      const store = await create()
      const seen: StoredEvent[] = []
      const unsubscribe = store.subscribe((event) => seen.push(event))
      const ids: string[] = []
      for (let index = 0; index < 10; index += 1) ids.push(await append(store, String(index)))
      const deadline = Date.now() + 2000
      while (seen.length < 10 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
      unsubscribe()
      await append(store, 'after')
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(seen.map((event) => event.id)).toEqual(ids)
      expect(seen).toEqual((await store.readAfter('0-0', 10)).events)
      await store.close()
    })

    test('append rejects with closed after close()', async () => {
      const store = await create()
      await store.close()
      const error: unknown = await append(store, 'x').catch((reason: unknown) => reason)
      expect(isHubError(error) && error.code).toBe('closed')
    })
  })
}
