/**
 * Creates a deterministic pseudo-random number generator from a numeric seed, so chaos tests
 * that pick random cut times or reject random requests replay exactly from run to run.
 *
 * @param seed - Any number; only its low 32 bits are used.
 * @returns A function returning floats in `[0, 1)`.
 * @example
 * const random = createSeededRandom(42)
 * const delayMs = 100 + random() * 400
 */
export declare function createSeededRandom(seed: number): () => number

/**
 * Picks a deterministic integer in `[min, max]` from a seeded generator.
 *
 * @param random - A generator from {@link createSeededRandom}.
 * @param min - Lower bound (inclusive).
 * @param max - Upper bound (inclusive); swapped with `min` when smaller.
 * @returns An integer in the range.
 */
export declare function randomIntBetween(random: () => number, min: number, max: number): number
