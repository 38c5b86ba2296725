// Throughput of resilient-sse's parser against eventsource-parser v3 and
// @microsoft/fetch-event-source's parse module, on the corpora of bench/corpora.mjs.
//
// Fairness: every parser gets the same UTF-8 byte chunks and pays for its decoding.
// - ours: `feed(bytes)`; it decodes each chunk once with a streaming TextDecoder.
// - eventsource-parser: bytes go through a streaming `TextDecoder` (what `TextDecoderStream`,
//   which its own EventSourceParserStream users pipe through, does), then `feed(text)`.
// - fetch-event-source: `getLines(getMessages(...))` on the bytes, as its fetch wrapper does
//   (it decodes each field and value separately).
// Every round builds a fresh parser; rounds are interleaved so background load hits all three.
// Each handler counts events and sums data lengths (checked equal across parsers). Wall-clock
// medians drive MB/s and the ratios; the CPU-time medians are printed too, as they are steadier
// on a shared machine. "decode only" times the streaming TextDecoder alone: the floor.
//
// Usage: node bench/parser.mjs  (PARSER_MODULE=.tmp/parser.js to bench an esbuild output;
// ROUNDS=9 WARMUP=3 to change the counts; PARSE_ONLY=1 adds a parse-only comparison)
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createParser } from 'eventsource-parser'
import { createCorpora } from './corpora.mjs'

const modulePath = resolve(process.env.PARSER_MODULE ?? 'dist/parser/index.js')
const { createEventStreamParser } = await import(pathToFileURL(modulePath).href)
// The package's main entry touches `document`, and its ESM files sit in a CommonJS package:
// load the self-contained parse module's ESM text directly.
const parsePath = createRequire(import.meta.url).resolve('@microsoft/fetch-event-source/lib/esm/parse.js')
const { getLines, getMessages } = await import(
  `data:text/javascript;base64,${readFileSync(parsePath).toString('base64')}`
)

const rounds = Number(process.env.ROUNDS ?? 9)
const warmup = Number(process.env.WARMUP ?? 3)

const parsers = {
  'resilient-sse': (chunks) => {
    let count = 0
    let checksum = 0
    const parser = createEventStreamParser({
      onEvent: (message) => {
        count++
        checksum += message.data.length
      },
    })
    for (const chunk of chunks) parser.feed(chunk)
    parser.end()
    return { count, checksum }
  },
  'eventsource-parser': (chunks) => {
    let count = 0
    let checksum = 0
    const decoder = new TextDecoder()
    const parser = createParser({
      onEvent: (message) => {
        count++
        checksum += message.data.length
      },
    })
    for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }))
    const tail = decoder.decode()
    if (tail !== '') parser.feed(tail)
    return { count, checksum }
  },
  'fetch-event-source': (chunks) => {
    let count = 0
    let checksum = 0
    const onChunk = getLines(
      getMessages(
        () => {},
        () => {},
        (message) => {
          count++
          checksum += message.data.length
        },
      ),
    )
    for (const chunk of chunks) onChunk(chunk)
    return { count, checksum }
  },
}

// Not a parser: the streaming decode alone, which every fair run pays. It bounds what any
// parser can gain: even a parser that costs nothing cannot beat this time.
const decodeOnly = (chunks) => {
  let checksum = 0
  const decoder = new TextDecoder()
  for (const chunk of chunks) checksum += decoder.decode(chunk, { stream: true }).length
  return { count: undefined, checksum }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

const corpora = createCorpora()
const names = Object.keys(parsers)
const runners = { ...parsers, 'decode only (floor)': decodeOnly }
const runnerNames = Object.keys(runners)
const results = []
let consistent = true
for (const corpus of corpora) {
  const wall = Object.fromEntries(runnerNames.map((name) => [name, []]))
  const cpu = Object.fromEntries(runnerNames.map((name) => [name, []]))
  const outcomes = {}
  for (let round = 0; round < warmup + rounds; round++) {
    // Rotate the order every round so no parser always runs first (or after a GC-heavy one).
    for (let offset = 0; offset < runnerNames.length; offset++) {
      const name = runnerNames[(round + offset) % runnerNames.length]
      const startCpu = process.cpuUsage()
      const start = process.hrtime.bigint()
      const outcome = runners[name](corpus.chunks)
      const elapsed = Number(process.hrtime.bigint() - start) / 1e6
      const used = process.cpuUsage(startCpu)
      outcomes[name] = outcome
      if (round >= warmup) {
        wall[name].push(elapsed)
        cpu[name].push((used.user + used.system) / 1000)
      }
    }
  }
  for (const name of runnerNames) {
    const ms = median(wall[name])
    results.push({
      corpus: corpus.name,
      parser: name,
      'median ms': ms.toFixed(1),
      'cpu ms': median(cpu[name]).toFixed(1),
      'MB/s': (corpus.bytes / 1e6 / (ms / 1000)).toFixed(1),
      'events/s': name in parsers ? Math.round(corpus.events / (ms / 1000)).toLocaleString('en-US') : '',
      events: outcomes[name].count ?? '',
    })
    if (!(name in parsers)) continue
    if (outcomes[name].count !== corpus.events || outcomes[name].checksum !== outcomes[names[0]].checksum) {
      consistent = false
    }
  }
}

console.log(`node ${process.version}, ${rounds} rounds after ${warmup} warm-up, parser from ${modulePath}`)
console.table(results)
for (const corpus of corpora) {
  const row = (name) => results.find((r) => r.corpus === corpus.name && r.parser === name)
  const ms = (name) => Number(row(name)['median ms'])
  const cpuMs = (name) => Number(row(name)['cpu ms'])
  const ratios = names
    .slice(1)
    .map((name) => `ours/${name} ${(ms(name) / ms(names[0])).toFixed(2)}x (cpu ${(cpuMs(name) / cpuMs(names[0])).toFixed(2)}x)`)
  const ceiling = (ms(names[1]) / ms('decode only (floor)')).toFixed(2)
  console.log(
    `${corpus.name.padEnd(12)} ${(corpus.bytes / 1e6).toFixed(1)} MB, ${corpus.events} events: ${ratios.join(', ')}; ` +
      `a parser costing nothing beyond the decode would reach ${ceiling}x over eventsource-parser`,
  )
}
// Optional: the parsers alone, both fed the same pre-decoded strings (no decoding in the timing;
// fetch-event-source only takes bytes, so it sits this one out). PARSE_ONLY=1 to run it.
if (process.env.PARSE_ONLY) {
  const textRunners = {
    'resilient-sse': (texts) => {
      let checksum = 0
      const parser = createEventStreamParser({ onEvent: (message) => (checksum += message.data.length) })
      for (const text of texts) parser.feed(text)
      parser.end()
      return checksum
    },
    'eventsource-parser': (texts) => {
      let checksum = 0
      const parser = createParser({ onEvent: (message) => (checksum += message.data.length) })
      for (const text of texts) parser.feed(text)
      return checksum
    },
  }
  for (const corpus of corpora) {
    const decoder = new TextDecoder()
    const texts = corpus.chunks.map((chunk) => decoder.decode(chunk, { stream: true }))
    const cpu = { 'resilient-sse': [], 'eventsource-parser': [] }
    for (let round = 0; round < warmup + rounds; round++) {
      for (const name of round % 2 ? Object.keys(cpu).reverse() : Object.keys(cpu)) {
        const start = process.cpuUsage()
        textRunners[name](texts)
        const used = process.cpuUsage(start)
        if (round >= warmup) cpu[name].push((used.user + used.system) / 1000)
      }
    }
    const ours = median(cpu['resilient-sse'])
    const theirs = median(cpu['eventsource-parser'])
    console.log(
      `parse only, ${corpus.name.padEnd(12)} cpu ms: resilient-sse ${ours.toFixed(1)}, ` +
        `eventsource-parser ${theirs.toFixed(1)}: ours/eventsource-parser ${(theirs / ours).toFixed(2)}x`,
    )
  }
}

if (!consistent) {
  console.error('MISMATCH: the parsers did not all produce the expected event count and data checksum')
  process.exitCode = 1
} else console.log('all three parsers produced the same event count and data checksum on every corpus')
