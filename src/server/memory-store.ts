import { HubError } from './errors'
import { type EventIdParts, compareIdParts, formatEventId, nextIdParts, parseEventId } from './ids'
import type { AppendInput, EventStore, ReadResult, StoreListener, StoredEvent } from './store'

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most events retained; the oldest is dropped on overflow.
   * @defaultValue 10000
   */
  maxEvents?: number
  /**
   * Longest time an event is retained, in ms; `Infinity` keeps events until `maxEvents` pushes
   * them out. NaN or a negative value throws a `RangeError`.
   * @defaultValue 600000 (10 minutes)
   */
  maxAge?: number
  /**
   * Clock, in ms since the epoch: ids and ages are taken from it.
   * @defaultValue `Date.now`
   */
  now?: () => number
}

interface MemoryRecord {
  readonly event: StoredEvent
  readonly parts: EventIdParts
  readonly time: number
}

class MemoryStore implements EventStore {
  readonly #capacity: number
  readonly #maxAge: number
  readonly #now: () => number
  readonly #ring: (MemoryRecord | undefined)[]
  readonly #listeners = new Set<StoreListener>()
  #start = 0
  #size = 0
  #head: EventIdParts = { ms: 0, seq: 0 }
  /** Id of the newest event dropped so far: every event after it is retained. */
  #floor: EventIdParts = { ms: 0, seq: 0 }
  #closed = false

  constructor(options: MemoryStoreOptions) {
    const maxEvents = options.maxEvents ?? 10_000
    if (!Number.isInteger(maxEvents) || maxEvents < 1) {
      throw new RangeError(`maxEvents must be a positive integer, got ${maxEvents}`)
    }
    this.#capacity = maxEvents
    const maxAge = options.maxAge ?? 600_000
    // NaN would keep every event forever (no age compares as older than it).
    if (typeof maxAge !== 'number' || !(maxAge >= 0)) {
      throw new RangeError(`maxAge must be a number of ms ≥ 0 (Infinity: no age limit), got ${maxAge}`)
    }
    this.#maxAge = maxAge
    this.#now = options.now ?? Date.now
    // Grown on demand up to the capacity, so a large maxEvents costs nothing until used.
    this.#ring = []
  }

  async append(input: AppendInput): Promise<string> {
    if (this.#closed) throw new HubError('closed', 'The store is closed')
    const now = this.#now()
    let parts: EventIdParts
    if (input.id === undefined) {
      parts = nextIdParts(this.#head, now)
    } else {
      const explicit = parseEventId(input.id)
      if (explicit === undefined || compareIdParts(explicit, this.#head) <= 0) {
        throw new HubError('invalid-id', `Event id ${JSON.stringify(input.id)} is not an <ms>-<seq> id after the head ${formatEventId(this.#head)}`)
      }
      parts = explicit
    }
    this.#trim(now)
    if (this.#size === this.#capacity) this.#dropOldest()
    const event: StoredEvent = { id: formatEventId(parts), event: input.event, data: input.data }
    this.#ring[(this.#start + this.#size) % this.#capacity] = { event, parts, time: now }
    this.#size += 1
    this.#head = parts
    for (const listener of this.#listeners) {
      // A throwing listener must not stop the others nor fail the append: the event is stored.
      try {
        listener(event)
      } catch {}
    }
    return event.id
  }

  async readAfter(cursor: string, limit: number): Promise<ReadResult> {
    this.#trim(this.#now())
    const after = parseEventId(cursor) ?? { ms: 0, seq: 0 }
    const expired = compareIdParts(after, this.#floor) < 0
    const from = expired ? formatEventId(this.#floor) : cursor
    const first = expired ? 0 : this.#firstIndexAfter(after)
    const count = Math.max(0, Math.min(Math.floor(limit), this.#size - first))
    const events: StoredEvent[] = []
    for (let index = first; index < first + count; index += 1) events.push(this.#at(index).event)
    return { events, more: first + count < this.#size, expired, from }
  }

  async oldest(): Promise<string | null> {
    this.#trim(this.#now())
    return this.#size === 0 ? null : this.#at(0).event.id
  }

  async head(): Promise<string> {
    return formatEventId(this.#head)
  }

  subscribe(listener: StoreListener): () => void {
    // Wrap so the same function can subscribe twice and unsubscribe independently.
    const entry: StoreListener = (event) => listener(event)
    this.#listeners.add(entry)
    return () => {
      this.#listeners.delete(entry)
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#listeners.clear()
  }

  #at(index: number): MemoryRecord {
    return this.#ring[(this.#start + index) % this.#capacity] as MemoryRecord
  }

  #dropOldest(): void {
    const record = this.#at(0)
    this.#ring[this.#start] = undefined
    this.#start = (this.#start + 1) % this.#capacity
    this.#size -= 1
    this.#floor = record.parts
  }

  #trim(now: number): void {
    const limit = now - this.#maxAge
    while (this.#size > 0 && this.#at(0).time < limit) this.#dropOldest()
  }

  /** Binary search: index of the first retained event whose id is greater than `after`. */
  #firstIndexAfter(after: EventIdParts): number {
    let low = 0
    let high = this.#size
    while (low < high) {
      const middle = (low + high) >>> 1
      if (compareIdParts(this.#at(middle).parts, after) <= 0) low = middle + 1
      else high = middle
    }
    return low
  }
}

/**
 * Creates the default event log: an in-memory ring buffer, bounded by count and age. One
 * process only; use a shared store (Redis Streams) to let any node resume any client.
 *
 * Ids are `<ms>-<seq>` where `ms` is the publish time on this process's clock (or the previous
 * id's `ms` if the clock went backwards), so `ms` doubles as a publish timestamp.
 *
 * @param options - `maxEvents`, `maxAge`, `now`
 * @returns an {@link EventStore}
 * @example
 * ```ts
 * const hub = createEventHub({ store: createMemoryStore({ maxEvents: 50_000 }) })
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): EventStore {
  return new MemoryStore(options)
}
