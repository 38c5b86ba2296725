// Runs the WHATWG case table (bench/parser-spec-cases.json, shared with test/unit/parser) against
// resilient-sse's parser, eventsource-parser v3 and @microsoft/fetch-event-source's parse module,
// and prints how many cases each passes, fed whole and fed one byte at a time.
//
// Compared per case: each event's type ("message" when empty), data and own id, and the retry
// values. lastEventId is compared for resilient-sse only (the peers do not report it); comments
// are not compared (the spec gives them no content). Peers get bytes the way their users feed
// them: eventsource-parser through a streaming TextDecoder (as TextDecoderStream does),
// fetch-event-source through getLines(getMessages()). fetch-event-source reports an empty id
// as "" for "no id", so for it "" counts as undefined.
//
// Usage: node bench/parser-conformance.mjs  (PARSER_MODULE=.tmp/parser.js for an esbuild output)
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createParser } from 'eventsource-parser'

const modulePath = resolve(process.env.PARSER_MODULE ?? 'dist/parser/index.js')
const { createEventStreamParser } = await import(pathToFileURL(modulePath).href)
const parsePath = createRequire(import.meta.url).resolve('@microsoft/fetch-event-source/lib/esm/parse.js')
const { getLines, getMessages } = await import(
  `data:text/javascript;base64,${readFileSync(parsePath).toString('base64')}`
)
const { cases } = JSON.parse(readFileSync(new URL('./parser-spec-cases.json', import.meta.url), 'utf8'))

const toBytes = (row) => {
  if (row.input !== undefined) return new TextEncoder().encode(row.input)
  const bytes = []
  for (const part of row.bytes) {
    if (typeof part === 'number') bytes.push(part)
    else bytes.push(...new TextEncoder().encode(part))
  }
  return Uint8Array.from(bytes)
}

const parsers = {
  'resilient-sse': (chunks) => {
    const out = { events: [], retries: [] }
    const parser = createEventStreamParser({
      onEvent: (m) => out.events.push({ type: m.type, data: m.data, id: m.id ?? null, lastEventId: m.lastEventId }),
      onRetry: (ms) => out.retries.push(ms),
    })
    for (const chunk of chunks) parser.feed(chunk)
    parser.end()
    return out
  },
  'eventsource-parser': (chunks) => {
    const out = { events: [], retries: [] }
    const decoder = new TextDecoder()
    const parser = createParser({
      onEvent: (m) => out.events.push({ type: m.event || 'message', data: m.data, id: m.id ?? null }),
      onRetry: (ms) => out.retries.push(ms),
    })
    for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }))
    const tail = decoder.decode()
    if (tail !== '') parser.feed(tail)
    return out
  },
  'fetch-event-source': (chunks) => {
    const out = { events: [], retries: [] }
    const onChunk = getLines(
      getMessages(
        () => {},
        (ms) => out.retries.push(ms),
        (m) => out.events.push({ type: m.event || 'message', data: m.data, id: m.id === '' ? null : m.id }),
      ),
    )
    for (const chunk of chunks) onChunk(chunk)
    return out
  },
}

const expected = (row, name) =>
  JSON.stringify({
    events: row.events.map((e) =>
      name === 'resilient-sse'
        ? { type: e.type, data: e.data, id: e.id, lastEventId: e.lastEventId }
        : { type: e.type, data: e.data, id: name === 'fetch-event-source' && e.id === '' ? null : e.id },
    ),
    retries: row.retries ?? [],
  })

console.log(`${cases.length} WHATWG cases; parser from ${modulePath}`)
for (const [name, run] of Object.entries(parsers)) {
  const failures = []
  for (const row of cases) {
    const bytes = toBytes(row)
    const want = expected(row, name)
    const modes = { whole: [bytes], 'byte-by-byte': Array.from(bytes, (byte) => Uint8Array.of(byte)) }
    for (const [mode, chunks] of Object.entries(modes)) {
      let got
      try {
        got = JSON.stringify(run(chunks))
      } catch (error) {
        got = `threw ${error}`
      }
      if (got !== want) failures.push(`${row.rule}/${row.name} (${mode})`)
    }
  }
  const total = cases.length * 2
  console.log(`${name.padEnd(20)} ${total - failures.length}/${total} passed`)
  for (const failure of failures) console.log(`  fails: ${failure}`)
}
