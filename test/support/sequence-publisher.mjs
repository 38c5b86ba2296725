// Numbered events for the rigs and apps that put a companion hub behind a page or a proxy: data
// "1", "2", … so a test can compare what a client received with `sequence(n)`. Plain ESM so the
// .mjs apps (and the benches that reuse them) and the TypeScript rigs share it.

/**
 * Publishes numbered events on `hub`, the numbering continuing across calls.
 * `publish(count, every, eventName)` waits `every` ms after each event (default 10, 0 for none);
 * `eventName(n)` picks the SSE event name of event `n` (the default `message` when it returns
 * nothing). `published()` is how many events were published so far.
 */
export function createSequencePublisher(hub) {
  let sequence = 0
  return {
    async publish(count, every = 10, eventName) {
      for (let i = 0; i < count; i++) {
        sequence += 1
        const event = eventName?.(sequence)
        await hub.publish(event ? { event, data: String(sequence) } : { data: String(sequence) })
        if (every > 0) await new Promise((resolve) => setTimeout(resolve, every))
      }
    },
    published: () => sequence,
  }
}
