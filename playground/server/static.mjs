// @ts-check
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { extname, join, resolve, sep } from 'node:path'

/** @typedef {import('./static.d.mts').StaticMount} StaticMount */
/** @typedef {import('./static.d.mts').StaticHandler} StaticHandler */

/** @type {Readonly<Record<string, string>>} */
const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
}

/**
 * Serves files below a few directories, each mounted at a URL prefix (`/pkg/` → `dist/`). GET
 * and HEAD only; `..`, encoded slashes and NUL never leave a mount; a directory serves its
 * `index.html`. Files are sent with `Cache-Control: no-cache` so a rebuild shows at once.
 *
 * @param {{ mounts: readonly StaticMount[] }} options
 * @returns {StaticHandler}
 */
export function createStaticHandler({ mounts }) {
  const sorted = mounts
    .map((mount) => ({ prefix: mount.prefix.endsWith('/') ? mount.prefix : `${mount.prefix}/`, dir: resolve(mount.dir) }))
    .sort((a, b) => b.prefix.length - a.prefix.length)

  /** @param {string} pathname */
  const locate = (pathname) => {
    for (const mount of sorted) {
      if (!pathname.startsWith(mount.prefix) && pathname !== mount.prefix.slice(0, -1)) continue
      const rest = pathname.slice(mount.prefix.length)
      /** @type {string[]} */
      const segments = []
      for (const raw of rest.split('/')) {
        let segment
        try {
          segment = decodeURIComponent(raw)
        } catch {
          return undefined
        }
        if (segment === '' || segment === '.') continue
        if (segment === '..' || segment.includes('/') || segment.includes('\\') || segment.includes('\0')) return undefined
        segments.push(segment)
      }
      const file = join(mount.dir, ...segments)
      // Belt and braces: whatever the segments were, the file must lie inside the mount.
      if (file !== mount.dir && !file.startsWith(mount.dir + sep)) return undefined
      return file
    }
    return undefined
  }

  return {
    async serve(req, res) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false
      const pathname = new URL(req.url ?? '/', 'http://localhost').pathname
      let file = locate(pathname)
      if (file === undefined) return false
      let info = await stat(file).catch(() => undefined)
      if (info?.isDirectory()) {
        file = join(file, 'index.html')
        info = await stat(file).catch(() => undefined)
      }
      if (!info?.isFile()) return false
      res.writeHead(200, {
        'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': info.size,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      })
      if (req.method === 'HEAD') {
        res.end()
        return true
      }
      await new Promise((done) => {
        const stream = createReadStream(file)
        stream.on('error', () => {
          res.destroy()
          done(undefined)
        })
        res.on('close', () => {
          stream.destroy()
          done(undefined)
        })
        stream.pipe(res)
      })
      return true
    },
  }
}
