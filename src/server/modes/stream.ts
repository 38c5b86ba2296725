import { Buffer } from 'node:buffer'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type HubContext, randomRetry } from '../context'
import { resolveCursor } from '../cursor'
import { type EndReason, formatEventFrame, formatReservedFrame, formatRetryFrame } from '../frames'
import { compareIdParts, type EventIdParts, wellFormedIdParts } from '../ids'
import { sendStoreFailure } from '../http'
import type { HubRequest } from '../query'
import type { StoredEvent } from '../store'

type Phase = 'starting' | 'replaying' | 'live' | 'finished'

const OVERFLOW_GRACE_MS = 1000
/** Live events held while a stream replays; beyond this, replay re-reads the store. */
const MAX_QUEUED = 2000
/** Collected frames (UTF-16 code units) that are written at once, before the flush timer. */
const MAX_PENDING = 65_536

// Every open stream compares each live event's id with its last one: parse it once per event
// (the event object is shared), not once per stream (regex and allocations per delivery).
const idCache = new WeakMap<StoredEvent, EventIdParts>()

function idPartsOf(event: StoredEvent): EventIdParts {
  let parts = idCache.get(event)
  if (parts === undefined) {
    parts = wellFormedIdParts(event.id)
    idCache.set(event, parts)
  }
  return parts
}

/** Encodes a coalesced chunk, or returns the same buffer another stream of the hub just encoded. */
export type ChunkEncoder = (first: StoredEvent, last: StoredEvent, text: string) => Buffer

/**
 * One per hub: the last coalesced chunk, encoded. Streams that are live together collect the same
 * events between flushes and their timers fire in the same pass: they share one buffer instead of
 * each encoding its own copy. Keyed by the first and last event (object identity) and the length:
 * streams fed by the hub's one subscription that took the same first and last event took the same
 * frames.
 */
export function createChunkEncoder(): ChunkEncoder {
  let last: { first: StoredEvent; last: StoredEvent; length: number; chunk: Buffer } | undefined
  return (first, end, text) => {
    if (last?.first === first && last.last === end && last.length === text.length) return last.chunk
    last = { first, last: end, length: text.length, chunk: Buffer.from(text) }
    return last.chunk
  }
}


/**
 * One `mode=stream` response: canary with the headers, replay `(cursor, head]`, then live events,
 * heartbeats, rotation and drain. The store subscription starts before the head is read, and
 * live events are written only when newer than the last one written: nothing lost, nothing twice.
 */
class StreamResponse {
  readonly #ctx: HubContext
  readonly #res: ServerResponse
  readonly #request: HubRequest
  readonly #queue: StoredEvent[] = []
  #phase: Phase = 'starting'
  #lastId = ''
  /** `#lastId` parsed; `undefined` while `#lastId` is empty. */
  #lastParts: EventIdParts | undefined
  #pendingEnd: EndReason | undefined
  #queueOverflowed = false
  #lastWriteAt = 0
  #pings = 0
  #stalledSince: number | undefined
  #heartbeat: ReturnType<typeof setTimeout> | undefined
  /** Live event frames collected for the next flush (`flushInterval` > 0 only). */
  #pending = ''
  #pendingFirst: StoredEvent | undefined
  #pendingLast: StoredEvent | undefined
  #flushTimer: ReturnType<typeof setTimeout> | undefined
  #rotation: ReturnType<typeof setTimeout> | undefined
  #cleanup: (() => void)[] = []
  readonly done: Promise<void>
  #resolveDone!: () => void

  constructor(ctx: HubContext, res: ServerResponse, request: HubRequest) {
    this.#ctx = ctx
    this.#res = res
    this.#request = request
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve
    })
  }

  async run(): Promise<void> {
    const res = this.#res
    res.on('close', () => {
      this.#finish()
      this.#resolveDone()
    })
    res.on('drain', () => {
      this.#stalledSince = undefined
    })
    this.#cleanup.push(this.#ctx.listen((event) => this.#onEvent(event)))
    this.#cleanup.push(
      this.#ctx.track({ mode: 'stream', drain: () => this.end('drain'), destroy: () => this.#destroy(), done: this.done }),
    )
    try {
      await this.#start()
    } catch (error) {
      this.#fail(error)
    }
    return this.done
  }

  /** Writes `_end` and ends; deferred until the canary is out. */
  end(reason: EndReason): void {
    if (this.#phase === 'finished') return
    if (this.#phase === 'starting') {
      this.#pendingEnd ??= reason
      return
    }
    // Collected live events leave before the goodbye, in the same chunk.
    this.#write(this.#takePending() + formatReservedFrame('_end', { reason }))
    this.#res.end()
    this.#finish()
  }

  async #start(): Promise<void> {
    const ctx = this.#ctx
    const resolved = await resolveCursor(ctx, this.#request, ctx.replayPageSize)
    if (this.#phase === 'finished') return
    this.#lastId = resolved.from
    this.#lastParts = resolved.from === '' ? undefined : wellFormedIdParts(resolved.from)
    const canary = {
      v: 1,
      mode: 'stream',
      t: ctx.now(),
      ping: this.#request.ping,
      head: resolved.head,
      oldest: resolved.oldest,
      cursor: resolved.from,
      ordered: true,
    }
    let first = formatReservedFrame('_canary', canary) + formatRetryFrame(randomRetry(ctx.random))
    if (resolved.gap !== undefined) first += formatReservedFrame('_gap', resolved.gap, resolved.from)
    this.#res.socket?.setNoDelay(true)
    this.#res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8' })
    // Headers and canary leave in one write (Node sends unflushed headers with the first chunk),
    // so a client that sees headers but no canary knows something in between buffers.
    this.#phase = 'replaying'
    this.#write(first)
    this.#scheduleHeartbeat()
    this.#scheduleRotation()
    if (this.#pendingEnd !== undefined) return this.end(this.#pendingEnd)

    let page = resolved.page
    for (;;) {
      if (page !== undefined) {
        this.#writeEvents(page.events)
        // Replay waits for the socket, so catching up never counts as falling behind.
        if (this.#res.writableNeedDrain) await this.#waitForDrain()
        if ((this.#phase as Phase) !== 'replaying') return
      }
      if (!(page?.more ?? false) && !this.#queueOverflowed) break
      this.#queueOverflowed = false
      page = await ctx.store.readAfter(this.#lastId, ctx.replayPageSize)
      if ((this.#phase as Phase) !== 'replaying') return
    }
    if ((this.#phase as Phase) !== 'replaying') return
    this.#phase = 'live'
    const queued = this.#queue.splice(0)
    this.#writeEvents(queued)
  }

  #onEvent(event: StoredEvent): void {
    if (this.#phase === 'live') {
      if (this.#ctx.flushInterval > 0) this.#collect(event)
      else this.#writeEvents([event])
    } else if (this.#phase === 'finished') return
    else if (this.#queue.length < MAX_QUEUED) this.#queue.push(event)
    else {
      // Live events outpace a slow replay: forget them and read them from the store instead.
      this.#queue.length = 0
      this.#queueOverflowed = true
    }
  }

  #writeEvents(events: readonly StoredEvent[]): void {
    const chunk = this.#frames(events)
    if (chunk !== '') this.#write(chunk)
  }

  /** The frames of the events newer than the last one taken; advances `#lastId`. */
  #frames(events: readonly StoredEvent[]): string {
    let chunk = ''
    for (const event of events) chunk += this.#frame(event)
    return chunk
  }

  /** The event's frame if it is newer than the last one taken (advancing `#lastId`), else `''`. */
  #frame(event: StoredEvent): string {
    // Skips what replay already wrote (and anything at or before the start position).
    const parts = idPartsOf(event)
    if (this.#lastParts !== undefined && compareIdParts(parts, this.#lastParts) <= 0) return ''
    this.#lastId = event.id
    this.#lastParts = parts
    return formatEventFrame(event)
  }

  /**
   * Write coalescing: one `write` per stream and `flushInterval` (or per 64 Ki characters) instead
   * of one per event. The fan-out is bound by the write system call, not by bytes, so fewer,
   * larger chunks let one process feed more streams, at up to `flushInterval` ms of added latency.
   */
  #collect(event: StoredEvent): void {
    const frame = this.#frame(event)
    if (frame === '') return
    this.#pending += frame
    this.#pendingFirst ??= event
    this.#pendingLast = event
    // A burst of large events leaves early: what waits per stream stays bounded, and a reader that
    // cannot keep up still meets `maxBuffered` at the socket.
    if (this.#pending.length >= MAX_PENDING) this.#flushPending()
    else this.#flushTimer ??= setTimeout(() => this.#flushPending(), this.#ctx.flushInterval)
  }

  #flushPending(): void {
    const first = this.#pendingFirst
    const last = this.#pendingLast
    const text = this.#takePending()
    if (text !== '' && first !== undefined && last !== undefined) this.#write(this.#ctx.encodeChunk(first, last, text))
  }

  /** Empties the collected frames (and stops their timer): whoever takes them writes them first. */
  #takePending(): string {
    clearTimeout(this.#flushTimer)
    this.#flushTimer = undefined
    const chunk = this.#pending
    this.#pending = ''
    this.#pendingFirst = undefined
    this.#pendingLast = undefined
    return chunk
  }

  #write(chunk: string | Buffer): void {
    if (this.#phase === 'finished') return
    const accepted = this.#res.write(chunk)
    this.#lastWriteAt = performance.now()
    if (!accepted) this.#stalledSince ??= this.#lastWriteAt
    // A client that cannot keep up is dropped and resumes from its cursor (cheaper than
    // buffering for it). The grace keeps a burst written within one tick, before the socket had
    // a chance to flush, from dropping a healthy client.
    if (
      this.#phase === 'live' &&
      this.#res.writableLength > this.#ctx.maxBuffered &&
      this.#lastWriteAt - (this.#stalledSince ?? this.#lastWriteAt) >= OVERFLOW_GRACE_MS
    ) {
      this.#destroy()
    }
  }

  #waitForDrain(): Promise<void> {
    return new Promise((resolve) => {
      const onDone = (): void => {
        this.#res.off('drain', onDone)
        this.#res.off('close', onDone)
        resolve()
      }
      this.#res.on('drain', onDone)
      this.#res.on('close', onDone)
    })
  }

  #scheduleHeartbeat(): void {
    const interval = this.#request.ping * 1000
    const due = this.#lastWriteAt + interval - performance.now()
    this.#heartbeat = setTimeout(() => this.#heartbeatDue(), Math.max(0, due))
  }

  #heartbeatDue(): void {
    if (this.#phase === 'finished') return
    // Durations use the monotonic clock; `ctx.now` (frame times) may be a test's frozen clock.
    const elapsed = performance.now()
    if (this.#stalledSince !== undefined && elapsed - this.#stalledSince >= this.#ctx.stallTimeout) {
      return this.#destroy()
    }
    if (this.#stalledSince === undefined && elapsed - this.#lastWriteAt >= this.#request.ping * 1000 - 1) {
      // Collected events are due anyway and count as activity: send them instead of a ping, so a
      // ping never overtakes them.
      if (this.#pending !== '') this.#flushPending()
      else {
        this.#pings += 1
        this.#write(formatReservedFrame('_ping', { t: this.#ctx.now(), n: this.#pings }))
      }
    }
    this.#scheduleHeartbeat()
  }

  #scheduleRotation(): void {
    const base = this.#ctx.rotateAfter
    if (base === 0) return
    const delay = base * (0.9 + 0.2 * this.#ctx.random())
    this.#rotation = setTimeout(() => this.end('rotate'), delay)
  }

  #destroy(): void {
    this.#res.destroy()
    this.#finish()
  }

  #fail(error: unknown): void {
    if (this.#phase === 'finished') return
    if (this.#res.headersSent) {
      this.#destroy()
      return
    }
    sendStoreFailure(this.#res, error)
    this.#finish()
  }

  #finish(): void {
    if (this.#phase === 'finished') return
    this.#phase = 'finished'
    clearTimeout(this.#heartbeat)
    clearTimeout(this.#rotation)
    this.#takePending()
    this.#queue.length = 0
    for (const cleanup of this.#cleanup.splice(0)) cleanup()
  }
}

/**
 * Serves `mode=stream`.
 * @returns a promise that settles when the response ends
 */
export function serveStream(ctx: HubContext, _req: IncomingMessage, res: ServerResponse, request: HubRequest): Promise<void> {
  return new StreamResponse(ctx, res, request).run()
}
