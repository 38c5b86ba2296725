// The playground page: the SDK and a native EventSource on the same stream, through the same
// simulated network, with counters that prove what arrived.
import { ResilientEventSource } from 'resilient-sse'
import { createLatencyChart } from './chart.js'
import { ALL_TRANSPORTS, NETWORK_PRESETS, TRANSPORT_NOTES } from './modes.js'
import { SampleWindow, SeqTracker } from './tracker.js'

const STREAM_URL = '/events'
const SETTINGS_KEY = 'playground:settings'
const SDK_STORAGE_PREFIX = 'resilient-sse:'
const RENDER_MS = 250
const STATE_MS = 1000
const LOG_MAX = 40
const CHART_SECONDS = 180

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.querySelector(`[data-testid="${id}"]`))

// ---- settings (kept per browser, so "Open another tab" starts alike) --------------------------

const DEFAULT_SETTINGS = {
  transports: ALL_TRANSPORTS.map((name) => ({ name, enabled: true })),
  canary: '5000',
  remember: 'default',
  shared: false,
}

function loadSettings() {
  try {
    const saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? 'null')
    const names = saved?.transports?.map((/** @type {{name: string}} */ t) => t.name) ?? []
    const valid = names.length === ALL_TRANSPORTS.length && ALL_TRANSPORTS.every((name) => names.includes(name))
    return {
      transports: valid ? saved.transports.map((/** @type {any} */ t) => ({ name: t.name, enabled: t.enabled !== false })) : DEFAULT_SETTINGS.transports,
      canary: typeof saved?.canary === 'string' ? saved.canary : DEFAULT_SETTINGS.canary,
      remember: typeof saved?.remember === 'string' ? saved.remember : DEFAULT_SETTINGS.remember,
      shared: saved?.shared === true,
    }
  } catch {
    return structuredClone(DEFAULT_SETTINGS)
  }
}

const settings = loadSettings()
const saveSettings = () => localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings))

// ---- shared state ------------------------------------------------------------------------------

const server = { seq: 0, rate: 5, mode: 'direct', reachable: false, openRequests: 0, streams: 0 }

/** @typedef {{ time: number, html: string, kind: string }} LogEntry */

const sdk = {
  /** @type {ResilientEventSource | null} */
  es: null,
  /** The server's seq when the page first connected (for "published since"). */
  startSeq: -1,
  base: { events: 0, duplicates: 0, gaps: 0, reconnects: 0, transportChanges: 0 },
  tracker: new SeqTracker(),
  lastAt: 0,
  error: '',
  /** @type {LogEntry[]} */
  log: [],
  logVersion: 0,
  /** @type {unknown[][] | undefined} set to [] in the console to trace deliveries */
  trace: undefined,
}

const native = {
  /** @type {EventSource | null} */
  es: null,
  startSeq: -1,
  stopped: false,
  tracker: new SeqTracker(),
  latency: new SampleWindow(1024),
  events: 0,
  errors: 0,
  opens: 0,
  gaveUp: false,
  lastAt: 0,
  openAt: 0,
  error: '',
  /** @type {LogEntry[]} */
  log: [],
  logVersion: 0,
}

const chart = createLatencyChart($('latency-plot'), { windowSeconds: CHART_SECONDS })

// ---- helpers -----------------------------------------------------------------------------------

/** @param {string} text */
const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** @param {number} ms */
const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false })

/** @param {number | null | undefined} ms */
function formatLatency(ms) {
  if (ms == null) return '—'
  if (ms >= 10_000) return `${(ms / 1000).toFixed(0)} s`
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.round(ms)} ms`
}

/** @param {number} at */
function formatAge(at) {
  if (at === 0) return '—'
  const seconds = (Date.now() - at) / 1000
  if (seconds < 1) return 'now'
  if (seconds < 60) return `${seconds.toFixed(0)} s ago`
  return `${Math.floor(seconds / 60)} min ${Math.floor(seconds % 60)} s ago`
}

/** @param {number} rate */
const formatRate = (rate) => (rate < 10 ? rate.toFixed(1) : rate.toFixed(0))

/**
 * @param {{ log: LogEntry[], logVersion: number }} target
 * @param {string} html
 * @param {string} [kind]
 */
function addLog(target, html, kind = '') {
  target.log.unshift({ time: Date.now(), html, kind })
  if (target.log.length > LOG_MAX) target.log.length = LOG_MAX
  target.logVersion += 1
}

/** @param {string} data */
function parseEvent(data) {
  try {
    const value = JSON.parse(data)
    if (typeof value?.seq === 'number' && typeof value?.t === 'number') return /** @type {{seq: number, t: number}} */ (value)
  } catch {
    // Not one of the playground's events.
  }
  return undefined
}

/**
 * A stream is stalled when the server published since its last event (or since it opened, when
 * none came yet) and that was a while ago.
 */
function isStalled(/** @type {SeqTracker} */ tracker, /** @type {number} */ since) {
  const patience = Math.max(3000, 3000 / server.rate)
  return server.seq > tracker.max && since !== 0 && Date.now() - since > patience
}

// ---- the SDK -----------------------------------------------------------------------------------

/** The worker script of `resilient-sse/worker`, when the build has one (else tabs use Web Locks). */
let workerUrl = /** @type {string | undefined} */ (undefined)

function sdkOptions() {
  const transports = settings.transports.filter((t) => t.enabled).map((t) => t.name)
  const canaryTimeout = settings.canary === 'false' ? false : Number(settings.canary)
  const remember =
    settings.remember === 'default' ? true : settings.remember === 'off' ? false : { ttl: Number(settings.remember) }
  /** @type {Record<string, unknown>} */
  const options = { transports, canaryTimeout, remember }
  if (settings.shared) options.shared = workerUrl ? { workerUrl } : true
  return options
}

async function findWorker() {
  for (const candidate of ['/pkg/worker.js', '/pkg/worker/index.js']) {
    const response = await fetch(candidate, { method: 'HEAD', cache: 'no-store' }).catch(() => undefined)
    if (response?.ok) return candidate
  }
  return undefined
}

/** @param {string} [why] */
function startSdk(why) {
  /** @type {Record<string, unknown>} */
  const options = sdkOptions()
  const previous = sdk.es
  if (previous) {
    const stats = previous.stats()
    for (const key of /** @type {const} */ (['events', 'duplicates', 'gaps', 'reconnects', 'transportChanges'])) {
      sdk.base[key] += stats[key]
    }
    // Resume where the old instance stopped: the loss check spans both.
    if (previous.lastEventId) options.lastEventId = previous.lastEventId
    previous.close()
  }
  const es = new ResilientEventSource(STREAM_URL, /** @type {any} */ (options))
  sdk.es = es
  if (sdk.startSeq < 0) sdk.startSeq = server.seq
  if (why) addLog(sdk, `restarted: ${escapeHtml(why)}`, 'note')

  es.addEventListener('message', (event) => {
    if (sdk.es !== es) return
    const now = Date.now()
    const payload = parseEvent(event.data)
    if (!payload) return
    if (sdk.trace) sdk.trace.push([payload.seq, event.lastEventId, es.transport])
    sdk.tracker.add(payload.seq)
    sdk.lastAt = now
    chart.add(0, now, now - payload.t)
  })
  es.addEventListener('transportchange', (event) => {
    if (sdk.es !== es) return
    const from = event.previous ? `${escapeHtml(event.previous)} → ` : ''
    addLog(sdk, `${from}<b>${escapeHtml(event.transport)}</b> <span class="reason">${escapeHtml(event.reason)}</span>`, 'change')
    chart.mark(event.transport, 'transport')
  })
  es.addEventListener('gap', (event) => {
    if (sdk.es !== es) return
    addLog(sdk, `gap: ${escapeHtml(event.gap.reason)} (events missed)`, 'bad')
  })
  es.addEventListener('error', (event) => {
    if (sdk.es !== es) return
    const error = event.error
    sdk.error = `last error ${clock(Date.now())} · ${error.code}${error.status ? ` ${error.status}` : ''}: ${error.message}`
  })
}

// ---- native EventSource ------------------------------------------------------------------------

/** @param {string} [why] */
function startNative(why) {
  native.es?.close()
  const es = new EventSource(STREAM_URL)
  native.es = es
  native.gaveUp = false
  native.stopped = false
  if (native.tracker.first === null) native.startSeq = server.seq
  if (why) addLog(native, escapeHtml(why), 'note')
  es.onopen = () => {
    if (native.es !== es) return
    native.opens += 1
    native.openAt = Date.now()
    addLog(native, '<b>open</b>', 'change')
  }
  es.onmessage = (event) => {
    if (native.es !== es) return
    const now = Date.now()
    const payload = parseEvent(event.data)
    if (!payload) return
    native.events += 1
    native.tracker.add(payload.seq)
    native.lastAt = now
    native.latency.add(now - payload.t)
    chart.add(1, now, now - payload.t)
  }
  es.onerror = () => {
    if (native.es !== es) return
    native.errors += 1
    if (es.readyState === EventSource.CLOSED) {
      native.gaveUp = true
      native.error = `last error ${clock(Date.now())} · gave up: an error status or wrong content type ends it for good`
      addLog(native, '<b>closed</b> <span class="reason">gave up</span>', 'bad')
    } else {
      native.error = `last error ${clock(Date.now())} · connection lost; the browser reconnects with Last-Event-ID`
      addLog(native, 'error <span class="reason">reconnecting</span>')
    }
  }
}

// ---- server API --------------------------------------------------------------------------------

/**
 * @param {string} path
 * @param {unknown} [body]
 */
async function api(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  })
  const json = await response.json()
  if (!response.ok) throw new Error(json?.error?.message ?? `HTTP ${response.status}`)
  return json
}

/** @param {any} state */
function applyState(state) {
  if (state.seq < server.seq - 1) {
    // The playground server restarted: seq numbers start over.
    sdk.tracker.reset()
    native.tracker.reset()
  }
  server.seq = state.seq
  server.rate = state.rate
  server.openRequests = state.proxy?.openRequests ?? 0
  server.streams = state.hub?.connections?.stream ?? 0
  chart.setRate(state.rate)
  const wasReachable = server.reachable
  server.reachable = true
  if (server.mode !== state.mode) {
    if (wasReachable && !switching) {
      // Switched from another tab (or by a script through the API).
      const label = escapeHtml(NETWORK_PRESETS[state.mode]?.label ?? state.mode)
      addLog(sdk, `network: ${label} (elsewhere)`, 'network')
      addLog(native, `network: ${label} (elsewhere)`, 'network')
      chart.mark(NETWORK_PRESETS[state.mode]?.label ?? state.mode, 'network')
    }
    server.mode = state.mode
    modeSelect.value = state.mode
    explainMode(state.mode)
  }
  if (!rateDragging && document.activeElement !== rateInput) setRateInput(state.rate)
}

async function pollState() {
  try {
    applyState(await api('/api/state'))
  } catch {
    server.reachable = false
  }
  setTimeout(pollState, STATE_MS)
}

// ---- controls ----------------------------------------------------------------------------------

const modeSelect = /** @type {HTMLSelectElement} */ ($('network-mode'))
for (const [mode, preset] of Object.entries(NETWORK_PRESETS)) {
  modeSelect.append(new Option(preset.label, mode))
}

/** @param {string} mode */
function explainMode(mode) {
  $('mode-explain').textContent = NETWORK_PRESETS[mode]?.explain ?? ''
}
explainMode(modeSelect.value)

/** A switch of ours is in flight: the state it returns is no news from elsewhere. */
let switching = false

modeSelect.addEventListener('change', async () => {
  const mode = modeSelect.value
  const preset = NETWORK_PRESETS[mode]
  explainMode(mode)
  switching = true
  try {
    applyState(await api('/api/network', { mode, options: preset?.options ?? {} }))
    const label = escapeHtml(preset?.label ?? mode)
    addLog(sdk, `network: ${label}`, 'network')
    addLog(native, `network: ${label}`, 'network')
    chart.mark(preset?.label ?? mode, 'network')
  } catch (error) {
    modeSelect.value = server.mode
    explainMode(server.mode)
    $('mode-explain').textContent = `Could not switch: ${error instanceof Error ? error.message : error}`
  } finally {
    switching = false
  }
})

for (const chip of document.querySelectorAll('[data-testid="try"] [data-mode]')) {
  chip.addEventListener('click', () => {
    modeSelect.value = /** @type {HTMLElement} */ (chip).dataset.mode ?? 'direct'
    modeSelect.dispatchEvent(new Event('change'))
  })
}

const rateInput = /** @type {HTMLInputElement} */ ($('rate'))
const MIN_RATE = 0.2
const MAX_RATE = 50
let rateDragging = false
/** @type {ReturnType<typeof setTimeout> | undefined} */
let rateTimer

/** The slider is logarithmic: 0.2 → 50 events/s over its range. */
const sliderToRate = (/** @type {number} */ value) => {
  const raw = MIN_RATE * (MAX_RATE / MIN_RATE) ** (value / 1000)
  return raw < 1 ? Math.round(raw * 10) / 10 : raw < 10 ? Math.round(raw * 2) / 2 : Math.round(raw)
}
const rateToSlider = (/** @type {number} */ rate) => Math.round((1000 * Math.log(rate / MIN_RATE)) / Math.log(MAX_RATE / MIN_RATE))

/** @param {number} rate */
function setRateInput(rate) {
  rateInput.value = String(rateToSlider(rate))
  $('rate-value').textContent = `${formatRate(rate)} /s`
}

function sendRate() {
  const rate = Math.min(MAX_RATE, Math.max(MIN_RATE, sliderToRate(Number(rateInput.value))))
  api('/api/rate', { rate }).then(applyState, () => undefined)
}

rateInput.addEventListener('pointerdown', () => (rateDragging = true))
rateInput.addEventListener('pointerup', () => (rateDragging = false))
rateInput.addEventListener('input', () => {
  $('rate-value').textContent = `${formatRate(sliderToRate(Number(rateInput.value)))} /s`
  clearTimeout(rateTimer)
  rateTimer = setTimeout(sendRate, 150)
})
setRateInput(server.rate)

const transportList = $('transports')

function renderTransports() {
  transportList.replaceChildren(
    ...settings.transports.map((transport, index) => {
      const item = document.createElement('li')
      item.dataset.transport = transport.name
      const label = document.createElement('label')
      const box = document.createElement('input')
      box.type = 'checkbox'
      box.checked = transport.enabled
      box.dataset.testid = `transport-${transport.name}`
      const enabledCount = settings.transports.filter((t) => t.enabled).length
      box.disabled = transport.enabled && enabledCount === 1
      box.addEventListener('change', () => {
        transport.enabled = box.checked
        transportsChanged()
      })
      const name = document.createElement('code')
      name.textContent = transport.name
      label.append(box, name)
      const up = document.createElement('button')
      up.type = 'button'
      up.className = 'icon'
      up.textContent = '↑'
      up.title = `Move ${transport.name} up`
      up.disabled = index === 0
      up.addEventListener('click', () => move(index, -1))
      const down = document.createElement('button')
      down.type = 'button'
      down.className = 'icon'
      down.textContent = '↓'
      down.title = `Move ${transport.name} down`
      down.disabled = index === settings.transports.length - 1
      down.addEventListener('click', () => move(index, 1))
      item.append(label, up, down)
      return item
    }),
  )
}

/**
 * @param {number} index
 * @param {number} delta
 */
function move(index, delta) {
  const [item] = settings.transports.splice(index, 1)
  if (item) settings.transports.splice(index + delta, 0, item)
  transportsChanged()
}

function transportsChanged() {
  saveSettings()
  renderTransports()
  startSdk(`transports ${settings.transports.filter((t) => t.enabled).map((t) => t.name).join(' → ')}`)
}
renderTransports()

const canarySelect = /** @type {HTMLSelectElement} */ ($('canary-timeout'))
canarySelect.value = settings.canary
canarySelect.addEventListener('change', () => {
  settings.canary = canarySelect.value
  saveSettings()
  startSdk(`canaryTimeout ${canarySelect.selectedOptions[0]?.textContent ?? canarySelect.value}`)
})

const rememberSelect = /** @type {HTMLSelectElement} */ ($('remember'))
rememberSelect.value = settings.remember
rememberSelect.addEventListener('change', () => {
  settings.remember = rememberSelect.value
  saveSettings()
  startSdk(`remember ${rememberSelect.selectedOptions[0]?.textContent ?? rememberSelect.value}`)
})

const sharedBox = /** @type {HTMLInputElement} */ ($('shared'))
sharedBox.checked = settings.shared
sharedBox.addEventListener('change', () => {
  settings.shared = sharedBox.checked
  saveSettings()
  startSdk(settings.shared ? 'shared: one connection for all tabs' : 'shared off: a connection per tab')
})

function describeShared() {
  $('shared-note').textContent = workerUrl
    ? `Tabs share one connection through the SharedWorker at ${workerUrl}. Open another tab and watch the open requests.`
    : 'Tabs share one connection: a Web Locks leader tab streams and BroadcastChannel fans out. Open another tab and watch the open requests.'
}

$('reset-remembered').addEventListener('click', () => {
  const keys = []
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i)
    if (key?.startsWith(SDK_STORAGE_PREFIX)) keys.push(key)
  }
  for (const key of keys) localStorage.removeItem(key)
  $('buttons-note').textContent = `Cleared ${keys.length} remembered verdict${keys.length === 1 ? '' : 's'}; the SDK starts at the top of the ladder again.`
  startSdk('remembered transport cleared')
})

$('open-tab').addEventListener('click', () => {
  window.open(location.href, '_blank', 'noopener')
})

$('native-restart').addEventListener('click', () => {
  startNative('new EventSource(): starts live, without a cursor')
})

$('native-stop').addEventListener('click', () => {
  if (!native.es || native.stopped) return
  native.es.close()
  native.stopped = true
  addLog(native, 'closed by hand <span class="reason">frees a connection</span>', 'note')
})

// ---- rendering (at most every RENDER_MS, fixed-size slots) -------------------------------------

/**
 * @param {string} id
 * @param {string} text
 */
function setText(id, text) {
  const element = $(id)
  if (element.textContent !== text) element.textContent = text
}

/**
 * @param {string} id
 * @param {SeqTracker} tracker
 * @param {number} startSeq - the server's seq when the client started
 * @param {boolean} [dead] - the client gave up: what it has not received will never arrive
 */
function renderLoss(id, tracker, startSeq, dead = false) {
  const element = $(id)
  if (tracker.first === null) {
    const published = startSeq >= 0 ? Math.max(0, server.seq - startSeq) : 0
    if (dead) {
      element.dataset.state = 'bad'
      element.innerHTML = `<strong>${published} lost, 0 duplicated</strong><span>gave up before its first event</span>`
      return
    }
    element.dataset.state = 'waiting'
    element.innerHTML = `<strong>waiting for events</strong><span>${published > 0 ? `${published} published since it connected` : ''}</span>`
    return
  }
  const pending = tracker.pending(server.seq)
  const ok = tracker.lost === 0 && tracker.duplicates === 0 && !(dead && pending > 0)
  element.dataset.state = ok ? 'ok' : 'bad'
  const behind = pending === 0 ? ' · up to date' : dead ? ' · gave up' : ` · ${pending} not yet delivered`
  const detail = `seq ${tracker.first}–${tracker.max}${behind}`
  // A client that gave up will never see what it has not received: count that as lost.
  const lost = tracker.lost + (dead ? pending : 0)
  element.innerHTML = `<strong>${lost} lost, ${tracker.duplicates} duplicated</strong><span>${detail}</span>`
}

/**
 * @param {string} id
 * @param {{ log: LogEntry[], logVersion: number }} source
 * @param {{ version: number }} seen
 */
function renderLog(id, source, seen) {
  if (seen.version === source.logVersion) return
  seen.version = source.logVersion
  $(id).innerHTML = source.log
    .map((entry) => `<li class="${entry.kind}"><time>${clock(entry.time)}</time><span>${entry.html}</span></li>`)
    .join('')
}

const seenSdkLog = { version: -1 }
const seenNativeLog = { version: -1 }
const READY = ['connecting', 'open', 'closed']

function render() {
  const es = sdk.es
  if (es) {
    const stats = es.stats()
    const transport = es.transport
    setText('sdk-transport', transport ?? '—')
    $('sdk-transport').dataset.transport = transport ?? ''
    const stalled = isStalled(sdk.tracker, sdk.lastAt)
    let note = transport ? (stalled ? 'waiting for events…' : TRANSPORT_NOTES[transport] ?? '') : 'choosing a transport…'
    const top = settings.transports.find((t) => t.enabled)?.name
    if (transport && transport !== top && server.mode === 'direct' && settings.remember !== 'off') {
      // The verdict outlives the bad network on purpose; say how to see the climb back.
      note = `${note}\nremembered verdict · reset it to climb back now`
    }
    setText('sdk-transport-note', note)
    const state = READY[es.readyState] ?? 'connecting'
    setText('sdk-state', state)
    $('sdk-state').dataset.state = state
    setText('sdk-events', String(sdk.base.events + stats.events))
    setText('sdk-duplicates', String(sdk.base.duplicates + stats.duplicates))
    setText('sdk-gaps', String(sdk.base.gaps + stats.gaps))
    setText('sdk-reconnects', String(sdk.base.reconnects + stats.reconnects))
    setText('sdk-changes', String(sdk.base.transportChanges + stats.transportChanges))
    setText('sdk-age', formatAge(sdk.lastAt))
    const latency = stats.latency
    setText('sdk-latency', `latency p50 ${formatLatency(latency?.p50)} · p95 ${formatLatency(latency?.p95)} · p99 ${formatLatency(latency?.p99)}`)
  }
  renderLoss('sdk-lost', sdk.tracker, sdk.startSeq)
  renderLog('sdk-history', sdk, seenSdkLog)
  setText('sdk-error', sdk.error || '\u00a0')

  const nes = native.es
  const nativeState = native.gaveUp || native.stopped ? 'closed' : (READY[nes?.readyState ?? 0] ?? 'connecting')
  setText('native-state', nativeState)
  $('native-state').dataset.state = nativeState
  let status = 'connecting'
  if (native.stopped) status = 'stopped'
  else if (native.gaveUp) status = 'gave up'
  else if (nes?.readyState === EventSource.OPEN) status = isStalled(native.tracker, native.lastAt || native.openAt) ? 'stalled' : 'streaming'
  else if (nes?.readyState === EventSource.CONNECTING && native.opens > 0) status = 'reconnecting'
  setText('native-status', status)
  $('native-status').dataset.status = status
  setText('native-events', String(native.events))
  setText('native-duplicates', String(native.tracker.duplicates))
  setText('native-errors', String(native.errors))
  setText('native-opens', String(native.opens))
  setText('native-gaveup', native.gaveUp ? 'yes' : 'no')
  setText('native-age', formatAge(native.lastAt))
  setText(
    'native-latency',
    `latency p50 ${formatLatency(native.latency.quantile(0.5))} · p95 ${formatLatency(native.latency.quantile(0.95))} · p99 ${formatLatency(native.latency.quantile(0.99))}`,
  )
  renderLoss('native-lost', native.tracker, native.startSeq, native.gaveUp)
  renderLog('native-log', native, seenNativeLog)
  setText('native-error', native.error || '\u00a0')

  const preset = NETWORK_PRESETS[server.mode]
  setText(
    'server-status',
    server.reachable
      ? `server seq ${server.seq} · ${formatRate(server.rate)} events/s · ${preset?.label ?? server.mode} · ${server.openRequests} open request${server.openRequests === 1 ? '' : 's'}`
      : 'playground server unreachable: is `npm run playground` still running?',
  )
  $('server-status').dataset.reachable = String(server.reachable)
  chart.redraw()
}

// ---- start -------------------------------------------------------------------------------------

Promise.all([
  api('/api/state').then((state) => {
    applyState(state)
    modeSelect.value = state.mode
    explainMode(state.mode)
  }),
  findWorker().then((url) => {
    workerUrl = url
    describeShared()
  }),
])
  .catch(() => undefined)
  .finally(() => {
    startSdk()
    startNative()
    setTimeout(pollState, STATE_MS)
    setInterval(render, RENDER_MS)
    render()
  })

// For tests and curious consoles: the live state behind the panels.
Object.assign(window, { playground: { sdk, native, server } })
