import { broadcastCoordinator } from './broadcast'
import { inPageCoordinator } from './in-page'
import { sharedWorkerCoordinator } from './shared-worker'
import type { Coordinator, SharedLink, SharedLinkRequest, SharedLinkSink, SharedOptions, SharedStreamOptions } from './types'

export type { Coordinator, SharedLink, SharedLinkRequest, SharedLinkSink, SharedOptions, SharedStreamOptions } from './types'
// This chunk is loaded by dynamic import, so everything it exports is kept: it exports only what
// the client uses. The coordinators' factories stay in their modules.
export type { BroadcastChannelLike, BroadcastPlatform, LocksLike } from './broadcast'
export type { MessagePortLike, SharedWorkerLike, SharedWorkerPlatform } from './shared-worker'

/**
 * Joins (or starts) the shared stream for `request` through the first supported coordinator,
 * in ladder order: the app's SharedWorker (when `workerUrl` is given), else a Web Locks leader
 * tab + BroadcastChannel, else this page alone (always supported).
 * @param request - the tab's endpoint, options, cursor and headers function
 * @param sink - where the shared stream's events and state go
 * @param shared - the `shared` option
 * @returns the tab's link
 */
export function openSharedLink(request: SharedLinkRequest, sink: SharedLinkSink, shared: SharedOptions): SharedLink {
  return [sharedWorkerCoordinator, broadcastCoordinator, inPageCoordinator]
    .find((coordinator) => coordinator.isSupported(shared))!
    .connect(request, sink, shared)
}

/**
 * The sharing key: SDK major version + a hash of the endpoint and the options that change
 * what goes on the wire. Used in worker, lock and channel names.
 * @returns e.g. `resilient-sse@1:3f2a9c1b`
 */
export function sharedKey(url: string, options: SharedStreamOptions, name?: string): string {
  // FNV-1a, 32 bits, over UTF-16 units: a name that keeps the URL (and any token in it) out of
  // worker, lock and channel names; not a security boundary (channels are same-origin anyway).
  let hash = 0x811c9dc5
  for (const char of JSON.stringify([url, options, name])) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193)
  // `@1`: the SDK's major version, so coordinators of two incompatible versions never share.
  return `resilient-sse@1:${(hash >>> 0).toString(16).padStart(8, '0')}`
}
