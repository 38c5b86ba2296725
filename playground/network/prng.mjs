// @ts-check

/**
 * Creates a deterministic pseudo-random number generator from a numeric seed, so chaos tests
 * that pick random cut times or reject random requests replay exactly from run to run.
 *
 * @param {number} seed Any number; only its low 32 bits are used.
 * @returns {() => number} A function returning floats in `[0, 1)`.
 * @example
 * const random = createSeededRandom(42)
 * const delayMs = 100 + random() * 400
 */
export function createSeededRandom(seed) {
  let state = seed >>> 0
  return () => {
    // A 32-bit multiply/xor-shift mix over a Weyl sequence: small, fast and well spread, which is
    // all a test harness needs (this is not a cryptographic generator).
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = state
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Picks a deterministic integer in `[min, max]` from a seeded generator.
 *
 * @param {() => number} random A generator from {@link createSeededRandom}.
 * @param {number} min Lower bound (inclusive).
 * @param {number} max Upper bound (inclusive); swapped with `min` when smaller.
 * @returns {number} An integer in the range.
 */
export function randomIntBetween(random, min, max) {
  const low = Math.ceil(Math.min(min, max))
  const high = Math.floor(Math.max(min, max))
  return low + Math.floor(random() * (high - low + 1))
}
