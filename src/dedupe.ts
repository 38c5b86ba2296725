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
