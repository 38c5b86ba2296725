// @ts-check

/** @typedef {import('./publisher.d.mts').Publisher} Publisher */
/** @typedef {import('./publisher.d.mts').PublisherOptions} PublisherOptions */

/** Slowest publish rate the playground accepts, in events per second. */
export const MIN_RATE = 0.2
/** Fastest publish rate the playground accepts, in events per second. */
export const MAX_RATE = 50

/**
 * @param {unknown} rate
 * @returns {rate is number} whether `rate` is a finite number within {@link MIN_RATE}–{@link MAX_RATE}
 */
export function isValidRate(rate) {
  return typeof rate === 'number' && Number.isFinite(rate) && rate >= MIN_RATE && rate <= MAX_RATE
}

/**
 * Publishes a steady stream of `{ seq, t }` events: `seq` grows by one per event so a client can
 * prove nothing was lost, `t` is the publish time in ms so it can measure delivery latency.
 *
 * @param {PublisherOptions} options
 * @returns {Publisher}
 */
export function createPublisher(options) {
  const now = options.now ?? Date.now
  if (!isValidRate(options.rate)) throw new RangeError(`rate must be ${MIN_RATE}–${MAX_RATE} events/s`)
  let rate = options.rate
  let seq = 0
  let running = false
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer
  let due = 0
  // Publishes run one after another so the log's order is the seq order.
  let chain = Promise.resolve()

  const publishNext = () => {
    seq += 1
    const data = JSON.stringify({ seq, t: now() })
    chain = chain.then(() => options.publish({ data })).then(
      () => undefined,
      (error) => options.onError?.(error),
    )
  }

  const schedule = () => {
    if (!running) return
    const interval = 1000 / rate
    due += interval
    const current = now()
    // After a stall (a busy event loop, a suspended laptop) start afresh instead of bursting.
    if (due < current - interval) due = current
    timer = setTimeout(tick, Math.max(0, due - current))
  }

  const tick = () => {
    timer = undefined
    if (!running) return
    publishNext()
    schedule()
  }

  return {
    get rate() {
      return rate
    },
    get seq() {
      return seq
    },
    get running() {
      return running
    },
    setRate(next) {
      if (!isValidRate(next)) throw new RangeError(`rate must be ${MIN_RATE}–${MAX_RATE} events/s`)
      rate = next
      if (!running) return
      // The new rate applies from now on, not after the old (possibly 5 s) interval.
      clearTimeout(timer)
      due = now()
      schedule()
    },
    start() {
      if (running) return
      running = true
      due = now()
      schedule()
    },
    stop() {
      running = false
      clearTimeout(timer)
      timer = undefined
      return chain
    },
  }
}
