import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, connect } from 'node:net'

const REDIS_SERVER = '/usr/bin/redis-server'

/** A throwaway redis-server on a loopback port: no persistence, so a restart empties it. */
export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** Stops the server (SIGTERM, waits for exit) and starts it again on the same port. */
  restart(): Promise<void>
  /** Stops the server; starts again with {@link RedisServer.start}. */
  stop(): Promise<void>
  /** Starts a stopped server on the same port. */
  start(): Promise<void>
}

/**
 * Starts Debian's `redis-server` (`--save '' --appendonly no`, bound to 127.0.0.1) on a free port.
 * @throws Error telling how to install it when the binary is missing (tests never skip)
 */
export async function startRedis(): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(`${REDIS_SERVER} not found: install it with \`apt-get update && apt-get install -y redis-server\``)
  }
  let port = await freePort()
  let child: ChildProcess | undefined
  for (let attempt = 0; ; attempt += 1) {
    try {
      child = await launch(port)
      break
    } catch (error) {
      // Another process took the port between probing and binding: try another one.
      if (attempt >= 4) throw error
      port = await freePort()
    }
  }
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const running = child
      child = undefined
      if (running === undefined || running.exitCode !== null) return
      await new Promise<void>((resolve) => {
        running.once('exit', () => resolve())
        running.kill('SIGTERM')
      })
    },
    async start() {
      if (child !== undefined) return
      // The old socket may linger briefly after exit: retry binding for a while.
      const deadline = Date.now() + 5000
      for (;;) {
        try {
          child = await launch(port)
          return
        } catch (error) {
          if (Date.now() > deadline) throw error
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
    },
    async restart() {
      await server.stop()
      await server.start()
    },
  }
  return server
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      probe.close(() => resolve(port))
    })
  })
}

async function launch(port: number): Promise<ChildProcess> {
  const child = spawn(
    REDIS_SERVER,
    ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'no', '--loglevel', 'warning'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} on port ${port}: ${stderr.trim()}`)))
    child.once('error', reject)
  })
  exited.catch(() => {})
  const deadline = Date.now() + 10_000
  for (;;) {
    const ok = await Promise.race([ping(port), exited])
    if (ok) return child
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`redis-server did not answer PING on port ${port} within 10 s`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Raw RESP PING, so the harness needs no client. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let reply = ''
    socket.setTimeout(1000)
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (reply.includes('\r\n')) {
        socket.destroy()
        resolve(reply.startsWith('+PONG'))
      }
    })
    socket.on('error', () => resolve(false))
    socket.on('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}
