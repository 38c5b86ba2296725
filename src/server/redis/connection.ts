import { HubError } from '../errors'
import { isSupportedRedisVersion, parseRedisVersion, type RedisClientLike, replyText } from './client'
import { StreamReader } from './reader'

/** How a {@link RedisConnection} gets its client. */
export type RedisConnectionSource = { readonly url: string } | { readonly client: RedisClientLike }

const shared = new WeakMap<RedisClientLike, RedisConnection>()

/**
 * One Redis client as the stores share it: the command connection, the version check and the
 * one blocking reader. Stores built on the same client (topics, or several `{ client }` stores)
 * share one of these, hence one `XREAD` connection.
 */
export class RedisConnection {
  /**
   * @param source - a url (a new client, owned) or a client (shared with other stores on it)
   * @returns the connection to attach a new store to
   */
  static open(source: RedisConnectionSource): RedisConnection {
    if (!('client' in source)) return new RedisConnection(source)
    let connection = shared.get(source.client)
    if (connection === undefined || connection.closed) {
      connection = new RedisConnection(source)
      shared.set(source.client, connection)
    }
    return connection
  }

  readonly owned: boolean
  readonly where: string
  readonly #client: Promise<RedisClientLike>
  readonly #firstReady: Promise<void>
  #everReady = false
  #lastError: unknown
  #version: Promise<void> | undefined
  #reader: StreamReader | undefined
  #stores = 0
  #closed = false

  private constructor(source: RedisConnectionSource) {
    let markReady!: () => void
    this.#firstReady = new Promise((resolve) => {
      markReady = resolve
    })
    const watch = (client: RedisClientLike): RedisClientLike => {
      client.on('ready', () => {
        this.#everReady = true
        markReady()
      })
      if (client.isReady) {
        this.#everReady = true
        markReady()
      }
      return client
    }
    if ('client' in source) {
      this.owned = false
      this.where = 'the given client'
      const client = watch(source.client)
      // A client handed over unconnected is connected here; failures show up on first use.
      if (!client.isOpen) client.connect().catch(() => {})
      this.#client = Promise.resolve(client)
    } else {
      this.owned = true
      this.where = redactUrl(source.url)
      this.#client = import('redis').then(({ createClient }) => {
        // Without the offline queue a command fails at once while Redis is down, instead of
        // waiting (unbounded) for the reconnect: a publish must not hang.
        const client = watch(createClient({ url: source.url, disableOfflineQueue: true }) as unknown as RedisClientLike)
        client.on('error', (error: unknown) => {
          this.#lastError = error
        })
        client.connect().catch(() => {})
        return client
      })
      this.#client.catch(() => {})
    }
  }

  /** Counts a store using this connection. */
  attach(): void {
    this.#stores += 1
  }

  /** Whether {@link RedisConnection.shutdown} ran. */
  get closed(): boolean {
    return this.#closed
  }

  /**
   * The client, connected and checked (Redis ≥ 6.2). Before the first connection it waits up to
   * `timeout` ms; afterwards a disconnected client fails at once.
   * @throws HubError `store-unavailable`
   */
  async ready(timeout: number): Promise<RedisClientLike> {
    let client: RedisClientLike
    try {
      client = await this.#client
    } catch (error) {
      throw new HubError('store-unavailable', 'RedisStreamStore with `url` needs the `redis` package (npm install redis)', { cause: error })
    }
    if (!client.isReady && !this.#everReady) {
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([this.#firstReady, new Promise((resolve) => (timer = setTimeout(resolve, timeout)))])
      clearTimeout(timer)
    }
    if (!client.isReady) throw this.unavailable(this.#lastError)
    this.#version ??= this.#checkVersion(client)
    await this.#version
    return client
  }

  /** The shared blocking reader, created on first use. */
  reader(): StreamReader {
    this.#reader ??= new StreamReader({
      main: () => this.#client,
      createConnection: (main) => main.duplicate({ disableOfflineQueue: true }),
      count: 1000,
      block: 5000,
      backoff: { base: 50, cap: 2000 },
      random: Math.random,
    })
    return this.#reader
  }

  /** A store stopped using the connection; the last one stops the reader (and owned client). */
  async release(): Promise<void> {
    this.#stores -= 1
    if (this.#stores <= 0) await this.shutdown()
  }

  /** Stops the reader and, when the connection created the client, closes it. */
  async shutdown(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#reader?.stop()
    if (!this.owned) return
    const client = await this.#client.catch(() => undefined)
    if (client === undefined) return
    try {
      if (client.isReady) await (client.close?.() ?? client.quit?.())
      else client.destroy()
    } catch {
      client.destroy()
    }
  }

  /** @returns the `store-unavailable` error for a failed command or an unreachable server */
  unavailable(cause?: unknown): HubError {
    const reason = cause instanceof Error ? `: ${cause.message}` : ''
    return new HubError('store-unavailable', `Redis (${this.where}) is unavailable${reason}`, { cause })
  }

  async #checkVersion(client: RedisClientLike): Promise<void> {
    let version: string | undefined
    try {
      version = parseRedisVersion(replyText(await client.sendCommand(['INFO', 'server'])))
    } catch (error) {
      // Connection trouble, not a verdict: check again on next use.
      this.#version = undefined
      throw this.unavailable(error)
    }
    if (version !== undefined && !isSupportedRedisVersion(version)) {
      throw new HubError(
        'store-unavailable',
        `RedisStreamStore needs Redis 6.2 or later (XTRIM MINID, exclusive XRANGE); ${this.where} runs Redis ${version}`,
      )
    }
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'the given url'
  }
}
