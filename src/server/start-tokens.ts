/** Options of {@link StartTokens}. */
export interface StartTokenOptions {
  /** How long a token is remembered after first sight, in ms. */
  readonly ttl: number
  /** Most tokens remembered; the oldest is forgotten first. */
  readonly maxEntries: number
  readonly now: () => number
}

interface TokenEntry {
  readonly cursor: Promise<string>
  readonly expires: number
}

/**
 * Remembers `token → head at first sight`, so a client without a cursor loses nothing between
 * its first request (maybe held by a proxy) and a later one on another transport.
 * Entries are never refreshed (like Redis `SET NX EX`).
 */
export class StartTokens {
  readonly #options: StartTokenOptions
  readonly #entries = new Map<string, TokenEntry>()

  constructor(options: StartTokenOptions) {
    this.#options = options
  }

  /**
   * @param token - a validated start token
   * @param head - reads the log's head; called only on first sight
   * @returns the cursor the token stands for
   */
  resolve(token: string, head: () => Promise<string>): Promise<string> {
    const now = this.#options.now()
    const known = this.#entries.get(token)
    if (known !== undefined && known.expires > now) return known.cursor
    if (known !== undefined) this.#entries.delete(token)
    // Stored as a promise, synchronously: two concurrent first requests share one head.
    const cursor = head()
    this.#entries.set(token, { cursor, expires: now + this.#options.ttl })
    cursor.catch(() => this.#entries.delete(token))
    this.#evict(now)
    return cursor
  }

  /** How long a token is remembered, in ms. */
  get ttl(): number {
    return this.#options.ttl
  }

  /** Number of tokens remembered. */
  get size(): number {
    return this.#entries.size
  }

  #evict(now: number): void {
    // Map iteration is insertion order, i.e. oldest first (entries are never refreshed).
    for (const [token, entry] of this.#entries) {
      if (this.#entries.size <= this.#options.maxEntries && entry.expires > now) break
      this.#entries.delete(token)
    }
  }
}
