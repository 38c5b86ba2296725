import { Buffer } from 'node:buffer'
import type { ServerResponse } from 'node:http'
import type { HubContext } from '../context'
import { type ResolvedCursor, resolveCursor } from '../cursor'
import { compareEventIds } from '../ids'
import type { HubMode, HubRequest } from '../query'
import type { StoredEvent } from '../store'

/** What a `close` or `poll` response delivers. */
export interface Batch {
  readonly resolved: ResolvedCursor
  readonly events: readonly StoredEvent[]
  /** More events are pending after this batch. */
  readonly more: boolean
  /** The cursor after this batch: the last event's id, else where delivery continues. */
  readonly lastEventId: string
  /** `drain` when the hub began closing while the request was held. */
  readonly reason: 'batch' | 'drain'
}

type Wake = 'event' | 'drain' | 'timeout' | 'gone'

/**
 * Collects one batch for a held request: answer at once when events (or a gap) are pending;
 * otherwise hold up to `wait` s; when an event arrives, wait `burst` ms for the rest of the burst.
 * Resolves `undefined` when the client went away first. The response is tracked until it closes.
 */
export async function collectBatch(
  ctx: HubContext,
  res: ServerResponse,
  request: HubRequest,
  mode: Exclude<HubMode, 'stream'>,
): Promise<Batch | undefined> {
  const { store, batch } = ctx
  let newest: string | undefined
  let wake: ((why: Wake) => void) | undefined
  let draining = false
  let gone = false
  let resolveDone!: () => void
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve
  })
  let arrivals = 0
  let burstFull = 0
  const unlisten = ctx.listen((event) => {
    newest = event.id
    arrivals += 1
    if (burstFull === 0 || arrivals >= burstFull) wake?.('event')
  })
  const untrack = ctx.track({
    mode,
    drain: () => {
      draining = true
      wake?.('drain')
    },
    destroy: () => res.destroy(),
    done,
  })
  res.on('close', () => {
    gone = true
    wake?.('gone')
    unlisten()
    untrack()
    resolveDone()
  })
  const sleep = (ms: number): Promise<Wake> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => settle('timeout'), ms)
      const settle = (why: Wake): void => {
        clearTimeout(timer)
        wake = undefined
        resolve(why)
      }
      wake = settle
    })

  try {
    const resolved = await resolveCursor(ctx, request, batch.maxEvents)
    let page = resolved.page ?? (await store.readAfter(resolved.from, batch.maxEvents))
    const arrivedAfter = (): boolean => newest !== undefined && compareEventIds(newest, resolved.from) > 0
    if (page.events.length === 0 && resolved.gap === undefined && !draining && !gone) {
      // Durations use the monotonic clock; `ctx.now` may be a test's frozen wall clock.
      const deadline = performance.now() + request.wait * 1000
      let why: Wake = arrivedAfter() ? 'event' : 'timeout'
      while (why !== 'event' && !draining && !gone) {
        const left = deadline - performance.now()
        if (left <= 0) break
        why = await sleep(left)
        if (why === 'event' && !arrivedAfter()) why = 'timeout'
      }
      if (why === 'event' && batch.maxEvents > 1 && !draining && !gone) {
        // Let the rest of a burst arrive so one response carries it; a full batch goes at once.
        arrivals = 0
        burstFull = batch.maxEvents - 1
        await sleep(batch.burst)
      }
      if (gone) return undefined
      page = await store.readAfter(resolved.from, batch.maxEvents)
    }
    if (gone) return undefined
    const events = cutToBytes(page.events, batch.maxBytes)
    const last = events.at(-1)
    return {
      resolved,
      events,
      more: page.more || events.length < page.events.length,
      lastEventId: last === undefined ? resolved.from : last.id,
      reason: draining ? 'drain' : 'batch',
    }
  } catch (error) {
    if (gone) return undefined
    throw error
  }
}

/** Keeps events while their total size stays within `maxBytes`; always keeps the first. */
function cutToBytes(events: readonly StoredEvent[], maxBytes: number): readonly StoredEvent[] {
  let total = 0
  for (let index = 0; index < events.length; index += 1) {
    const event = events[index] as StoredEvent
    total += Buffer.byteLength(event.data) + Buffer.byteLength(event.event) + event.id.length
    if (total > maxBytes && index > 0) return events.slice(0, index)
  }
  return events
}
