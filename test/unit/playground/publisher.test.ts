import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { createPublisher, isValidRate, MAX_RATE, MIN_RATE, type PublishedEvent } from '../../../playground/server/publisher.mjs'

function recorder() {
  const events: { seq: number; t: number }[] = []
  const publish = (event: PublishedEvent) => {
    events.push(JSON.parse(event.data) as { seq: number; t: number })
    return Promise.resolve('id')
  }
  return { events, publish }
}

describe('createPublisher', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  test('publishes `rate` events per second with seq 1, 2, 3… and the publish time', async () => {
    const { events, publish } = recorder()
    const publisher = createPublisher({ rate: 10, publish })
    publisher.start()
    await vi.advanceTimersByTimeAsync(1000)
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(events.map((event) => event.t)).toEqual(Array.from({ length: 10 }, (_, i) => 1_000_000 + (i + 1) * 100))
    expect(publisher.seq).toBe(10)
    await vi.advanceTimersByTimeAsync(2000)
    expect(events).toHaveLength(30)
    await publisher.stop()
  })

  test('a new rate applies at once, not after the old interval', async () => {
    const { events, publish } = recorder()
    const publisher = createPublisher({ rate: MIN_RATE, publish })
    publisher.start()
    await vi.advanceTimersByTimeAsync(1000)
    expect(events).toHaveLength(0)
    publisher.setRate(MAX_RATE)
    expect(publisher.rate).toBe(MAX_RATE)
    await vi.advanceTimersByTimeAsync(100)
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5])
    publisher.setRate(1)
    await vi.advanceTimersByTimeAsync(3000)
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    await publisher.stop()
  })

  test('stop() stops; start() resumes the same seq', async () => {
    const { events, publish } = recorder()
    const publisher = createPublisher({ rate: 20, publish })
    publisher.start()
    await vi.advanceTimersByTimeAsync(100)
    await publisher.stop()
    expect(publisher.running).toBe(false)
    await vi.advanceTimersByTimeAsync(1000)
    expect(events.map((event) => event.seq)).toEqual([1, 2])
    publisher.start()
    await vi.advanceTimersByTimeAsync(50)
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3])
    await publisher.stop()
  })

  test('publishes one after another, in seq order, even when publish is slow', async () => {
    const order: number[] = []
    let active = 0
    let overlapped = false
    const publisher = createPublisher({
      rate: 50,
      publish: async (event) => {
        active += 1
        if (active > 1) overlapped = true
        await new Promise((done) => setTimeout(done, 45))
        order.push((JSON.parse(event.data) as { seq: number }).seq)
        active -= 1
      },
    })
    publisher.start()
    await vi.advanceTimersByTimeAsync(200)
    const stopped = publisher.stop()
    await vi.advanceTimersByTimeAsync(1000)
    await stopped
    expect(overlapped).toBe(false)
    expect(order).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  })

  test('a failed publish is reported and the stream goes on', async () => {
    const errors: unknown[] = []
    let calls = 0
    const publisher = createPublisher({
      rate: 10,
      publish: () => (++calls === 2 ? Promise.reject(new Error('closed')) : Promise.resolve()),
      onError: (error) => errors.push(error),
    })
    publisher.start()
    await vi.advanceTimersByTimeAsync(300)
    expect(calls).toBe(3)
    expect(errors).toHaveLength(1)
    await publisher.stop()
  })

  test('rates outside 0.2–50 events/s are refused', () => {
    const { publish } = recorder()
    expect(() => createPublisher({ rate: 0.1, publish })).toThrow(RangeError)
    const publisher = createPublisher({ rate: 1, publish })
    for (const rate of [0, 0.19, 50.5, Number.NaN, Infinity, -1]) {
      expect(() => publisher.setRate(rate)).toThrow(RangeError)
      expect(isValidRate(rate)).toBe(false)
    }
    expect(publisher.rate).toBe(1)
    expect(isValidRate('5')).toBe(false)
    expect(isValidRate(MIN_RATE) && isValidRate(MAX_RATE)).toBe(true)
  })
})
