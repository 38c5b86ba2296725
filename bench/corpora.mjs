// Deterministic SSE corpora for bench/parser.mjs: same seed, same bytes, on every machine.
import { createSeededRandom } from '../playground/network/prng.mjs'

const WORDS = [
  ' the', ' a', ' stream', ' token', ' of', ' and', ' to', ' model', ' event', ' server', ' in', ' is',
  ' data', ' that', ' for', ' it', ' with', ' as', ' on', ' be', '.', ',', '\\n', ' "quoted"', ' café',
  ' naïve', ' 東京', ' 😀', ' über', ' 42', ' function', '()', ' {', ' }', ' =>', ' return',
]

/** 200,000 small LLM-token-like events (OpenAI-style chunks, ~5% non-ASCII tokens). */
function tokens(random) {
  const parts = []
  for (let index = 0; index < 200_000; index++) {
    const word = WORDS[Math.floor(random() * WORDS.length)]
    parts.push(
      `data: {"id":"chatcmpl-9x","object":"chat.completion.chunk","created":1732600000,"choices":[{"index":0,"delta":{"content":"${word}"},"finish_reason":null}]}\n\n`,
    )
  }
  return { name: 'llm-tokens', events: 200_000, text: parts.join('') }
}

function jsonDocument(random, size) {
  const rows = []
  let length = 0
  for (let row = 0; length < size - 200; row++) {
    const item = JSON.stringify({
      id: row,
      sku: `SKU-${Math.floor(random() * 1e9).toString(36)}`,
      price: Math.round(random() * 1e6) / 100,
      tags: ['alpha', 'beta', 'gamma'].slice(0, 1 + Math.floor(random() * 3)),
      note: random() < 0.1 ? 'caf\u00e9 \u2013 \u6771\u4eac' : 'plain ascii note',
      active: random() < 0.5,
    })
    rows.push(item)
    length += item.length + 1
  }
  const document = `{"type":"snapshot","rows":[${rows.join(',')}]}`
  return document + ' '.repeat(Math.max(0, size - document.length))
}

/** 2,000 events of one 32 KiB JSON data line each (16 distinct documents, rotated). */
function largeJson(random) {
  const documents = Array.from({ length: 16 }, () => jsonDocument(random, 32 * 1024))
  const parts = []
  for (let index = 0; index < 2_000; index++) {
    parts.push(`event: snapshot\nid: ${index}\ndata: ${documents[index % documents.length]}\n\n`)
  }
  return { name: 'json-32k', events: 2_000, text: parts.join('') }
}

/** 50,000 five-line CRLF events (event, id, three data lines). */
function crlf(random) {
  const parts = []
  for (let index = 0; index < 50_000; index++) {
    const value = Math.floor(random() * 1e6)
    parts.push(
      `event: update\r\nid: ${index}\r\ndata: {"seq":${index},"value":${value}}\r\n` +
        `data: {"status":"ok","node":"n-${value % 17}"}\r\ndata: end\r\n\r\n`,
    )
  }
  return { name: 'crlf-5-line', events: 50_000, text: parts.join('') }
}

/** Cuts `bytes` at seeded random 1–16 KiB boundaries. */
function chunk(bytes, random) {
  const chunks = []
  for (let start = 0; start < bytes.length; ) {
    const size = 1024 + Math.floor(random() * 15 * 1024)
    chunks.push(bytes.slice(start, start + size))
    start += size
  }
  return chunks
}

/**
 * @returns the three corpora, each `{ name, events, bytes, chunks }`, from a fixed seed
 */
export function createCorpora(seed = 20261126) {
  const random = createSeededRandom(seed)
  return [tokens(random), largeJson(random), crlf(random)].map((corpus) => {
    const bytes = new TextEncoder().encode(corpus.text)
    return { name: corpus.name, events: corpus.events, bytes: bytes.length, chunks: chunk(bytes, random) }
  })
}
