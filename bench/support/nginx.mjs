// A real nginx for the benchmarks, configured like the misconfigured ingress of the system tests
// (test/support/nginx.ts `buffering-ignores-header`): buffering on, HTTP/1.0 upstream,
// X-Accel-Buffering ignored. Plain ESM so `node bench/ladder.mjs` can start it.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'

/** Where Debian installs nginx. */
export const NGINX_BINARY = '/usr/sbin/nginx'

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * Starts nginx in the foreground in front of `upstream` with event-stream buffering.
 * @returns `{ url, close }`, or `undefined` when nginx is not installed
 * @throws Error when nginx does not come up within 10 s
 */
export async function startBufferingNginx(upstream) {
  if (!existsSync(NGINX_BINARY)) return undefined
  const dir = await mkdtemp(path.join(tmpdir(), 'resilient-sse-bench-nginx-'))
  const port = await freePort()
  const file = (name) => path.join(dir, name)
  const user = process.getuid?.() === 0 ? 'user root;\n' : ''
  const config = `${user}daemon off;
worker_processes 1;
pid ${file('nginx.pid')};
error_log ${file('error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${file('client-body')};
  proxy_temp_path ${file('proxy')};
  fastcgi_temp_path ${file('fastcgi')};
  uwsgi_temp_path ${file('uwsgi')};
  scgi_temp_path ${file('scgi')};
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass ${new URL(upstream).origin};
      proxy_set_header Host $http_host;
      proxy_read_timeout 300s;
      proxy_http_version 1.0;
      proxy_buffering on;
      proxy_ignore_headers X-Accel-Buffering;
    }
  }
}
`
  await writeFile(file('nginx.conf'), config)
  const child = spawn(NGINX_BINARY, ['-p', dir, '-c', file('nginx.conf'), '-e', file('error.log')], { stdio: 'ignore' })
  const deadline = Date.now() + 10_000
  while (!(existsSync(file('nginx.pid')) && (await accepts(port)))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      await rm(dir, { recursive: true, force: true })
      throw new Error(`nginx did not start on 127.0.0.1:${port}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      if (child.exitCode === null) {
        await new Promise((resolve) => {
          child.once('exit', resolve)
          child.kill('SIGTERM')
        })
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}
