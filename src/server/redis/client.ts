import { Buffer } from 'node:buffer'
import type { StoredEvent } from '../store'

/**
 * The part of a node-redis (v4 or later) client the Redis store uses. Declared here so
 * `resilient-sse/server` type-checks without `redis` installed; a `createClient()` result fits.
 */
export interface RedisClientLike {
  /** Whether the connection is up and commands are sent now. */
  readonly isReady: boolean
  /** Whether the client was connected (it may be reconnecting). */
  readonly isOpen: boolean
  /** Sends a raw command. */
  sendCommand(args: readonly string[]): Promise<unknown>
  /** A new client with the same options (and these overrides), not connected yet. */
  duplicate(overrides?: { disableOfflineQueue?: boolean }): RedisClientLike
  /** Opens the connection. */
  connect(): Promise<unknown>
  /** Closes the connection at once, failing pending commands. */
  destroy(): void
  /** Closes after pending commands are answered. */
  close?(): Promise<unknown>
  /** Older clients' name for {@link RedisClientLike.close}. */
  quit?(): Promise<unknown>
  /** Listens to `error`, `ready` and other client events. */
  on(event: string, listener: (...args: unknown[]) => void): unknown
}

/** Lowest Redis version the store works with: `XTRIM … MINID`, exclusive `XRANGE (id`. */
export const MIN_REDIS_VERSION: readonly [number, number] = [6, 2]

/**
 * @param info - the text of `INFO server`
 * @returns `redis_version`, or `undefined` when absent
 */
export function parseRedisVersion(info: string): string | undefined {
  return /^redis_version:([^\r\n]+)/m.exec(info)?.[1]?.trim()
}

/**
 * Compares a Redis version with the minimum.
 * @param version - e.g. `"7.0.15"`
 * @returns whether it is at least {@link MIN_REDIS_VERSION}
 */
export function isSupportedRedisVersion(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10))
  const [wantMajor, wantMinor] = MIN_REDIS_VERSION
  return major > wantMajor || (major === wantMajor && minor >= wantMinor)
}

/** A reply value as text: strings as is, Buffers (custom type mappings) decoded as UTF-8. */
export function replyText(value: unknown): string {
  if (typeof value === 'string') return value
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8')
  return String(value)
}

/**
 * One stream entry `[id, [field, value, …]]` as an event.
 * @returns the event; a missing `event` field reads as `"message"`, missing `data` as `""`
 */
export function entryToEvent(entry: unknown): StoredEvent {
  const [id, fields] = entry as [unknown, unknown[] | null]
  let event = 'message'
  let data = ''
  const list = fields ?? []
  for (let index = 0; index + 1 < list.length; index += 2) {
    const name = replyText(list[index])
    if (name === 'event') event = replyText(list[index + 1])
    else if (name === 'data') data = replyText(list[index + 1])
  }
  return { id: replyText(id), event, data }
}

/**
 * The reply of `XREAD … STREAMS` as `[key, entries]` pairs: RESP2 sends an array of pairs, RESP3
 * a map (a plain object or a `Map`, depending on the client's type mapping); `null` on timeout.
 */
export function xreadStreams(reply: unknown): Array<[string, unknown[]]> {
  if (reply === null || reply === undefined) return []
  if (Array.isArray(reply)) {
    return reply.map((pair) => {
      const [key, entries] = pair as [unknown, unknown[]]
      return [replyText(key), entries ?? []]
    })
  }
  const entries = reply instanceof Map ? [...reply.entries()] : Object.entries(reply as Record<string, unknown>)
  return entries.map(([key, value]) => [replyText(key), (value as unknown[] | null) ?? []])
}
