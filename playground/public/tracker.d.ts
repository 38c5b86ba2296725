/** Records which `seq` numbers arrived, to count losses (holes) and duplicates. */
export declare class SeqTracker {
  first: number | null
  max: number
  distinct: number
  duplicates: number
  add(seq: number): void
  /** Seq numbers below the highest received that never arrived. */
  readonly lost: number
  /** Events published after the last one received. */
  pending(serverSeq: number): number
  reset(): void
}

/** Keeps the last `size` samples and answers percentiles. */
export declare class SampleWindow {
  constructor(size?: number)
  add(value: number): void
  readonly count: number
  quantile(q: number): number | null
  clear(): void
}
