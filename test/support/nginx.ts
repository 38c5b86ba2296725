import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'

/** Where Debian installs nginx. */
export const NGINX_BINARY = '/usr/sbin/nginx'

/** How to install nginx when it is missing; quoted in the error so a failing run says what to do. */
export const NGINX_INSTALL_HINT = 'apt-get update && apt-get install -y nginx'

/**
 * A canned nginx reverse-proxy configuration.
 *
 * - `buffering-ignores-header`: `proxy_buffering on`, `proxy_http_version 1.0` and
 *   `proxy_ignore_headers X-Accel-Buffering`, the misconfigured ingress that holds event streams
 *   until the upstream ends even though the server asked for no buffering.
 * - `buffering-honours-header`: the same but honouring `X-Accel-Buffering: no` (nginx's default).
 * - `unbuffered`: `proxy_buffering off` and HTTP/1.1 upstream, the recommended SSE setup.
 */
export type NginxConfig = 'buffering-ignores-header' | 'buffering-honours-header' | 'unbuffered'

/** Options of {@link startNginx}. */
export interface NginxOptions {
  /** Upstream origin, e.g. `http://127.0.0.1:8080`. */
  upstream: string
  /**
   * Which proxy behaviour to configure.
   * @defaultValue `'buffering-ignores-header'`
   */
  config?: NginxConfig
  /** Extra directives appended to the `location /` block, e.g. `proxy_read_timeout 5s;`. */
  locationDirectives?: string
  /**
   * How long to wait for nginx to accept connections.
   * @defaultValue `10000`
   */
  startTimeoutMs?: number
}

/** A running nginx started by {@link startNginx}. */
export interface NginxServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  readonly port: number
  /** The temp dir holding the config, pid file, logs and temp paths. */
  readonly dir: string
  /** The generated configuration text. */
  readonly configText: string
  /** Reads nginx's error log (useful in assertion messages). */
  errorLog(): Promise<string>
  /** Stops nginx and removes its temp dir. */
  close(): Promise<void>
}

/**
 * Finds a loopback port that is free right now by listening on port 0 and closing again. Another
 * process may take it before the caller binds it, so callers retry on `EADDRINUSE`.
 *
 * @returns A port number.
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function locationBlock(config: NginxConfig, upstream: URL, extra: string): string {
  const pass = `proxy_pass ${upstream.origin};`
  const common = ['proxy_set_header Host $http_host;', 'proxy_read_timeout 300s;', 'proxy_send_timeout 300s;']
  const specific: Record<NginxConfig, string[]> = {
    'buffering-ignores-header': [
      'proxy_http_version 1.0;',
      'proxy_buffering on;',
      'proxy_ignore_headers X-Accel-Buffering;',
    ],
    'buffering-honours-header': ['proxy_http_version 1.0;', 'proxy_buffering on;'],
    unbuffered: ['proxy_http_version 1.1;', 'proxy_set_header Connection "";', 'proxy_buffering off;'],
  }
  return [pass, ...common, ...specific[config], extra].filter(Boolean).map((line) => `      ${line}`).join('\n')
}

/**
 * Renders a self-contained nginx configuration: foreground, every path inside `dir`, one worker,
 * listening on `127.0.0.1:port`.
 *
 * @param dir - Prefix directory for pid, logs and temp paths.
 * @param port - Loopback port to listen on.
 * @param options - Upstream, canned config and extra location directives.
 * @returns The configuration text.
 */
export function renderNginxConfig(dir: string, port: number, options: NginxOptions): string {
  const config = options.config ?? 'buffering-ignores-header'
  const upstream = new URL(options.upstream)
  // As root nginx drops its workers to `nobody`, who cannot write the 0700 temp dir.
  const user = process.getuid?.() === 0 ? 'user root;\n' : ''
  const temp = (name: string) => path.join(dir, name)
  return `${user}daemon off;
worker_processes 1;
pid ${temp('nginx.pid')};
error_log ${temp('error.log')} warn;
events {
  worker_connections 256;
}
http {
  access_log off;
  client_body_temp_path ${temp('client-body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  server {
    listen 127.0.0.1:${port};
    location / {
${locationBlock(config, upstream, options.locationDirectives ?? '')}
    }
  }
}
`
}

// Ready means: nginx wrote its pid file (it does so only after binding its sockets, so a
// connection cannot be answered by a stranger that took the port) and the port accepts.
function waitForReady(port: number, pidFile: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    let exited = false
    const onExit = () => {
      exited = true
    }
    child.once('exit', onExit)
    const attempt = () => {
      if (exited) {
        reject(new Error('nginx exited during start-up'))
        return
      }
      if (!existsSync(pidFile)) {
        retry()
        return
      }
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        child.off('exit', onExit)
        resolve()
      })
      socket.once('error', () => {
        socket.destroy()
        retry()
      })
    }
    const retry = () => {
      if (Date.now() > deadline) {
        child.off('exit', onExit)
        reject(new Error(`nginx did not accept connections on 127.0.0.1:${port} within ${timeoutMs} ms`))
      } else {
        setTimeout(attempt, 25)
      }
    }
    attempt()
  })
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', () => {
      clearTimeout(force)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/**
 * Starts a real nginx in the foreground as a reverse proxy in front of `upstream`, configured to
 * reproduce a known field behaviour (by default the buffering ingress that holds event streams).
 * Throws when nginx is not installed; tests that need it must not be skipped.
 *
 * @param options - Upstream and configuration.
 * @returns The running server; call `close()` in `afterEach`/`afterAll`.
 * @throws Error with the install command when {@link NGINX_BINARY} is missing.
 * @example
 * const nginx = await startNginx({ upstream: upstream.url })
 * const response = await fetch(`${nginx.url}/events`)
 * await nginx.close()
 */
export async function startNginx(options: NginxOptions): Promise<NginxServer> {
  if (!existsSync(NGINX_BINARY)) {
    throw new Error(`nginx is not installed (${NGINX_BINARY} missing). Install it with: ${NGINX_INSTALL_HINT}`)
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'resilient-sse-nginx-'))
  const configFile = path.join(dir, 'nginx.conf')
  const errorLogFile = path.join(dir, 'error.log')
  const errorLog = () => readFile(errorLogFile, 'utf8').catch(() => '')
  let lastError: unknown
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await findFreePort()
    const configText = renderNginxConfig(dir, port, options)
    await writeFile(configFile, configText)
    await rm(path.join(dir, 'nginx.pid'), { force: true })
    let stderr = ''
    // `-e` moves the start-up error log away from /var/log/nginx, which may not be writable.
    const child = spawn(NGINX_BINARY, ['-p', dir, '-c', configFile, '-e', errorLogFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    child.stderr?.on('data', (data: Buffer) => {
      stderr += data.toString('utf8')
    })
    try {
      await waitForReady(port, path.join(dir, 'nginx.pid'), child, options.startTimeoutMs ?? 10_000)
    } catch (error) {
      await stopProcess(child)
      const log = `${stderr}\n${await errorLog()}`
      lastError = new Error(`${(error as Error).message}\n${log.trim()}`, { cause: error })
      // Someone took the port between the probe and nginx's bind: try another one.
      if (/Address already in use/i.test(log)) continue
      break
    }
    let closed: Promise<void> | undefined
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      dir,
      configText,
      errorLog,
      close() {
        closed ??= stopProcess(child).then(() => rm(dir, { recursive: true, force: true }))
        return closed
      },
    }
  }
  await rm(dir, { recursive: true, force: true })
  throw lastError instanceof Error ? lastError : new Error('nginx could not be started')
}
