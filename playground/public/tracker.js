// Bookkeeping the page uses to prove delivery: which seq numbers arrived, and latency percentiles.

/** Records which `seq` numbers arrived, to count losses (holes) and duplicates. */
export class SeqTracker {
  /** @type {number | null} */
  first = null
  max = 0
  distinct = 0
  duplicates = 0
  #bits = new Uint8Array(1024)

  /** @param {number} seq */
  add(seq) {
    if (!Number.isInteger(seq) || seq < 0) return
    if (this.first === null) {
      this.first = seq
      this.max = seq
    }
    if (seq < this.first) this.#rebase(seq)
    const index = seq - this.first
    if (index >= this.#bits.length) {
      let size = this.#bits.length
      while (size <= index) size *= 2
      const bigger = new Uint8Array(size)
      bigger.set(this.#bits)
      this.#bits = bigger
    }
    if (this.#bits[index] === 1) {
      this.duplicates += 1
      return
    }
    this.#bits[index] = 1
    this.distinct += 1
    if (seq > this.max) this.max = seq
  }

  /** Seq numbers below the highest received that never arrived. */
  get lost() {
    return this.first === null ? 0 : this.max - this.first + 1 - this.distinct
  }

  /**
   * @param {number} serverSeq - the last seq the server published
   * @returns {number} events published after the last one received (still on their way, or held)
   */
  pending(serverSeq) {
    return this.first === null ? 0 : Math.max(0, serverSeq - this.max)
  }

  reset() {
    this.first = null
    this.max = 0
    this.distinct = 0
    this.duplicates = 0
    this.#bits = new Uint8Array(1024)
  }

  /** @param {number} seq */
  #rebase(seq) {
    const shift = /** @type {number} */ (this.first) - seq
    const moved = new Uint8Array(Math.max(this.#bits.length, (this.max - seq + 1) * 2))
    moved.set(this.#bits.subarray(0, this.max - /** @type {number} */ (this.first) + 1), shift)
    this.#bits = moved
    this.first = seq
  }
}

/** Keeps the last `size` samples and answers percentiles. */
export class SampleWindow {
  /** @type {number[]} */
  #samples = []
  #next = 0
  #size

  /** @param {number} size */
  constructor(size = 1024) {
    this.#size = size
  }

  /** @param {number} value */
  add(value) {
    if (this.#samples.length < this.#size) this.#samples.push(value)
    else this.#samples[this.#next] = value
    this.#next = (this.#next + 1) % this.#size
  }

  get count() {
    return this.#samples.length
  }

  /**
   * @param {number} q - quantile, 0–1
   * @returns {number | null}
   */
  quantile(q) {
    if (this.#samples.length === 0) return null
    const sorted = this.#samples.slice().sort((a, b) => a - b)
    return /** @type {number} */ (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))])
  }

  clear() {
    this.#samples = []
    this.#next = 0
  }
}
