import { StreamError } from '../errors'
import { createStreamHost, type StreamHost, type StreamRunner } from './host'
import { PROTOCOL_VERSION, isProtocolMessage, type CoordinatorMessage, type TabMessage } from './protocol'
import type { MessagePortLike } from './shared-worker'

/** How often the worker pings each tab's port, in ms; a tab silent for 2.5 pings is dropped. */
export const HEARTBEAT_INTERVAL = 10_000

/** How long the worker waits for one tab's headers before asking the next, in ms. */
export const HEADERS_TIMEOUT = 2000

/** Options of {@link createWorkerScope} (tests). */
export interface WorkerScopeOptions {
  run?: StreamRunner
  now?: () => number
}

/** The SharedWorker's state: one host per stream key, the ports of the tabs that joined it. */
export interface WorkerScope {
  /** Serves the port of a tab that connected (`connect` event of the worker). */
  connect(port: MessagePortLike): void
  /** Closes every stream and stops the heartbeat. */
  close(): void
}

interface Member {
  port: MessagePortLike
  hasHeaders: boolean
  seen: number
}

interface Entry {
  host: StreamHost
  members: Map<string, Member>
}

type HeadersResponse = TabMessage & { kind: 'headers' }

/**
 * The logic of `resilient-sse/worker`: one connection per key, fanned out to every port that
 * joined it; a late joiner is replayed from its own cursor; headers are asked from a live tab
 * (the next one when a tab stays silent for {@link HEADERS_TIMEOUT} ms); the connection closes
 * when the last tab leaves or stops answering heartbeats.
 * @param options - stream engine and clock (tests)
 * @returns the scope
 */
export function createWorkerScope(options: WorkerScopeOptions = {}): WorkerScope {
  const now = options.now ?? Date.now
  const entries = new Map<string, Entry>()
  const waiting = new Map<number, (response: HeadersResponse | undefined) => void>()
  let requests = 0
  let heartbeat: ReturnType<typeof setInterval> | undefined

  const drop = (key: string, tab: string): void => {
    const entry = entries.get(key)
    if (entry?.members.delete(tab) && entry.members.size === 0) {
      entries.delete(key)
      entry.host.close()
    }
  }

  const ask = (key: string, tab: string, member: Member, refresh: boolean): Promise<HeadersResponse | undefined> =>
    new Promise((resolve) => {
      const id = ++requests
      const timer = setTimeout(() => done(undefined), HEADERS_TIMEOUT)
      const done = (response: HeadersResponse | undefined): void => {
        clearTimeout(timer)
        waiting.delete(id)
        resolve(response)
      }
      waiting.set(id, done)
      member.port.postMessage({ v: PROTOCOL_VERSION, key, to: tab, kind: 'ask-headers', request: id, refresh })
    })

  const resolveHeaders = async (key: string, refresh: boolean): Promise<Record<string, string>> => {
    const members = entries.get(key)?.members
    for (const [tab, member] of [...(members ?? [])]) {
      if (!member.hasHeaders) continue
      const response = await ask(key, tab, member, refresh)
      if (response?.error !== undefined) throw new StreamError('headers', response.error, { retryable: true })
      if (response) return response.headers ?? {}
      // Silent (frozen or gone): ask it last from now on.
      if (members?.delete(tab)) members.set(tab, member)
    }
    throw new StreamError('headers', 'no tab answered the headers request', { retryable: true })
  }

  const sweep = (): void => {
    for (const [key, entry] of entries) {
      for (const [tab, member] of entry.members) {
        if (now() - member.seen > HEARTBEAT_INTERVAL * 2.5) drop(key, tab)
        else member.port.postMessage({ v: PROTOCOL_VERSION, key, kind: 'alive' })
      }
    }
  }

  const receive = (port: MessagePortLike, message: TabMessage): void => {
    const { key } = message
    let entry = entries.get(key)
    const member = entry?.members.get(message.tab)
    if (member) member.seen = now()
    switch (message.kind) {
      case 'join': {
        if (!entry) {
          const members = new Map<string, Member>()
          const publish = (out: CoordinatorMessage): void => {
            for (const [tab, { port }] of members) if (!out.to || out.to === tab) port.postMessage(out)
          }
          entry = {
            members,
            host: createStreamHost(
              {
                url: message.url,
                key,
                options: message.options,
                lastEventId: message.lastEventId,
                eventTypes: message.eventTypes,
                resolveHeaders: message.options.hasHeaders ? (refresh) => resolveHeaders(key, refresh) : undefined,
              },
              publish,
              options.run,
            ),
          }
          entries.set(key, entry)
        }
        // Every tab of a key has the same options: `hasHeaders` says it can answer `ask-headers`.
        entry.members.set(message.tab, { port, hasHeaders: message.options.hasHeaders, seen: now() })
        entry.host.join(message)
        break
      }
      case 'leave':
        drop(key, message.tab)
        break
      case 'add-type':
        entry?.host.addEventType(message.type)
        break
      case 'headers':
        waiting.get(message.request)?.(message)
        break
      case 'alive':
        // Dropped while frozen, alive again: ask it to join anew (its replay starts at its cursor).
        if (!member) port.postMessage({ v: PROTOCOL_VERSION, key, kind: 'rejoin' })
    }
  }

  return {
    connect: (port) => {
      heartbeat ??= setInterval(sweep, HEARTBEAT_INTERVAL)
      port.onmessage = ({ data }) => {
        if (isProtocolMessage(data, (data as { key?: string } | null)?.key)) receive(port, data as TabMessage)
      }
      port.start?.()
    },
    close: () => {
      clearInterval(heartbeat)
      heartbeat = undefined
      for (const entry of entries.values()) entry.host.close()
      entries.clear()
    },
  }
}
