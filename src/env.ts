/** The part of `fetch` resilient-sse uses. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

/** The part of the `EventSource` constructor resilient-sse uses. */
export interface EventSourceLike {
  readonly readyState: number
  onopen: ((event: Event) => unknown) | null
  onerror: ((event: Event) => unknown) | null
  onmessage: ((event: MessageEvent) => unknown) | null
  addEventListener(type: string, listener: (event: MessageEvent) => void): void
  close(): void
}
export type EventSourceConstructorLike = new (
  url: string,
  init?: { withCredentials?: boolean },
) => EventSourceLike

/** The part of `localStorage` resilient-sse uses (remembered transport verdicts). */
export interface StorageLike {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

/**
 * The platform, injected. Every member is read when used, never captured at import time, so
 * test spies, msw and polyfills installed later still take effect.
 */
export interface Env {
  fetch(): FetchLike | undefined
  EventSource(): EventSourceConstructorLike | undefined
  storage(): StorageLike | undefined
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
  now(): number
  random(): number
  /** `false` only when the platform says it is offline. */
  isOnline(): boolean
  /** Subscribes to `online`/`offline`; returns the unsubscribe function. */
  onNetworkChange(listener: (online: boolean) => void): () => void
}

/** Overrides for {@link Env}; anything left out is read from `globalThis` when used. */
export interface EnvOptions {
  fetch?: FetchLike
  EventSource?: EventSourceConstructorLike
  storage?: StorageLike | null
  setTimeout?: (callback: () => void, ms: number) => unknown
  clearTimeout?: (handle: unknown) => void
  now?: () => number
  random?: () => number
}

interface GlobalLike {
  fetch?: FetchLike
  EventSource?: EventSourceConstructorLike
  localStorage?: StorageLike
  navigator?: { onLine?: boolean }
  addEventListener?: (type: string, listener: () => void) => void
  removeEventListener?: (type: string, listener: () => void) => void
}

/**
 * Builds an {@link Env} from overrides and the globals of wherever the code runs (page,
 * worker, Node ≥ 20).
 * @param options - platform APIs to use instead of the globals
 * @returns the environment
 */
export function createEnv(options: EnvOptions = {}): Env {
  // Members are read from it when used, never captured here.
  const global = globalThis as unknown as GlobalLike
  return {
    fetch: () => options.fetch ?? global.fetch?.bind(globalThis),
    EventSource: () => options.EventSource ?? global.EventSource,
    storage: () => {
      // Reading localStorage throws in sandboxed iframes and with storage disabled.
      try {
        return options.storage === undefined ? global.localStorage : (options.storage ?? undefined)
      } catch {
        return undefined
      }
    },
    setTimeout: (callback, ms) => (options.setTimeout ?? setTimeout)(callback, ms),
    clearTimeout: (handle) => (options.clearTimeout ?? clearTimeout)(handle as ReturnType<typeof setTimeout>),
    now: options.now ?? (() => Date.now()),
    random: options.random ?? Math.random,
    isOnline: () => global.navigator?.onLine !== false,
    onNetworkChange: (listener) => {
      const online = (): void => listener(true)
      const offline = (): void => listener(false)
      const each = (method: 'addEventListener' | 'removeEventListener'): void => {
        global[method]?.('online', online)
        global[method]?.('offline', offline)
      }
      each('addEventListener')
      return () => each('removeEventListener')
    },
  }
}
