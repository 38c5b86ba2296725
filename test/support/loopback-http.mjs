// The node:http pieces the loopback test servers share: plain ESM so the .mjs apps (ladder, tabs),
// the benchmarks that reuse them and the TypeScript harness (chromium.ts, proxies.ts) import one copy.
import { readFile } from 'node:fs/promises'
import path from 'node:path'

/** Answers 404 with a short plain-text body. */
export function notFound(res) {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n')
}

/**
 * Sends `file` uncached (200, its length, `cache-control: no-store`), typed by its extension from
 * `types` (`application/octet-stream` for others); 404 when it cannot be read.
 */
export async function sendFile(res, file, types) {
  const body = await readFile(file).catch(() => undefined)
  if (!body) {
    notFound(res)
    return
  }
  res.writeHead(200, {
    'content-type': types[path.extname(file)] ?? 'application/octet-stream',
    'content-length': body.length,
    'cache-control': 'no-store',
  })
  res.end(body)
}

/**
 * Listens on 127.0.0.1 on a port the OS picks, keeping track of open sockets so that `close()`
 * can destroy them: open event streams would otherwise keep `server.close()` waiting.
 */
export async function listenOnLoopback(server) {
  const sockets = new Set()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
    },
  }
}
