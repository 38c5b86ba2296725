/** An app event as it is published: `event` defaults to `"message"`. */
export interface EventInput {
  /** Event name (the SSE `event:` field); must not start with `_`. */
  readonly event?: string
  /** Event data; CR LF and lone CR are normalised to LF before it is stored. */
  readonly data: string
  /** An explicit `<ms>-<seq>` id, greater than the log's head; usually left out. */
  readonly id?: string
}

/** An event in the log. */
export interface StoredEvent {
  /** `<ms>-<seq>`, unique and increasing within the log. */
  readonly id: string
  /** Event name, `"message"` by default. */
  readonly event: string
  /** Event data (LF line breaks only). */
  readonly data: string
}

/** What the store is asked to append: the hub has validated and normalised it. */
export interface AppendInput {
  readonly event: string
  readonly data: string
  readonly id?: string
}

/** One page of {@link EventStore.readAfter}. */
export interface ReadResult {
  /** Events after the cursor, oldest first, at most `limit`. */
  readonly events: readonly StoredEvent[]
  /** Whether more events follow the last one returned (read again after its id). */
  readonly more: boolean
  /**
   * Whether events right after the cursor were already trimmed: `events` then starts at the
   * oldest retained event and the caller reports a gap.
   */
  readonly expired: boolean
  /**
   * The position `events` continue from: the cursor itself, or when `expired`, the position
   * just before the oldest retained event. Reading after it loses nothing more.
   */
  readonly from: string
}

/** Called once per appended event, in id order. */
export type StoreListener = (event: StoredEvent) => void

/**
 * The event log behind a hub. Every method is async so a networked store (Redis Streams) fits
 * the same shape. Ids are `<ms>-<seq>`; compare them with `compareEventIds`, never as strings.
 */
export interface EventStore {
  /**
   * Appends one event.
   * @returns its id
   * @throws HubError `invalid-id` when an explicit id is malformed or not after the head;
   *   `closed` after {@link EventStore.close}
   */
  append(input: AppendInput): Promise<string>
  /**
   * Reads events with ids greater than `cursor`.
   * @param cursor - a well-formed id (`"0-0"` for the very beginning); never after the head
   * @param limit - at most this many events
   */
  readAfter(cursor: string, limit: number): Promise<ReadResult>
  /** @returns the oldest retained id, or `null` when nothing is retained */
  oldest(): Promise<string | null>
  /** @returns the newest id ever appended (retained or not), `"0-0"` before the first append */
  head(): Promise<string>
  /**
   * Subscribes to appends.
   * @returns the unsubscribe function
   */
  subscribe(listener: StoreListener): () => void
  /** Releases resources; later appends reject with `closed`. */
  close(): Promise<void>
  /**
   * Optional: records `token → head` unless the token is already known (Redis: `SET NX PX`) and
   * returns the recorded cursor. Shared stores implement it so a client's start token works on
   * every node; without it the hub remembers tokens in process memory.
   * @param token - a validated start token
   * @param ttl - how long to remember a new token, in ms
   * @returns the cursor the token stands for (never after the head)
   */
  claimStartToken?(token: string, ttl: number): Promise<string>
}
