import { mkdtemp, mkdir, writeFile } from 'node:fs/promises'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Playground } from '../../../playground/server/app.mjs'
import { createStaticHandler } from '../../../playground/server/static.mjs'
import { startTestPlayground } from './helpers'

/** A raw GET (fetch would normalise `..` away before sending). */
function rawGet(base: string, path: string, method = 'GET'): Promise<{ status: number; type: string | undefined; body: string }> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const request = http.request({ host: url.hostname, port: url.port, path, method }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (text: string) => (body += text))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: response.headers['content-type'], body }))
    })
    request.on('error', reject)
    request.end()
  })
}

describe('createStaticHandler', () => {
  let server: http.Server
  let base: string

  beforeAll(async () => {
    const root = await mkdtemp(join(tmpdir(), 'playground-static-'))
    await mkdir(join(root, 'site', 'sub'), { recursive: true })
    await mkdir(join(root, 'lib'))
    await writeFile(join(root, 'site', 'index.html'), '<!doctype html><title>home</title>')
    await writeFile(join(root, 'site', 'app.js'), 'export {}')
    await writeFile(join(root, 'site', 'style.css'), 'body{}')
    await writeFile(join(root, 'site', 'sub', 'index.html'), 'sub')
    await writeFile(join(root, 'lib', 'index.js'), 'export const lib = 1')
    await writeFile(join(root, 'secret.txt'), 'secret')
    const files = createStaticHandler({
      mounts: [
        { prefix: '/', dir: join(root, 'site') },
        { prefix: '/pkg', dir: join(root, 'lib') },
      ],
    })
    server = http.createServer((req, res) => {
      void files.serve(req, res).then((served) => {
        if (served) return
        res.writeHead(404)
        res.end('none')
      })
    })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })

  afterAll(async () => {
    await new Promise((done) => server.close(done))
  })

  test.each([
    ['/', 200, 'text/html; charset=utf-8', '<!doctype html><title>home</title>'],
    ['/index.html', 200, 'text/html; charset=utf-8', '<!doctype html><title>home</title>'],
    ['/app.js', 200, 'text/javascript; charset=utf-8', 'export {}'],
    ['/style.css?v=2', 200, 'text/css; charset=utf-8', 'body{}'],
    ['/sub/', 200, 'text/html; charset=utf-8', 'sub'],
    ['/pkg/index.js', 200, 'text/javascript; charset=utf-8', 'export const lib = 1'],
    ['/missing.js', 404, undefined, 'none'],
    ['/pkg/../secret.txt', 404, undefined, 'none'],
    ['/..%2fsecret.txt', 404, undefined, 'none'],
    ['/%2e%2e/secret.txt', 404, undefined, 'none'],
    ['/pkg/%2e%2e%2fsecret.txt', 404, undefined, 'none'],
    ['/app.js%00', 404, undefined, 'none'],
    ['/%E0%A4%A', 404, undefined, 'none'],
  ])('GET %s → %i', async (path, status, type, body) => {
    const response = await rawGet(base, path)
    expect(response.status).toBe(status)
    if (type) expect(response.type).toBe(type)
    expect(response.body).toBe(body)
  })

  test('HEAD sends headers only; other methods are not served', async () => {
    expect(await rawGet(base, '/app.js', 'HEAD')).toEqual({ status: 200, type: 'text/javascript; charset=utf-8', body: '' })
    expect((await rawGet(base, '/app.js', 'POST')).status).toBe(404)
  })
})

describe('the playground serves the page, the package and uPlot', () => {
  let playground: Playground

  beforeAll(async () => {
    playground = await startTestPlayground()
  })

  afterAll(async () => {
    await playground.close({ timeout: 200 })
  })

  test('the page imports the SDK through an import map onto /pkg/', async () => {
    const page = await rawGet(playground.url, '/')
    expect(page.status).toBe(200)
    expect(page.body).toContain('"resilient-sse": "/pkg/index.js"')
    expect(page.body).toContain('/vendor/uplot/uPlot.min.css')
    for (const id of ['network-mode', 'sdk-transport', 'sdk-events', 'sdk-lost', 'native-events']) {
      expect(page.body).toContain(`data-testid="${id}"`)
    }
    const app = await rawGet(playground.url, '/app.js')
    expect(app.type).toBe('text/javascript; charset=utf-8')
    expect(app.body).toContain("from 'resilient-sse'")
  })

  test('/pkg/ is dist, /vendor/uplot/ is uPlot', async () => {
    expect((await rawGet(playground.url, '/pkg/index.js')).body).toContain('marker')
    const uplot = await rawGet(playground.url, '/vendor/uplot/uPlot.esm.js')
    expect([uplot.status, uplot.type]).toEqual([200, 'text/javascript; charset=utf-8'])
    expect((await rawGet(playground.url, '/vendor/uplot/uPlot.min.css')).type).toBe('text/css; charset=utf-8')
    expect((await rawGet(playground.url, '/nope')).status).toBe(404)
  })
})
