// The page of the multi-tab tests and benchmark, served as /tabs-page.js by tabs-app.ts. It
// loads the built package from /index.js and exposes on `window`:
//   __start(url, options, types)  opens a ResilientEventSource and records what it dispatches
//   __stop()                      closes it
//   __fetch(path, timeoutMs)      a plain fetch of another page: 'ok', or 'timeout' when stalled
//   __locks()                     navigator.locks.query() counts: { held, pending }
//   __log                         { messages: [{ type, data, id, at }], opens, errors, transport }
import * as sdk from '/index.js'

let current = null
window.__log = { messages: [], opens: 0, errors: [], transport: null }

window.__start = (url, options = {}, types = []) => {
  window.__stop()
  const log = { messages: [], opens: 0, errors: [], transport: null }
  window.__log = log
  const es = new sdk.ResilientEventSource(url, options)
  current = es
  const onMessage = (event) => {
    log.messages.push({ type: event.type, data: event.data, id: event.lastEventId, at: Date.now() })
  }
  es.addEventListener('message', onMessage)
  for (const type of types) es.addEventListener(type, onMessage)
  es.addEventListener('open', () => {
    log.opens += 1
  })
  es.addEventListener('error', (event) => {
    log.errors.push(event.error?.code ?? 'unknown')
  })
  es.addEventListener('transportchange', () => {
    log.transport = es.transport
  })
}

window.__stop = () => {
  current?.close()
  current = null
}

window.__fetch = async (path, timeoutMs) => {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutMs)
  try {
    const response = await fetch(path, { signal: controller.signal, cache: 'no-store' })
    await response.text()
    return 'ok'
  } catch {
    return 'timeout'
  } finally {
    clearTimeout(timer)
  }
}

window.__locks = async () => {
  const state = await navigator.locks.query()
  return { held: state.held?.length ?? 0, pending: state.pending?.length ?? 0 }
}

window.__sdkReady = true
