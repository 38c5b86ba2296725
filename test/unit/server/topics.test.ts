import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, test } from 'vitest'
import { createTopicHub, type TopicHub } from '../../../src/server'
import { record, until } from '../client/helpers'

let topics: TopicHub | undefined
let server: Server | undefined
afterEach(async () => {
  await topics?.close()
  server?.closeAllConnections()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  topics = undefined
  server = undefined
})

async function start(): Promise<string> {
  topics = createTopicHub({ topic: (req) => new URL(req.url ?? '/', 'http://x').searchParams.get('topic'), wait: 2 })
  const hub = topics
  server = createServer((req, res) => void hub.handle(req, res))
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`
}

describe('createTopicHub: one log per topic behind one URL', () => {
  test('each client gets only its topic, in order; topics have their own ids', async () => {
    const url = await start()
    const prices = record(`${url}?topic=prices`)
    const news = record(`${url}?topic=news`, { transports: ['long-poll'] })
    await until(() => prices.opens === 1 && news.opens === 1, 'both open')
    for (let i = 1; i <= 5; i++) {
      await topics!.publish('prices', { data: `p${i}` })
      await topics!.publish('news', { data: `n${i}` })
    }
    await until(() => prices.messages.length === 5 && news.messages.length === 5, 'five each')
    expect(prices.messages.map((m) => m.data)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5'])
    expect(news.messages.map((m) => m.data)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5'])
    expect(Object.keys(topics!.stats()).sort()).toEqual(['news', 'prices'])
    prices.es.close()
    news.es.close()
  })

  test('a request without a valid topic is a 400 with a typed error body; publish rejects bad names', async () => {
    const url = await start()
    const missing = await fetch(url)
    expect(missing.status).toBe(400)
    expect(await missing.json()).toMatchObject({ error: { code: 'invalid-topic' } })
    const hostile = await fetch(`${url}?topic=${encodeURIComponent('a b\r\n')}`)
    expect(hostile.status).toBe(400)
    await expect(topics!.publish('../x', { data: 'x' })).rejects.toThrow(TypeError)
    expect(topics!.stats()).toEqual({})
  })
})
