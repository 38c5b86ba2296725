// The page of the browser ladder tests and benchmark, served as /ladder-page.js by ladder-app.mjs.
// It loads the built package from /pkg/index.js and exposes a recorder on `window`:
//   __start(url, options, types)   opens a ResilientEventSource and records what it dispatches
//   __startNative(url, types)      the same with a plain native EventSource (the baseline)
//   __stop()                       closes the current stream
//   __log                          { messages, changes, errors, opens, startedAt, transport, reconnects }
// Times are `performance.timeOrigin + performance.now()` (ms since the epoch, sub-ms precision),
// the same clock the Node side uses to stamp published events.
import * as sdk from '/pkg/index.js'

const now = () => performance.timeOrigin + performance.now()

function freshLog() {
  return { messages: [], changes: [], errors: [], opens: 0, startedAt: now(), transport: null, reconnects: 0, native: false }
}

let current = null
window.__log = freshLog()

function record(source, log, types) {
  const onMessage = (event) => {
    log.messages.push({ type: event.type, data: event.data, id: event.lastEventId, at: now() })
  }
  source.addEventListener('message', onMessage)
  for (const type of types) source.addEventListener(type, onMessage)
  source.addEventListener('open', () => {
    log.opens += 1
  })
}

window.__start = (url, options = {}, types = []) => {
  window.__stop()
  const log = freshLog()
  window.__log = log
  const es = new sdk.ResilientEventSource(url, options)
  current = es
  record(es, log, types)
  es.addEventListener('error', (event) => {
    const error = event.error ?? {}
    log.errors.push({ code: error.code ?? null, status: error.status ?? null, message: String(error.message ?? '') })
  })
  es.addEventListener('transportchange', (event) => {
    log.changes.push({ transport: event.transport, previous: event.previous, reason: event.reason, at: now() })
    log.transport = es.transport
  })
  // Keep the transport and reconnect counter fresh for readers that poll `__log`.
  const refresh = () => {
    if (current !== es) return
    log.transport = es.transport
    log.reconnects = es.stats().reconnects
    setTimeout(refresh, 20)
  }
  refresh()
}

window.__startNative = (url, types = []) => {
  window.__stop()
  const log = freshLog()
  log.native = true
  window.__log = log
  const source = new EventSource(url)
  current = source
  record(source, log, types)
  source.addEventListener('error', () => {
    log.errors.push({ code: 'native-error', status: null, message: `readyState ${source.readyState}` })
  })
}

window.__stop = () => {
  current?.close()
  current = null
}

window.__sdkReady = true
