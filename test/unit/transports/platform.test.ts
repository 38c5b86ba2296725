import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { createEnv } from '../../../src/env'
import { defaultTransports, transportsByName } from '../../../src/transports'
import { connectRequest, recordSink } from '../../contract/support'

const sourceDir = fileURLToPath(new URL('../../../src/transports/', import.meta.url))

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('platform independence', () => {
  test('no transport source mentions window or document (they must run in workers and Node)', () => {
    for (const file of readdirSync(sourceDir).filter((name) => name.endsWith('.ts'))) {
      const code = readFileSync(sourceDir + file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
      expect(code, file).not.toMatch(/\b(window|document)\b/)
    }
  })

  test.each(['fetch', 'sse-close', 'long-poll'] as const)(
    '%s reads fetch when it opens, not at import (a stub installed later is used)',
    async (name) => {
      const stub = vi.fn(async () => new Response('', { status: 503 }))
      vi.stubGlobal('fetch', stub)
      const recorder = recordSink()
      transportsByName[name].open(connectRequest(), recorder.sink, createEnv())
      expect(await recorder.error()).toMatchObject({ status: 503 })
      expect(stub).toHaveBeenCalledTimes(1)
    },
  )

  test('the default ladder order', () => {
    expect(defaultTransports.map((transport) => transport.name)).toEqual([
      'eventsource',
      'fetch',
      'sse-close',
      'long-poll',
    ])
    expect(defaultTransports.map((transport) => transport.mode)).toEqual(['stream', 'stream', 'close', 'poll'])
    for (const transport of defaultTransports) expect(transportsByName[transport.name]).toBe(transport)
  })
})
