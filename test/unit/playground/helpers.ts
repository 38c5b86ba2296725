import http from 'node:http'
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startPlayground, type Playground, type PlaygroundOptions } from '../../../playground/server/app.mjs'
import { createEventHub } from '../../../src/server/index'

/** A playground run from source, with a throw-away `dist/` so the tests never need a build. */
export async function startTestPlayground(options: Partial<PlaygroundOptions> = {}): Promise<Playground> {
  const dist = await mkdtemp(join(tmpdir(), 'playground-dist-'))
  await mkdir(join(dist, 'server'))
  await writeFile(join(dist, 'index.js'), 'export const marker = "pkg"\n')
  return startPlayground({ createEventHub, distDir: dist, ...options })
}

/** One chunk of a response body and when it arrived. */
export interface Chunk {
  readonly at: number
  readonly text: string
}

/** An open streaming response, recorded chunk by chunk. */
export interface OpenStream {
  readonly response: http.IncomingMessage
  readonly headersAt: number
  readonly chunks: Chunk[]
  readonly text: () => string
  /** Resolves when the body is over: `complete` says whether it ended normally. */
  readonly ended: Promise<{ complete: boolean; at: number }>
  /** Resolves once `predicate(text so far)` holds; rejects after `timeout` ms. */
  waitFor(predicate: (text: string) => boolean, timeout?: number): Promise<number>
  close(): void
}

/** Opens `url` and records its body as it arrives (no buffering on this side). */
export function openStream(url: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } })
    request.on('error', reject)
    request.on('response', (response) => {
      const headersAt = Date.now()
      const chunks: Chunk[] = []
      const waiters = new Set<() => void>()
      response.setEncoding('utf8')
      response.on('data', (text: string) => {
        chunks.push({ at: Date.now(), text })
        for (const waiter of waiters) waiter()
      })
      const ended = new Promise<{ complete: boolean; at: number }>((done) => {
        response.on('close', () => done({ complete: response.complete, at: Date.now() }))
      })
      request.removeListener('error', reject)
      request.on('error', () => undefined)
      const text = () => chunks.map((chunk) => chunk.text).join('')
      resolve({
        response,
        headersAt,
        chunks,
        text,
        ended,
        waitFor(predicate, timeout = 5000) {
          return new Promise((done, fail) => {
            const check = () => {
              if (!predicate(text())) return
              clearTimeout(timer)
              waiters.delete(check)
              done(Date.now())
            }
            const timer = setTimeout(() => {
              waiters.delete(check)
              fail(new Error(`timed out after ${timeout} ms; body so far: ${JSON.stringify(text().slice(-300))}`))
            }, timeout)
            waiters.add(check)
            check()
          })
        },
        close: () => request.destroy(),
      })
    })
  })
}

/** The `{ seq, t }` payloads of the app events in an event-stream body. */
export function seqs(body: string): { seq: number; t: number }[] {
  const result: { seq: number; t: number }[] = []
  for (const line of body.split('\n')) {
    if (!line.startsWith('data: {"seq"')) continue
    result.push(JSON.parse(line.slice('data: '.length)) as { seq: number; t: number })
  }
  return result
}

/** A JSON request to the playground. */
export async function requestJson(
  base: string,
  path: string,
  init: { method?: string; body?: unknown; contentType?: string } = {},
): Promise<{ status: number; headers: Headers; json: any }> {
  const response = await fetch(new URL(path, base), {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: init.body === undefined ? {} : { 'content-type': init.contentType ?? 'application/json' },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  })
  return { status: response.status, headers: response.headers, json: await response.json() }
}

/** Polls `condition` every 20 ms until it holds; rejects after `timeout` ms. */
export async function eventually(condition: () => boolean, timeout = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeout
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((done) => setTimeout(done, 20))
  }
}
