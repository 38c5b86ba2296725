import type { HubContext } from './context'
import type { GapData } from './frames'
import { compareEventIds, isEventId, ZERO_ID } from './ids'
import type { HubRequest } from './query'
import type { ReadResult } from './store'

/** Where delivery of one response starts. */
export interface ResolvedCursor {
  /** Deliver events with ids greater than this. */
  readonly from: string
  /** Set when the requested cursor cannot be resumed; `from` is then where delivery goes on. */
  readonly gap: GapData | undefined
  /** Log head when the response started (after `from` was chosen). */
  readonly head: string
  readonly oldest: string | null
  /** The first page after `from`, when it was read while resolving. */
  readonly page: ReadResult | undefined
}

/** The cursor value that replays everything retained. */
export const EARLIEST = 'earliest'

/**
 * Turns the request's cursor or start token into a read position, detecting gaps:
 * - no cursor and no token: live from the head;
 * - `earliest`: everything retained, never a gap;
 * - malformed: `unknown`, live from the head;
 * - after the head: `future` (e.g. the log was lost in a restart), live from the head;
 * - trimmed: `expired`, from the oldest retained event.
 */
export async function resolveCursor(ctx: HubContext, request: HubRequest, limit: number): Promise<ResolvedCursor> {
  const { store } = ctx
  let requested = request.cursor
  // The token is resolved before the head is read, so the token's cursor is never after it.
  if (requested === undefined && request.startToken !== undefined) {
    requested =
      store.claimStartToken === undefined
        ? await ctx.startTokens.resolve(request.startToken, () => store.head())
        : await store.claimStartToken(request.startToken, ctx.startTokens.ttl)
  }
  const head = await store.head()
  const oldest = await store.oldest()
  if (requested === undefined) return { from: head, gap: undefined, head, oldest, page: undefined }
  if (requested === EARLIEST) {
    const page = await store.readAfter(ZERO_ID, limit)
    return { from: page.from, gap: undefined, head, oldest, page }
  }
  const gap = (reason: GapData['reason'], cursor: string): GapData => ({
    requested: requested.slice(0, 256),
    oldest,
    head,
    reason,
    cursor,
  })
  if (!isEventId(requested)) return { from: head, gap: gap('unknown', head), head, oldest, page: undefined }
  if (compareEventIds(requested, head) > 0) {
    return { from: head, gap: gap('future', head), head, oldest, page: undefined }
  }
  const page = await store.readAfter(requested, limit)
  if (page.expired) return { from: page.from, gap: gap('expired', page.from), head, oldest, page }
  return { from: requested, gap: undefined, head, oldest, page }
}
