// The page of the browser security tests, served as /security-page.js by security-app.mjs. Before
// the SDK loads it wraps the constructors and calls that name cross-tab channels, so a test can
// read the names the SDK really used. It exposes on `window`:
//   __start(url, { token, shared, transports, canaryTimeout, types })  a ResilientEventSource whose `headers`
//       function returns `Authorization: Bearer <token>` (and `X-Api-Key: <token>-key`);
//       `token: null` sets no headers
//   __stop()          closes it
//   __names           { broadcast, locks, workers: [{ url, name }] }: names the SDK used
//   __listen(name)    a raw BroadcastChannel on `name`; what it hears goes to __heard
//   __heard           JSON of every message the raw channels heard
//   __posted          JSON of every message this page posted on a BroadcastChannel or worker port
//   __locks()         navigator.locks.query(): names of held and pending locks
//   __storage()       everything this origin persisted: localStorage, sessionStorage,
//                     document.cookie, IndexedDB database names, Cache Storage keys
//   __log             { messages: [{ type, data, id }], opens, errors, transport, headerCalls }
const names = { broadcast: [], locks: [], workers: [] }
window.__names = names

const NativeBroadcastChannel = window.BroadcastChannel
window.__posted = []
const recordPost = (via, message) => {
  try {
    window.__posted.push(`${via} ${JSON.stringify(message)}`)
  } catch {
    window.__posted.push(`${via} (not JSON)`)
  }
}
window.BroadcastChannel = class extends NativeBroadcastChannel {
  constructor(name) {
    super(name)
    names.broadcast.push(String(name))
  }
  postMessage(message) {
    recordPost('channel', message)
    super.postMessage(message)
  }
}
const request = navigator.locks.request.bind(navigator.locks)
navigator.locks.request = (name, ...rest) => {
  names.locks.push(String(name))
  return request(name, ...rest)
}
const NativeSharedWorker = window.SharedWorker
window.SharedWorker = class extends NativeSharedWorker {
  constructor(url, options) {
    super(url, options)
    names.workers.push({ url: new URL(String(url), location.href).href, name: typeof options === 'string' ? options : (options?.name ?? '') })
    const port = this.port
    const post = port.postMessage.bind(port)
    port.postMessage = (message, ...rest) => {
      recordPost('port', message)
      post(message, ...rest)
    }
  }
}

window.__heard = []
window.__listen = (name) => {
  const channel = new NativeBroadcastChannel(name)
  channel.onmessage = (event) => window.__heard.push(JSON.stringify(event.data))
}

window.__locks = async () => {
  const state = await navigator.locks.query()
  return { held: (state.held ?? []).map((lock) => lock.name), pending: (state.pending ?? []).map((lock) => lock.name) }
}

window.__storage = async () => {
  const entries = (storage) => Object.fromEntries(Array.from({ length: storage.length }, (_, i) => storage.key(i)).map((key) => [key, storage.getItem(key)]))
  const databases = typeof indexedDB.databases === 'function' ? await indexedDB.databases() : []
  const cacheKeys = typeof caches === 'object' ? await caches.keys() : []
  return {
    local: entries(localStorage),
    session: entries(sessionStorage),
    cookie: document.cookie,
    indexedDB: databases.map((database) => database.name),
    caches: cacheKeys,
  }
}

const sdk = await import('/pkg/index.js')

let current = null
window.__log = { messages: [], opens: 0, errors: [], transport: null, headerCalls: [] }

window.__start = (url, { token, shared = true, transports, canaryTimeout, types = [] } = {}) => {
  window.__stop()
  const log = { messages: [], opens: 0, errors: [], transport: null, headerCalls: [] }
  window.__log = log
  const es = new sdk.ResilientEventSource(url, {
    shared,
    ...(transports ? { transports } : {}),
    ...(canaryTimeout === undefined ? {} : { canaryTimeout }),
    // `token: null`: no headers at all (so native EventSource may be used).
    ...(token === null
      ? {}
      : {
          headers: async ({ refresh }) => {
            log.headerCalls.push(refresh)
            return { Authorization: `Bearer ${token}`, 'X-Api-Key': `${token}-key` }
          },
        }),
  })
  current = es
  const onMessage = (event) => log.messages.push({ type: event.type, data: event.data, id: event.lastEventId })
  es.addEventListener('message', onMessage)
  for (const type of types) es.addEventListener(type, onMessage)
  es.addEventListener('open', () => {
    log.opens += 1
  })
  es.addEventListener('error', (event) => {
    log.errors.push({ code: event.error?.code ?? null, status: event.error?.status ?? null, message: String(event.error?.message ?? '') })
  })
  es.addEventListener('transportchange', () => {
    log.transport = es.transport
  })
}

window.__stop = () => {
  current?.close()
  current = null
}

window.__sdkReady = true
