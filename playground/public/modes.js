// What each simulated network mode does, and the options the page sends with it.

/** @type {Record<string, { label: string, explain: string, options: Record<string, unknown> }>} */
export const NETWORK_PRESETS = {
  direct: {
    label: 'Direct',
    explain: 'No interference: every byte passes at once. Both clients stream.',
    options: {},
  },
  'hold-until-close': {
    label: 'Hold until close',
    explain:
      'A corporate proxy or antivirus scanner keeps the whole body until the response ends. ' +
      'A stream never ends, so its events wait (in one real case, 20 minutes).',
    options: {},
  },
  'hold-until-bytes': {
    label: 'Hold until 4 KiB',
    explain: 'Bytes are released in 4 KiB blocks (compression or CDN buffers): small events wait for company.',
    options: { bytes: 4096 },
  },
  'hold-each-event': {
    label: 'Hold each event',
    explain: 'Each event is released only when the next one is complete: every event arrives one event late.',
    options: {},
  },
  'headers-only': {
    label: 'Headers only',
    explain: 'Status and headers pass, no body byte ever does: the connection looks open and stays silent.',
    options: {},
  },
  'cut-after': {
    label: 'Cut every few seconds',
    explain: 'Every connection is cut 2–6 s after it starts (flaky Wi-Fi, load-balancer timeouts).',
    options: { minMs: 2000, maxMs: 6000 },
  },
  'reset-event-stream': {
    label: 'Reset event streams',
    explain: 'text/event-stream responses are reset right after their headers; other responses pass (a strict firewall).',
    options: {},
  },
  'status-burst': {
    label: '503 bursts',
    explain:
      'The next 8 requests get 503 with Retry-After: 2 (an overloaded gateway), then traffic passes. ' +
      'Native EventSource gives up for good on a 503.',
    options: { status: 503, retryAfter: 2, burst: 8 },
  },
  slow: {
    label: 'Slow link',
    explain: 'A slow link: 2 KiB/s and 300 ms extra latency per chunk. Raise the rate to fill it.',
    options: { bytesPerSecond: 2048, latencyMs: 300 },
  },
}

/** What each rung of the SDK's ladder is. */
export const TRANSPORT_NOTES = {
  eventsource: 'native EventSource underneath · streaming',
  fetch: 'fetch() and a ReadableStream · streaming',
  'sse-close': 'a short event stream per batch · passes buffering proxies',
  'long-poll': 'JSON long-poll · works wherever requests do',
}

export const ALL_TRANSPORTS = ['eventsource', 'fetch', 'sse-close', 'long-poll']
