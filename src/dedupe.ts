/** A bounded set of recently delivered ids: memory stays flat however long the stream runs. */
export interface IdWindow {
  /** @returns `true` when `id` was delivered recently (and so is a repeat). */
  has(id: string): boolean
  add(id: string): void
}

/**
 * @param size - ids remembered; the oldest is forgotten first
 * @returns the window
 */
export function createIdWindow(size: number): IdWindow {
  const seen = new Set<string>()
  const ring: string[] = new Array<string>(size)
  let next = 0
  return {
    has: (id) => seen.has(id),
    add(id) {
      if (size <= 0 || seen.has(id)) return
      const evicted = ring[next]
      if (evicted !== undefined) seen.delete(evicted)
      ring[next] = id
      next = (next + 1) % size
      seen.add(id)
    },
  }
}

/**
 * Compares two protocol ids `<ms>-<seq>`.
 * @returns negative, zero or positive like a sort comparator, or `undefined` when either id is
 *   not of that form (ids are otherwise opaque)
 */
export function compareIds(a: string, b: string): number | undefined {
  const left = splitId(a)
  const right = splitId(b)
  if (!left || !right) return undefined
  return left[0] - right[0] || left[1] - right[1]
}

/** @returns `[ms, seq]` of a `<ms>-<seq>` id, or `undefined`. */
export function splitId(id: string): [number, number] | undefined {
  const dash = id.indexOf('-')
  if (dash <= 0 || dash > 15) return undefined
  const ms = Number(id.slice(0, dash))
  const seq = Number(id.slice(dash + 1))
  return Number.isSafeInteger(ms) && Number.isSafeInteger(seq) && ms >= 0 && seq >= 0
    ? [ms, seq]
    : undefined
}
