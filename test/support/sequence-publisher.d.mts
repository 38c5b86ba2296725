/** What {@link createSequencePublisher} needs of a hub. */
export interface PublishingHub {
  publish(event: { event?: string; data: string }): Promise<unknown>
}

/** Numbered events on one hub, from {@link createSequencePublisher}. */
export interface SequencePublisher {
  /**
   * Publishes `count` events `every` ms apart (default 10) with data `"1"`, `"2"`, … (continuing
   * the sequence); `eventName` picks the SSE event name per sequence number (default `message`).
   */
  publish(count: number, every?: number, eventName?: (n: number) => string | undefined): Promise<void>
  /** How many events were published so far. */
  published(): number
}

/** Publishes numbered events on `hub`, the numbering continuing across calls. */
export declare function createSequencePublisher(hub: PublishingHub): SequencePublisher
