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
  // A Set iterates in insertion order: its first id is the oldest.
  const seen = new Set<string>()
  return {
    has: (id) => seen.has(id),
    add(id) {
      // NaN or junk (plain JavaScript) compares false: de-dup off, like 0.
      if (!(size > 0)) return
      seen.add(id)
      if (seen.size > size) seen.delete(seen.values().next().value!)
    },
  }
}
