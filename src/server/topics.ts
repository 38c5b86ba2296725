import type { IncomingMessage, ServerResponse } from 'node:http'
import { type EventHub, type EventHubOptions, type EventHubStats, createEventHub } from './hub'
import { sendError } from './http'
import type { EventInput, EventStore } from './store'

const TOPIC_NAME = /^[A-Za-z0-9_.:-]{1,200}$/

/** Options of {@link createTopicHub}: every {@link EventHubOptions} but `store`, plus routing. */
export interface TopicHubOptions extends Omit<EventHubOptions, 'store'> {
  /**
   * The topic a request asks for, e.g. `(req) => new URL(req.url!, 'http://x').searchParams.get('topic')`.
   * A name outside `[A-Za-z0-9_.:-]{1,200}` (or `null`/`undefined`) is answered 400 `invalid-topic`.
   */
  topic: (req: IncomingMessage) => string | null | undefined
  /**
   * The event log of one topic (called once per topic), e.g. `(name) => redisStore.forTopic(name)`.
   * @defaultValue a separate in-memory store per topic, with `retention`
   */
  store?: (topic: string) => EventStore
}

/** One hub per topic behind one handler: each topic is its own log, ids and retention. */
export interface TopicHub {
  /** Routes the request to its topic's hub (created on first use). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>
  /**
   * Publishes to one topic.
   * @throws HubError (as a rejection), as {@link EventHub.publish}; a `TypeError` for an invalid topic name
   */
  publish(topic: string, event: EventInput): Promise<string>
  /** @returns the hub of `topic`, created on first use */
  hub(topic: string): EventHub
  /** @returns each topic's counters */
  stats(): Record<string, EventHubStats>
  /** Drains every topic's hub. */
  close(): Promise<void>
}

/**
 * Serves many topics from one URL: the request chooses the topic, each topic has its own log
 * (with Redis: one stream key per topic, all on one client and one `XREAD` connection).
 * @example
 * ```ts
 * const store = new RedisStreamStore({ url: process.env.REDIS_URL, key: 'events' })
 * const topics = createTopicHub({
 *   topic: (req) => new URL(req.url ?? '/', 'http://x').searchParams.get('topic'),
 *   store: (name) => store.forTopic(name),
 * })
 * createServer((req, res) => void topics.handle(req, res)).listen(8080)
 * await topics.publish('prices', { data: '42' })
 * ```
 */
export function createTopicHub(options: TopicHubOptions): TopicHub {
  const { topic: topicOf, store: storeFor, ...hubOptions } = options
  const hubs = new Map<string, EventHub>()
  const hubFor = (name: string): EventHub => {
    if (!TOPIC_NAME.test(name)) throw new TypeError(`invalid topic name ${JSON.stringify(name)}`)
    let hub = hubs.get(name)
    if (!hub) hubs.set(name, (hub = createEventHub(storeFor ? { ...hubOptions, store: storeFor(name) } : hubOptions)))
    return hub
  }
  return {
    handle(req, res) {
      const name = topicOf(req)
      if (typeof name !== 'string' || !TOPIC_NAME.test(name)) {
        sendError(res, 400, 'invalid-topic', 'the request names no valid topic')
        return Promise.resolve()
      }
      return hubFor(name).handle(req, res)
    },
    publish: async (name, event) => hubFor(name).publish(event),
    hub: hubFor,
    stats: () => Object.fromEntries([...hubs].map(([name, hub]) => [name, hub.stats()])),
    close: async () => {
      await Promise.all([...hubs.values()].map((hub) => hub.close()))
    },
  }
}
