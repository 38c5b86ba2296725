import { describe, expect, test } from 'vitest'
import { createSeededRandom, randomIntBetween } from '../../support/proxies'

describe('createSeededRandom', () => {
  test('replays the same sequence for the same seed', () => {
    const first = createSeededRandom(42)
    const second = createSeededRandom(42)
    const a = Array.from({ length: 20 }, () => first())
    const b = Array.from({ length: 20 }, () => second())
    expect(a).toEqual(b)
    expect(new Set(a).size).toBe(20)
    for (const value of a) {
      expect(value).toBeGreaterThanOrEqual(0)
      expect(value).toBeLessThan(1)
    }
  })

  test('differs between seeds', () => {
    const first = createSeededRandom(1)
    const second = createSeededRandom(2)
    expect(Array.from({ length: 5 }, () => first())).not.toEqual(Array.from({ length: 5 }, () => second()))
  })

  test('randomIntBetween stays in the inclusive range and covers it', () => {
    const random = createSeededRandom(7)
    const seen = new Set<number>()
    for (let index = 0; index < 500; index++) {
      const value = randomIntBetween(random, 3, 8)
      expect(value).toBeGreaterThanOrEqual(3)
      expect(value).toBeLessThanOrEqual(8)
      seen.add(value)
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7, 8])
  })
})
