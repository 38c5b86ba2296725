import { describe, expect, test } from 'vitest'
import { SampleWindow, SeqTracker } from '../../../playground/public/tracker.js'

describe('SeqTracker (the page\'s loss check)', () => {
  test('nothing lost, nothing duplicated for a contiguous run', () => {
    const tracker = new SeqTracker()
    for (let seq = 40; seq <= 2100; seq++) tracker.add(seq)
    expect([tracker.first, tracker.max, tracker.lost, tracker.duplicates]).toEqual([40, 2100, 0, 0])
    expect(tracker.pending(2105)).toBe(5)
    expect(tracker.pending(2000)).toBe(0)
  })

  test('counts holes as lost and repeats as duplicated', () => {
    const tracker = new SeqTracker()
    for (const seq of [5, 6, 8, 8, 9, 12, 6]) tracker.add(seq)
    expect(tracker.lost).toBe(3) // 7, 10, 11
    expect(tracker.duplicates).toBe(2)
  })

  test('a seq below the first rebases without forgetting what arrived', () => {
    const tracker = new SeqTracker()
    for (const seq of [10, 11, 12, 8, 9, 12]) tracker.add(seq)
    expect([tracker.first, tracker.max, tracker.lost, tracker.duplicates]).toEqual([8, 12, 0, 1])
    tracker.add(5)
    expect(tracker.lost).toBe(2)
  })

  test('waits before the first event and ignores junk', () => {
    const tracker = new SeqTracker()
    tracker.add(Number.NaN)
    tracker.add(1.5)
    expect([tracker.first, tracker.lost, tracker.pending(100)]).toEqual([null, 0, 0])
  })
})

describe('SampleWindow', () => {
  test('percentiles over the last `size` samples', () => {
    const window = new SampleWindow(100)
    expect(window.quantile(0.5)).toBeNull()
    for (let i = 1; i <= 300; i++) window.add(i)
    expect(window.count).toBe(100)
    expect(window.quantile(0)).toBe(201)
    expect(window.quantile(0.5)).toBe(251)
    expect(window.quantile(0.99)).toBe(300)
  })
})
