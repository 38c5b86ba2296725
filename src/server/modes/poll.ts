import type { IncomingMessage, ServerResponse } from 'node:http'
import type { HubContext } from '../context'
import type { GapData } from '../frames'
import { sendJson, sendStoreFailure } from '../http'
import type { HubRequest } from '../query'
import type { StoredEvent } from '../store'
import { collectBatch } from './batch'

/** The JSON body of a `mode=poll` response. */
export interface PollResponse {
  /** Events after the cursor, oldest first. */
  readonly events: readonly StoredEvent[]
  /** The cursor for the next poll: the last event's id, else where delivery continues. */
  readonly lastEventId: string
  /** Set when the requested cursor could not be resumed (same data as `_gap`). */
  readonly gap: GapData | null
  /** More events are pending: poll again at once. */
  readonly more: boolean
}

/**
 * Serves `mode=poll`: `200 application/json` {@link PollResponse} with `Content-Length`, held up
 * to `wait` s when nothing is pending.
 * @returns a promise that settles when the response is sent or abandoned
 */
export async function servePoll(ctx: HubContext, _req: IncomingMessage, res: ServerResponse, request: HubRequest): Promise<void> {
  let batch
  try {
    batch = await collectBatch(ctx, res, request, 'poll')
  } catch (error) {
    if (!res.headersSent) sendStoreFailure(res, error)
    return
  }
  if (batch === undefined) return
  const body: PollResponse = {
    events: batch.events.map((event) => ({ id: event.id, event: event.event, data: event.data })),
    lastEventId: batch.lastEventId,
    gap: batch.resolved.gap ?? null,
    more: batch.more,
  }
  sendJson(res, 200, body)
}
