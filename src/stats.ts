/** Counters and delivery latency of one stream; see `ResilientEventSource.stats()`. */
export interface StreamStats {
  /** App events delivered to listeners. */
  events: number
  /** Events dropped because their id was already delivered. */
  duplicates: number
  /** Gaps the server reported (events missed). */
  gaps: number
  /** Connection attempts after the first. */
  reconnects: number
  /** Times the transport changed. */
  transportChanges: number
  /** Bytes received on the wire (where the transport can tell). */
  bytes: number
  /** Delivery latency in ms over the last 1024 events (server publish time → listener), or `null` before any. */
  latency: { p50: number; p95: number; p99: number } | null
}

const SAMPLES = 1024

/** The mutable counters behind {@link StreamStats}. */
export class StatsRecorder {
  events = 0
  duplicates = 0
  gaps = 0
  reconnects = 0
  transportChanges = 0
  bytes = 0
  readonly #samples: number[] = []
  #next = 0

  /** @param ms - one event's delivery latency */
  addLatency(ms: number): void {
    if (this.#samples.length < SAMPLES) this.#samples.push(ms)
    else this.#samples[this.#next] = ms
    this.#next = (this.#next + 1) % SAMPLES
  }

  snapshot(): StreamStats {
    const sorted = this.#samples.slice().sort((a, b) => a - b)
    const at = (q: number): number => sorted[Math.floor(q * sorted.length)]!
    // The public counters are this object's own fields; the samples are private.
    return { ...this, latency: sorted.length ? { p50: at(0.5), p95: at(0.95), p99: at(0.99) } : null }
  }
}
