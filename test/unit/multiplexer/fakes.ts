// In-memory stand-ins for what the coordinators use across tabs: BroadcastChannel, Web Locks,
// MessagePort pairs, SharedWorker, and a stream engine backed by a resumable event log.
import type { BroadcastChannelLike, LocksLike } from '../../../src/multiplexer/broadcast'
import type { StreamRunner } from '../../../src/multiplexer/host'
import type { MessagePortLike, SharedWorkerLike } from '../../../src/multiplexer/shared-worker'
import type { SharedLinkRequest, SharedLinkSink, SharedStreamOptions } from '../../../src/multiplexer/types'
import { createWorkerScope, type WorkerScope } from '../../../src/multiplexer/worker-scope'

/** Lets queued microtasks (message deliveries, lock grants) run. */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve()
}

// ---- the "browser": channels and locks shared by pages, each page can crash ------------------

interface Held {
  page: FakePage
  release: () => void
}

interface Waiting {
  page: FakePage
  callback: () => Promise<void>
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/** One tab of the fake browser: its platform for `createBroadcastCoordinator`. */
export interface FakePage {
  readonly BroadcastChannel: new (name: string) => BroadcastChannelLike
  readonly locks: LocksLike
  /** The page goes away without running any code: its channels stop, its locks are released. */
  crash(): void
}

/** A browser profile: BroadcastChannel delivery and Web Locks queues between its pages. */
export function createFakeBrowser(): { page(): FakePage; holder(name: string): FakePage | undefined } {
  const channels = new Set<{ name: string; page: FakePage; instance: BroadcastChannelLike; open: boolean }>()
  const held = new Map<string, Held>()
  const queues = new Map<string, Waiting[]>()

  const grant = (name: string): void => {
    if (held.has(name)) return
    const next = queues.get(name)?.shift()
    if (!next) return
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      if (held.get(name)?.page === next.page) held.delete(name)
      queueMicrotask(() => grant(name))
    }
    held.set(name, { page: next.page, release })
    queueMicrotask(() => {
      next.callback().then(
        (value) => {
          release()
          next.resolve(value)
        },
        (error: unknown) => {
          release()
          next.reject(error)
        },
      )
    })
  }

  const page = (): FakePage => {
    let alive = true
    const self: FakePage = {
      BroadcastChannel: class {
        onmessage: ((event: { data: unknown }) => void) | null = null
        readonly #entry: { name: string; page: FakePage; instance: BroadcastChannelLike; open: boolean }
        constructor(name: string) {
          this.#entry = { name, page: self, instance: this, open: true }
          channels.add(this.#entry)
        }
        postMessage(message: unknown): void {
          if (!this.#entry.open || !alive) return
          const data = structuredClone(message)
          for (const other of channels) {
            if (other === this.#entry || other.name !== this.#entry.name) continue
            queueMicrotask(() => {
              if (other.open) other.instance.onmessage?.({ data: structuredClone(data) })
            })
          }
        }
        close(): void {
          this.#entry.open = false
          channels.delete(this.#entry)
        }
      },
      locks: {
        request(name, options, callback) {
          return new Promise((resolve, reject) => {
            if (options.signal?.aborted) return reject(new DOMException('aborted', 'AbortError'))
            const waiting: Waiting = { page: self, callback, resolve, reject }
            const queue = queues.get(name) ?? []
            queues.set(name, queue)
            queue.push(waiting)
            options.signal?.addEventListener('abort', () => {
              const index = queue.indexOf(waiting)
              if (index >= 0) {
                queue.splice(index, 1)
                reject(new DOMException('aborted', 'AbortError'))
              }
            })
            grant(name)
          })
        },
      },
      crash() {
        alive = false
        for (const entry of channels) if (entry.page === self) (entry.open = false), channels.delete(entry)
        for (const [name, queue] of queues) queues.set(name, queue.filter((w) => w.page !== self))
        for (const entry of held.values()) if (entry.page === self) entry.release()
      },
    }
    return self
  }
  return { page, holder: (name) => held.get(name)?.page }
}

// ---- message ports and a SharedWorker bound to one in-memory worker scope ---------------------

/** Two entangled ports: what one posts, the other receives once started (structured clone, async). */
export function createPortPair(): [MessagePortLike, MessagePortLike] {
  type Port = MessagePortLike & { peer?: Port; closed: boolean; started: boolean; queue: unknown[]; handler: MessagePortLike['onmessage'] }
  // Like a real MessagePort, setting `onmessage` starts it.
  const make = (): Port => ({
    handler: null,
    get onmessage() {
      return this.handler
    },
    set onmessage(handler) {
      this.handler = handler
      this.start!()
    },
    closed: false,
    started: false,
    queue: [],
    postMessage(message: unknown) {
      const peer = this.peer
      if (this.closed || !peer) return
      const data = structuredClone(message)
      queueMicrotask(() => {
        if (peer.closed) return
        if (peer.started) peer.onmessage?.({ data })
        else peer.queue.push(data)
      })
    },
    start() {
      this.started = true
      for (const data of this.queue.splice(0)) this.onmessage?.({ data })
    },
    close() {
      this.closed = true
    },
  })
  const a = make()
  const b = make()
  a.peer = b
  b.peer = a
  return [a, b]
}

/** A fake `SharedWorker` constructor: one {@link WorkerScope} per name, as browsers do per (url, name). */
export function createFakeSharedWorkers(run: StreamRunner, options: { silent?: boolean } = {}) {
  const scopes = new Map<string, WorkerScope>()
  const constructed: { url: string; name: string }[] = []
  const SharedWorker = class implements SharedWorkerLike {
    readonly port: MessagePortLike
    onerror: ((event: unknown) => void) | null = null
    constructor(url: string, init: { name: string }) {
      constructed.push({ url, name: init.name })
      const [page, worker] = createPortPair()
      this.port = page
      if (options.silent) return
      let scope = scopes.get(init.name)
      if (!scope) scopes.set(init.name, (scope = createWorkerScope({ run })))
      scope.connect(worker)
    }
  }
  return { SharedWorker, scopes, constructed, close: () => scopes.forEach((scope) => scope.close()) }
}

// ---- a stream engine over a resumable log ------------------------------------------------------

/** One stream the engine runs (a connection to the fake server). */
export interface FakeStream {
  readonly request: SharedLinkRequest
  readonly sink: SharedLinkSink
  readonly types: Set<string>
  closed: boolean
}

/**
 * A fake server log plus `run`: a stream started with a cursor first receives the logged
 * events after it (a resume), then every event published while it is open.
 */
export function createFakeEngine() {
  const log: { type: string; data: string; id: string }[] = []
  const streams: FakeStream[] = []
  const send = (stream: FakeStream, event: { type: string; data: string; id: string }): void => {
    if (!stream.closed) stream.sink.message({ ...event, lastEventId: event.id })
  }
  const run: StreamRunner = (request, sink) => {
    const stream: FakeStream = { request, sink, types: new Set(['message', ...request.eventTypes]), closed: false }
    streams.push(stream)
    queueMicrotask(() => {
      if (stream.closed) return
      const from = log.findIndex((event) => event.id === request.lastEventId) + 1
      sink.state({ readyState: 1, transport: 'fetch' })
      for (const event of log.slice(from)) send(stream, event)
    })
    return {
      close: () => {
        stream.closed = true
      },
      addEventType: (type) => void stream.types.add(type),
    }
  }
  return {
    run,
    streams,
    live: () => streams.filter((stream) => !stream.closed),
    /** Appends `count` events with ids `e<n>` and data `<n>`, delivered to every open stream. */
    publish(count = 1, type = 'message') {
      for (let i = 0; i < count; i++) {
        const n = log.length + 1
        const event = { type, data: String(n), id: `e${n}` }
        log.push(event)
        for (const stream of streams) send(stream, event)
      }
    },
    published: () => log.length,
  }
}

/** What one tab's client saw: data in order (and duplicates, which the client would drop). */
export interface TabRecord {
  sink: SharedLinkSink
  data: string[]
  states: number[]
  errors: string[]
  gaps: number
}

export function recordTab(): TabRecord {
  const record: TabRecord = {
    data: [],
    states: [],
    errors: [],
    gaps: 0,
    sink: {
      message: (message) => void record.data.push(message.data),
      state: (state) => void record.states.push(state.readyState),
      transportChange: () => {},
      error: (error) => void record.errors.push(error.code),
      gap: () => void (record.gaps += 1),
    },
  }
  return record
}

export const WIRE: SharedStreamOptions = {
  withCredentials: false,
  transports: ['eventsource', 'fetch', 'sse-close', 'long-poll'],
  canaryTimeout: 5000,
  ping: undefined,
  wait: undefined,
  protocolQuery: true,
  dedupe: 1024,
  maxEventSize: 1048576,
  retry: undefined,
  remember: false,
  hasHeaders: false,
}

/** A tab's request for the stream `key`. */
export function tabRequest(overrides: Partial<SharedLinkRequest> = {}): SharedLinkRequest {
  return {
    url: 'http://127.0.0.1/events',
    key: 'resilient-sse@1:test',
    options: WIRE,
    lastEventId: '',
    eventTypes: [],
    resolveHeaders: undefined,
    ...overrides,
  }
}

/** `["1", …, "n"]` or a range `[from, …, to]`. */
export function range(from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => String(from + i))
}
