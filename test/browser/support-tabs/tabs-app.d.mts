import type { BrowserContext, Page } from 'playwright-core'

/** The part of the companion hub the app uses (`createEventHub` from src/server or dist/server). */
export interface HubLike {
  handle(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<void>
  publish(event: { data: string; event?: string }): Promise<string>
  stats(): { connections: Readonly<Record<string, number>> }
  close(options?: { timeout?: number }): Promise<void>
}

/** What one tab recorded (see tabs-page.js). */
export interface TabLog {
  messages: { type: string; data: string; id: string; at: number }[]
  opens: number
  errors: string[]
  transport: string | null
}

/** The running app. */
export interface TabsApp {
  readonly url: string
  readonly hub: HubLike
  /** Requests that reached `/events`, in order, with their `mode` and arrival time. */
  readonly eventRequests: { mode: string | null; at: number }[]
  /** How many times `/worker.js` was fetched. */
  workerFetches(): number
  /** Publishes `count` events `every` ms apart, data `"1"`, `"2"`, … continuing the sequence. */
  publish(count: number, every?: number): Promise<void>
  published(): number
  /** Open responses of the hub, all modes together. */
  openConnections(): number
  close(): Promise<void>
}

/**
 * Waits (up to 60 s: a concurrent `tsup` may be rebuilding) for `dist/index.js`.
 * @throws Error naming the build command
 */
export declare function assertBuilt(): Promise<void>

/**
 * Copies the built browser files to a temp folder (a snapshot a concurrent rebuild cannot pull
 * away) and bundles `src/worker.ts` as the package ships it: one file, no imports or exports.
 * @returns the folder, for {@link startTabsApp}; remove it with {@link removeFiles}
 */
export declare function prepareFiles(): Promise<string>
export declare function removeFiles(dir: string): Promise<void>

/** Starts the app on 127.0.0.1 (HTTP/1.1, OS-chosen port) serving `dir` and `hub` at /events. */
export declare function startTabsApp(dir: string, hub: HubLike): Promise<TabsApp>

/** Opens a tab of `profile` on the app and waits until the package loaded. */
export declare function openTab(profile: BrowserContext, app: TabsApp): Promise<Page>

/** Starts a stream on the tab (options must be JSON-serialisable). */
export declare function startStream(page: Page, options: Record<string, unknown>, types?: string[]): Promise<void>

export declare function readTab(page: Page): Promise<TabLog>

/** Polls the tab's log every 25 ms until `condition` holds. */
export declare function waitForTab(page: Page, condition: (log: TabLog) => boolean, what: string, timeout?: number): Promise<TabLog>

/** Polls `condition` every 5 ms. */
export declare function until(condition: () => boolean, what: string, timeout?: number): Promise<void>

/** Samples `read()` every 5 ms until stopped; `max` is the largest value seen. */
export declare function sampleMax(read: () => number): { readonly max: number; stop(): void }

/** `["from", …, "to"]`. */
export declare function range(from: number, to: number): string[]
