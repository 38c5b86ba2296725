/** What the publisher hands to the hub: `data` is `JSON.stringify({ seq, t })`. */
export interface PublishedEvent {
  data: string
}

/** Options of {@link createPublisher}. */
export interface PublisherOptions {
  /** Events per second, {@link MIN_RATE}–{@link MAX_RATE}. */
  rate: number
  /** Appends one event, e.g. `(event) => hub.publish(event)`; calls never overlap. */
  publish(event: PublishedEvent): Promise<unknown>
  /** Called when `publish` rejects (the stream goes on). */
  onError?(error: unknown): void
  /** Wall clock in ms for `t` and scheduling. @defaultValue Date.now */
  now?(): number
}

/** A running (or stopped) source of `{ seq, t }` events. */
export interface Publisher {
  /** Events per second. */
  readonly rate: number
  /** The seq of the last event handed to `publish` (0 before the first). */
  readonly seq: number
  readonly running: boolean
  /** @throws RangeError outside {@link MIN_RATE}–{@link MAX_RATE} */
  setRate(rate: number): void
  /** Starts publishing; the first event follows after one interval. */
  start(): void
  /** Stops publishing. @returns a promise that settles when the last `publish` has. */
  stop(): Promise<void>
}

/** Slowest publish rate, in events per second. */
export declare const MIN_RATE: number
/** Fastest publish rate, in events per second. */
export declare const MAX_RATE: number
/** @returns whether `rate` is a finite number within {@link MIN_RATE}–{@link MAX_RATE} */
export declare function isValidRate(rate: unknown): rate is number
/**
 * Publishes a steady stream of `{ seq, t }` events.
 * @example
 * const publisher = createPublisher({ rate: 5, publish: (event) => hub.publish(event) })
 * publisher.start()
 */
export declare function createPublisher(options: PublisherOptions): Publisher
