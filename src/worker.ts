// The SharedWorker script (`resilient-sse/worker`): serve it from your own origin and pass its
// URL as `shared: { workerUrl }`. Built as one self-contained file without imports or exports,
// so it runs as a classic worker script in every browser that has SharedWorker.
import { createWorkerScope } from './multiplexer/worker-scope'
import type { MessagePortLike } from './multiplexer/shared-worker'

const scope = createWorkerScope()

;(globalThis as unknown as { addEventListener(type: 'connect', listener: (event: { ports: readonly MessagePortLike[] }) => void): void }).addEventListener(
  'connect',
  (event) => {
    const port = event.ports[0]
    if (port) scope.connect(port)
  },
)
