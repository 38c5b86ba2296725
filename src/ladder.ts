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
 * @param url - the absolute endpoint (its query is ignored: verdicts are per origin + path)
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
  const { origin, pathname } = new URL(url)
  const key = PREFIX + origin + pathname
  let local: string | null = null
  // Storage can throw (quota, privacy mode): a verdict is an optimisation, never an error.
  const write = (value: string | null): void => {
    local = value
    try {
      if (value === null) storage?.removeItem(key)
      else storage?.setItem(key, value)
    } catch {
      // keep the in-memory copy
    }
  }
  return {
    recall() {
      let raw = local
      try {
        if (storage) raw = storage.getItem(key)
      } catch {
        // the in-memory copy it is
      }
      if (!raw) return undefined
      try {
        const { transport, until } = JSON.parse(raw)
        if (typeof transport === 'string' && typeof until === 'number' && until > now()) {
          return { transport: transport as TransportName, until }
        }
      } catch {
        // a corrupt entry is treated as none
      }
      write(null)
      return undefined
    },
    remember: (transport) => write(JSON.stringify({ transport, until: now() + ttl })),
    forget: () => write(null),
  }
}

/**
 * The rung to step down to when a streaming rung is buffered: the first `close`-mode
 * transport below `from`, else the first `poll`-mode one; the other streaming rung is skipped.
 * @returns its index, or `-1` when there is none
 */
export function stepDownIndex(ladder: readonly Transport[], from: number): number {
  const below = (mode: string): number => ladder.findIndex((transport, index) => index > from && transport.mode === mode)
  const close = below('close')
  return close < 0 ? below('poll') : close
}
