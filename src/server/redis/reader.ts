import { compareEventIds } from '../ids'
import type { StoredEvent, StoreListener } from '../store'
import { entryToEvent, type RedisClientLike, xreadStreams } from './client'

/** Options of {@link StreamReader}. */
export interface StreamReaderOptions {
  /** The shared command connection: `CLIENT UNBLOCK` is sent on it. */
  readonly main: () => Promise<RedisClientLike>
  /** Creates the dedicated blocking connection (not connected yet). */
  readonly createConnection: (main: RedisClientLike) => RedisClientLike
  /** Most entries per `XREAD`. */
  readonly count: number
  /** `XREAD BLOCK` timeout in ms: also bounds how long a silently dead connection goes unnoticed. */
  readonly block: number
  /** Backoff after a failed read: first delay ceiling and cap, in ms. */
  readonly backoff: { readonly base: number; readonly cap: number }
  readonly random: () => number
}

interface Subscription {
  readonly listener: StoreListener
  /** Deliver events after this id: the stream's head when the subscription started. */
  from: string | undefined
  ready: Promise<void>
}

interface WatchedKey {
  /** The last id read for this key; the next `XREAD` continues after it. */
  cursor: string | undefined
  readonly subscriptions: Set<Subscription>
  readonly head: () => Promise<string>
}

/**
 * Live fan-out for every stream key of one Redis client: ONE `XREAD BLOCK` loop on ONE dedicated
 * connection, whatever the number of keys, stores or subscribers. After any failure (Redis
 * restarted, connection dropped) it backs off with jitter and reads again after the last id it
 * delivered per key, so subscribers miss nothing and see nothing twice.
 */
export class StreamReader {
  readonly #options: StreamReaderOptions
  readonly #keys = new Map<string, WatchedKey>()
  #connection: RedisClientLike | undefined
  #connectionId: number | undefined
  #running = false
  #stopped = false
  #inFlight = false
  #reading = new Set<string>()
  #interrupting = false
  #wake: (() => void) | undefined

  constructor(options: StreamReaderOptions) {
    this.#options = options
  }

  /**
   * Delivers the key's events appended after this call (after `head()` as read now) in id order.
   * @param key - the stream key
   * @param head - reads the stream's head; called at once, so it is ordered before later appends
   *   made through the same connection
   * @returns the unsubscribe function
   */
  subscribe(key: string, head: () => Promise<string>, listener: StoreListener): () => void {
    let watched = this.#keys.get(key)
    const isNewKey = watched === undefined
    if (watched === undefined) {
      watched = { cursor: undefined, subscriptions: new Set(), head }
      this.#keys.set(key, watched)
    }
    const subscription: Subscription = { listener, from: undefined, ready: Promise.resolve() }
    subscription.ready = head().then(
      (id) => {
        subscription.from ??= id
      },
      // Redis unreachable: the loop reads the head again once it is back.
      () => {},
    )
    watched.subscriptions.add(subscription)
    if (!this.#running) void this.#run()
    else if (isNewKey) void this.#interrupt()
    this.#wake?.()
    const owner = watched
    return () => {
      owner.subscriptions.delete(subscription)
      if (owner.subscriptions.size === 0 && this.#keys.get(key) === owner) this.#keys.delete(key)
    }
  }

  /** Stops the loop and closes the dedicated connection. */
  stop(): void {
    this.#stopped = true
    this.#keys.clear()
    this.#wake?.()
    this.#connection?.destroy()
    this.#connection = undefined
  }

  async #run(): Promise<void> {
    this.#running = true
    let failures = 0
    try {
      while (!this.#stopped) {
        if (this.#keys.size === 0) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve
          })
          this.#wake = undefined
          continue
        }
        try {
          await this.#readOnce()
          failures = 0
        } catch {
          this.#inFlight = false
          this.#connectionId = undefined
          if (this.#stopped) break
          failures += 1
          await this.#pause(failures)
        }
      }
    } finally {
      this.#running = false
    }
  }

  async #readOnce(): Promise<void> {
    const connection = await this.#connect()
    const keys: string[] = []
    const cursors: string[] = []
    for (const [key, watched] of [...this.#keys]) {
      watched.cursor ??= await this.#firstCursor(watched)
      keys.push(key)
      cursors.push(watched.cursor)
    }
    if (this.#stopped || keys.length === 0) return
    // CLIENT ID is pipelined ahead of the read (no extra round trip): `CLIENT UNBLOCK` needs it
    // to restart the read when a new key must join, and it changes on every reconnect.
    const idReply = connection.sendCommand(['CLIENT', 'ID'])
    const readReply = connection.sendCommand([
      'XREAD',
      'COUNT',
      String(this.#options.count),
      'BLOCK',
      String(this.#options.block),
      'STREAMS',
      ...keys,
      ...cursors,
    ])
    // Both fail together when the connection drops; mark them handled until awaited.
    idReply.catch(() => {})
    readReply.catch(() => {})
    this.#reading = new Set(keys)
    this.#inFlight = true
    this.#connectionId = Number(await idReply)
    const reply = await readReply
    this.#inFlight = false
    await this.#dispatch(reply)
  }

  async #connect(): Promise<RedisClientLike> {
    if (this.#connection === undefined) {
      const connection = this.#options.createConnection(await this.#options.main())
      // Failures surface as rejected reads; without a listener node-redis would throw them.
      connection.on('error', () => {})
      this.#connection = connection
    }
    const connection = this.#connection
    if (!connection.isOpen) await connection.connect()
    if (this.#stopped) throw new Error('stopped')
    return connection
  }

  /** Where reading a newly watched key starts: the earliest head its subscribers saw. */
  async #firstCursor(watched: WatchedKey): Promise<string> {
    const subscriptions = [...watched.subscriptions]
    await Promise.all(subscriptions.map((subscription) => subscription.ready))
    let cursor: string | undefined
    for (const { from } of subscriptions) {
      if (from !== undefined && (cursor === undefined || compareEventIds(from, cursor) < 0)) cursor = from
    }
    if (cursor === undefined) cursor = await watched.head()
    for (const subscription of subscriptions) subscription.from ??= cursor
    return cursor
  }

  async #dispatch(reply: unknown): Promise<void> {
    for (const [key, entries] of xreadStreams(reply)) {
      const watched = this.#keys.get(key)
      if (watched?.cursor === undefined) continue
      // Subscriptions that joined during the read must know where they start first.
      const pending = [...watched.subscriptions].filter((subscription) => subscription.from === undefined)
      if (pending.length > 0) {
        await Promise.all(pending.map((subscription) => subscription.ready))
        for (const subscription of pending) subscription.from ??= watched.cursor
      }
      for (const entry of entries) {
        const event: StoredEvent = entryToEvent(entry)
        if (compareEventIds(event.id, watched.cursor) <= 0) continue
        watched.cursor = event.id
        for (const subscription of watched.subscriptions) {
          if (subscription.from === undefined || compareEventIds(event.id, subscription.from) <= 0) continue
          // A throwing listener must not stop the others nor the loop.
          try {
            subscription.listener(event)
          } catch {}
        }
      }
    }
  }

  /**
   * A new key must join the blocked read: unblock it (the reply is a timeout) so the loop reads
   * again with every key. `CLIENT UNBLOCK` is a no-op until the read is actually blocked, so it
   * is repeated until the running read covers every watched key.
   */
  async #interrupt(): Promise<void> {
    if (this.#interrupting) return
    this.#interrupting = true
    try {
      for (let attempt = 0; attempt < 500 && !this.#stopped; attempt += 1) {
        if (!this.#inFlight || [...this.#keys.keys()].every((key) => this.#reading.has(key))) return
        if (this.#connectionId !== undefined) {
          const main = await this.#options.main()
          await main.sendCommand(['CLIENT', 'UNBLOCK', String(this.#connectionId)])
        }
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
    } catch {
      // Redis is unreachable: the read fails too, and the loop restarts with every key.
    } finally {
      this.#interrupting = false
    }
  }

  #pause(failures: number): Promise<void> {
    const { base, cap } = this.#options.backoff
    const ceiling = Math.min(cap, base * 2 ** (failures - 1))
    // Equal jitter: spread nodes reconnecting after the same outage, never a hot loop.
    const delay = ceiling / 2 + (this.#options.random() * ceiling) / 2
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined
        resolve()
      }, delay)
      this.#wake = () => {
        if (!this.#stopped) return
        clearTimeout(timer)
        resolve()
      }
    })
  }
}
