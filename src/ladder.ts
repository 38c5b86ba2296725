import type { StorageLike } from './env'
import type { Transport, TransportName } from './transports/types'

const PREFIX = 'resilient-sse:v1:'

/** Remembers, per origin + path, the transport that worked, for `ttl` ms. */
export interface VerdictMemory {
  /** @returns the remembered transport and when the verdict expires, or `undefined`. */
  recall(): { transport: TransportName; until: number } | undefined
  remember(transport: TransportName): void
  forget(): void
}

/**
 * @param url - the endpoint (its query is ignored: verdicts are per origin + path)
 * @param storage - where to keep verdicts; `undefined` keeps them in memory only
 * @param ttl - how long a verdict holds, in ms
 * @param now - the clock
 */
export function createVerdictMemory(
  url: string,
  storage: StorageLike | undefined,
  ttl: number,
  now: () => number,
): VerdictMemory {
  const key = PREFIX + keyOf(url)
  let local: string | null = null
  // Storage can throw (quota, privacy mode): a verdict is an optimisation, never an error.
  const read = (): string | null => {
    try {
      return storage ? storage.getItem(key) : local
    } catch {
      return local
    }
  }
  const write = (value: string | null): void => {
    local = value
    try {
      if (!storage) return
      if (value === null) storage.removeItem(key)
      else storage.setItem(key, value)
    } catch {
      // keep the in-memory copy
    }
  }
  return {
    recall() {
      const raw = read()
      if (!raw) return undefined
      try {
        const parsed = JSON.parse(raw) as { transport?: unknown; until?: unknown }
        if (typeof parsed.transport === 'string' && typeof parsed.until === 'number' && parsed.until > now()) {
          return { transport: parsed.transport as TransportName, until: parsed.until }
        }
      } catch {
        // a corrupt entry is treated as none
      }
      write(null)
      return undefined
    },
    remember(transport) {
      write(JSON.stringify({ transport, until: now() + ttl }))
    },
    forget() {
      write(null)
    },
  }
}

function keyOf(url: string): string {
  try {
    const parsed = new URL(url)
    return parsed.origin + parsed.pathname
  } catch {
    return url.split('?')[0] ?? url
  }
}

/**
 * The rung to step down to when a streaming rung is buffered: the first `close`-mode
 * transport below `from`, else the first `poll`-mode one; the other streaming rung is skipped.
 * @returns its index, or `-1` when there is none
 */
export function stepDownIndex(ladder: readonly Transport[], from: number): number {
  const below = ladder.slice(from + 1)
  const close = below.findIndex((t) => t.mode === 'close')
  if (close >= 0) return from + 1 + close
  const poll = below.findIndex((t) => t.mode === 'poll')
  return poll >= 0 ? from + 1 + poll : -1
}
