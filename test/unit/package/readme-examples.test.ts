import { readFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import { beforeAll, describe, expect, test } from 'vitest'
import {
  checkSnippets,
  collectUsage,
  exportedNames,
  extractSnippets,
  literalsOf,
  membersOf,
  PACKAGE_PATHS,
  type SnippetCheck,
  type SnippetUsage,
} from '../../support/readme-snippets'

// The README's examples are typechecked against the real source (one program, every block a
// virtual module), and every public option, member, event and error code must appear in them.
// A block that is not TypeScript says so: `<!-- check: skip (why) -->` right before it; free
// names a snippet uses are declared the same way: `<!-- check: declare const es: … -->`.
const root = path.resolve(import.meta.dirname, '../../..')
const readme = readFileSync(path.join(root, 'README.md'), 'utf8')
const snippets = extractSnippets(readme)
const src = (file: string): string => path.join(root, 'src', file)

let check: SnippetCheck
let usage: SnippetUsage

beforeAll(() => {
  check = checkSnippets(snippets, { root })
  usage = collectUsage(check)
}, 60_000)

/** Interfaces and classes whose every member must be used in an example; `except`: why not. */
const REQUIRED: readonly { file: string; name: string; except?: Record<string, string> }[] = [
  { file: 'options.ts', name: 'ResilientEventSourceOptions' },
  { file: 'options.ts', name: 'RememberOptions' },
  { file: 'options.ts', name: 'HeadersContext' },
  { file: 'retry.ts', name: 'RetryOptions' },
  { file: 'multiplexer/types.ts', name: 'SharedOptions' },
  { file: 'env.ts', name: 'EnvOptions', except: { fetch: 'the top-level `fetch` option', EventSource: 'the top-level `EventSource` option' } },
  { file: 'client.ts', name: 'ResilientEventSource' },
  { file: 'events.ts', name: 'TransportChangeEvent' },
  { file: 'events.ts', name: 'StreamErrorEvent' },
  { file: 'events.ts', name: 'GapEvent' },
  { file: 'events.ts', name: 'GapInfo' },
  { file: 'errors.ts', name: 'StreamError' },
  { file: 'parser/types.ts', name: 'EventStreamParserOptions' },
  { file: 'parser/types.ts', name: 'EventStreamParser' },
  { file: 'adapters/stream-state.ts', name: 'EventStreamOptions' },
  { file: 'adapters/stream-state.ts', name: 'EventStreamState' },
  { file: 'adapters/stream-state.ts', name: 'EventStreamControls' },
  { file: 'server/hub.ts', name: 'EventHubOptions' },
  { file: 'server/hub.ts', name: 'RetentionOptions' },
  { file: 'server/hub.ts', name: 'CloseOptions' },
  { file: 'server/hub.ts', name: 'EventHub' },
  { file: 'server/context.ts', name: 'BatchOptions' },
  { file: 'server/cors.ts', name: 'CorsOptions' },
  { file: 'server/topics.ts', name: 'TopicHubOptions' },
  { file: 'server/topics.ts', name: 'TopicHub' },
  { file: 'server/errors.ts', name: 'HubError', except: { name: "always 'HubError', what isHubError checks" } },
  { file: 'server/memory-store.ts', name: 'MemoryStoreOptions' },
  { file: 'server/redis-store.ts', name: 'RedisStreamStoreOptions' },
  { file: 'server/redis-store.ts', name: 'RedisRetentionOptions' },
  {
    file: 'server/redis-store.ts',
    name: 'RedisStreamStore',
    except: Object.fromEntries(
      ['append', 'readAfter', 'oldest', 'head', 'subscribe', 'claimStartToken'].map((name) => [name, 'the EventStore interface: the hub calls it']),
    ),
  },
]

/** String-literal unions whose every member the README names (in text or code). */
const CODES: readonly { file: string; name: string }[] = [
  { file: 'errors.ts', name: 'StreamErrorCode' },
  { file: 'events.ts', name: 'TransportChangeReason' },
  { file: 'server/errors.ts', name: 'HubErrorCode' },
  { file: 'server/http.ts', name: 'HubResponseErrorCode' },
]

/** Results whose every field the README names (a table or a comment shows their shape). */
const FIELDS: readonly { file: string; name: string }[] = [
  { file: 'stats.ts', name: 'StreamStats' },
  { file: 'server/hub.ts', name: 'EventHubStats' },
]

describe('README examples', () => {
  test('every ts/tsx/js block (and the script of a vue block) typechecks against src/', () => {
    expect(check.checked.length).toBeGreaterThanOrEqual(15)
    const report = check.problems.map(({ line, text }) => `README.md:${line}: ${text}`)
    expect(report, `README examples that do not typecheck:\n${report.join('\n')}`).toEqual([])
  })

  test('a block that is not checked says why', () => {
    const silent = snippets.filter((snippet) => snippet.directive?.kind === 'skip' && snippet.directive.reason === '')
    expect(silent.map((snippet) => `README.md:${snippet.directiveLine}: check: skip needs a (reason)`)).toEqual([])
  })

  test('every public option and member is used in an example', () => {
    const unused: string[] = []
    for (const { file, name, except = {} } of REQUIRED) {
      for (const [member, declarations] of membersOf(check, src(file), name)) {
        if (member in except) continue
        if (!declarations.some((declaration) => usage.declarations.has(declaration))) unused.push(`${name}.${member} (src/${file})`)
      }
    }
    expect(unused, `not used in any README example:\n${unused.join('\n')}`).toEqual([])
  })

  test('every runtime export of every entry is used in an example', () => {
    const unused: string[] = []
    for (const [specifier, file] of Object.entries(PACKAGE_PATHS)) {
      const source = check.program.getSourceFile(path.join(root, file))!
      const moduleSymbol = check.checker.getSymbolAtLocation(source)!
      for (const exported of check.checker.getExportsOfModule(moduleSymbol)) {
        const target = exported.flags & ts.SymbolFlags.Alias ? check.checker.getAliasedSymbol(exported) : exported
        if (!(target.flags & ts.SymbolFlags.Value)) continue
        if (!(target.declarations ?? []).some((declaration) => usage.declarations.has(declaration))) unused.push(`${specifier}: ${exported.name}`)
      }
    }
    expect(unused, `exports used in no README example:\n${unused.join('\n')}`).toEqual([])
  })

  test('every event type is listened to in an example', () => {
    const events = membersOf(check, src('events.ts'), 'ResilientEventSourceEventMap')
    expect([...events.keys()].filter((type) => !usage.eventTypes.has(type))).toEqual([])
  })

  test('every option of the client, the hub and the hooks has a row in an options table', () => {
    const missing: string[] = []
    for (const [file, name] of [
      ['options.ts', 'ResilientEventSourceOptions'],
      ['server/hub.ts', 'EventHubOptions'],
      ['adapters/stream-state.ts', 'EventStreamOptions'],
    ] as const) {
      for (const option of membersOf(check, src(file), name).keys()) {
        if (!option.includes('.') && !readme.includes(`\n| \`${option}\` |`)) missing.push(`${name}.${option}`)
      }
    }
    expect(missing).toEqual([])
  })

  test('the CDN section names every member of window.ResilientSSE', () => {
    const section = readme.slice(readme.indexOf('## From a CDN'), readme.indexOf('\n## ', readme.indexOf('## From a CDN') + 1))
    const names = exportedNames(src('cdn.ts')).map(({ name }) => name)
    expect(names.filter((name) => !section.includes(`\`${name}\``))).toEqual([])
  })

  test('every field of stats() (client and hub) is named in the README', () => {
    const missing: string[] = []
    for (const { file, name } of FIELDS) {
      for (const field of membersOf(check, src(file), name).keys()) if (!new RegExp(`\\b${field}\\b`).test(readme)) missing.push(`${name}.${field}`)
    }
    expect(missing).toEqual([])
  })

  test('every error code and transport-change reason is named in the README', () => {
    const missing: string[] = []
    for (const { file, name } of CODES) {
      for (const code of literalsOf(check, src(file), name)) if (!readme.includes(`\`${code}\``)) missing.push(`${name} '${code}'`)
    }
    expect(missing).toEqual([])
  })
})

describe('the README check itself', () => {
  test('reports the README line and the TypeScript error of a broken example', () => {
    const markdown = [
      '# Title', // 1
      '', // 2
      '<!-- check: declare const saved: string -->', // 3
      '```ts', // 4
      "new ResilientEventSource('/events', { lastEventId: saved })", // 5
      "new ResilientEventSource('/events', { retry: { initialDelay: '1s' } })", // 6
      '```', // 7
      '```sh', // 8
      'npm test', // 9
      '```', // 10
      '<!-- check: skip (pseudo-code) -->', // 11
      '```ts', // 12
      'es.on(…)', // 13
      '```', // 14
      '```tsx', // 15
      "import { useEventStream } from 'resilient-sse/react'", // 16
      "const { lastEvent } = useEventStream('/events', { select: (e) => e.data.length })", // 17
      'const size: string = lastEvent ?? 0', // 18
      '```', // 19
      '```js', // 20
      "const es = new ResilientEventSource('/events', { retry: { maxAttempts: 3 } })", // 21
      "es.addEventListener('gap', (e) => e.gap.oldest.length)", // 22
      '```', // 23
    ].join('\n')
    const result = checkSnippets(extractSnippets(markdown), { root, label: 'self-test', reuse: check })
    expect(result.checked.map(({ snippet }) => snippet.line)).toEqual([5, 16, 21])
    expect(result.problems.map(({ line, text }) => [line, text.slice(0, 7)])).toEqual([
      [6, 'TS2322:'],
      [18, 'TS2322:'],
      [22, 'TS18047'],
    ])
    expect(result.problems[0]!.text).toContain("initialDelay: '1s'")
    // What the snippets use counts; the auto-import and the `check:` prelude do not.
    const used = [...collectUsage(result).declarations].map((declaration) => ts.getNameOfDeclaration(declaration)?.getText())
    expect(used).toEqual(expect.arrayContaining(['lastEventId', 'initialDelay', 'select', 'maxAttempts', 'gap', 'oldest']))
    expect(used).not.toContain('fetchTransport')
  })
})
