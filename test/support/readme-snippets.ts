// Typechecks the code blocks of a Markdown file against the real source, in ONE TypeScript
// program (each block a virtual module), and records which declarations the blocks use, so a
// test can require that every public option and member appears in an example.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

/** Fences checked as code; other languages (`sh`, `html`, `text`, unlabelled) are prose. */
const CHECKED = { ts: 'ts', typescript: 'ts', tsx: 'tsx', js: 'js', javascript: 'js', vue: 'vue' } as const

/** How a `<!-- check: … -->` comment right before a block changes what is checked. */
export type SnippetDirective = { kind: 'skip'; reason: string } | { kind: 'prelude'; text: string } | undefined

/** One fenced code block of the Markdown file. */
export interface Snippet {
  /** The fence's language, as written. */
  readonly lang: string
  /** The block's text, without the fences. */
  readonly code: string
  /** 1-based line of the block's first code line in the Markdown file. */
  readonly line: number
  /** 1-based line of the `<!-- check: … -->` comment, when there is one. */
  readonly directiveLine: number | undefined
  readonly directive: SnippetDirective
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/
const DIRECTIVE = /^\s*<!--\s*check:\s*([\s\S]*?)\s*-->\s*$/

/**
 * @param markdown - the file's text
 * @returns every fenced block, with the `<!-- check: … -->` comment on the last non-blank line before it
 */
export function extractSnippets(markdown: string): Snippet[] {
  const lines = markdown.split('\n')
  const snippets: Snippet[] = []
  for (let index = 0; index < lines.length; index++) {
    const open = FENCE.exec(lines[index]!)
    if (!open) continue
    const fence = open[2]!
    let end = index + 1
    while (end < lines.length && !lines[end]!.trimStart().startsWith(fence)) end++
    let before = index - 1
    while (before >= 0 && lines[before]!.trim() === '') before--
    const comment = before >= 0 ? DIRECTIVE.exec(lines[before]!) : null
    let directive: SnippetDirective
    if (comment) {
      const body = comment[1]!
      const skip = /^skip\b\s*(?:\((.*)\)|(.*))$/s.exec(body)
      directive = skip ? { kind: 'skip', reason: (skip[1] ?? skip[2] ?? '').trim() } : { kind: 'prelude', text: body }
    }
    snippets.push({
      lang: open[3]!,
      code: lines.slice(index + 1, end).join('\n'),
      line: index + 2,
      directiveLine: comment ? before + 1 : undefined,
      directive,
    })
    index = end
  }
  return snippets
}

/** A snippet that was compiled, and where its text sits in the virtual file. */
export interface CheckedSnippet {
  readonly snippet: Snippet
  readonly fileName: string
  /** Markdown line = `snippet.line` + virtual-file line (0-based) − `offset`. */
  readonly offset: number
  /** Lines of the virtual file added before the snippet (auto-import, prelude): not usage. */
  readonly preludeLines: number
}

/** One TypeScript error, placed in the Markdown file. */
export interface SnippetProblem {
  readonly line: number
  readonly text: string
}

/** Module specifiers of the package, mapped to its source entries. */
export const PACKAGE_PATHS: Readonly<Record<string, string>> = {
  'resilient-sse': 'src/index.ts',
  'resilient-sse/parser': 'src/parser/index.ts',
  'resilient-sse/server': 'src/server/index.ts',
  'resilient-sse/react': 'src/react/index.ts',
  'resilient-sse/vue': 'src/vue/index.ts',
}

/**
 * Names exported by an entry (`export { … } from`, `export { … }`), read without type checking.
 * @param file - absolute path of a re-exporting entry
 * @returns the exported names; `type`: exported with `export type` (the house style marks every type)
 */
export function exportedNames(file: string): { name: string; type: boolean }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest)
  const names: { name: string; type: boolean }[] = []
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement) && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
      for (const element of statement.exportClause.elements) names.push({ name: element.name.text, type: statement.isTypeOnly || element.isTypeOnly })
    }
  }
  return names
}

/** Top-level names a module declares or imports (an auto-import must not clash with them). */
function declaredNames(text: string, kind: ts.ScriptKind): Set<string> {
  const source = ts.createSourceFile('names.tsx', text, ts.ScriptTarget.Latest, false, kind)
  const names = new Set<string>()
  const bind = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) names.add(name.text)
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name)
  }
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && statement.importClause) {
      const clause = statement.importClause
      if (clause.name) names.add(clause.name.text)
      const bindings = clause.namedBindings
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text)
      else if (bindings) for (const element of bindings.elements) names.add(element.name.text)
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) bind(declaration.name)
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) &&
      statement.name
    ) {
      names.add(statement.name.text)
    }
  }
  return names
}

/** The `<script setup lang="ts">` part of a Vue single-file component (the template is not checked). */
function vueScript(code: string): { text: string; skipped: number } | undefined {
  const match = /<script\b[^>]*\blang="ts"[^>]*>\n([\s\S]*?)<\/script>/.exec(code)
  if (!match) return undefined
  return { text: match[1]!, skipped: code.slice(0, match.index).split('\n').length }
}

/** The result of {@link checkSnippets}. */
export interface SnippetCheck {
  readonly program: ts.Program
  readonly checker: ts.TypeChecker
  readonly checked: readonly CheckedSnippet[]
  /** Every TypeScript error in a snippet, with its Markdown line. */
  readonly problems: readonly SnippetProblem[]
}

/**
 * Compiles every TypeScript/JavaScript/Vue-script block as its own module of ONE program.
 * A block gets, before its text: the `<!-- check: … -->` prelude, and an import of every name
 * the core entry exports that the block neither imports nor declares (so `new
 * ResilientEventSource(…)` needs no import line). `resilient-sse*` resolve to `src/`.
 * @param snippets - from {@link extractSnippets}
 * @param setup - `root`: the repository root (tsconfig.json, src/, node_modules/); `label`: names
 *   the virtual files; `reuse`: an earlier result whose parsed files (lib, types, src) are reused
 * @returns the program, the compiled snippets and the problems found
 */
export function checkSnippets(
  snippets: readonly Snippet[],
  { root, label = 'readme', reuse }: { root: string; label?: string; reuse?: SnippetCheck },
): SnippetCheck {
  const config = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile)
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root)
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    allowJs: true,
    checkJs: true,
    jsx: ts.JsxEmit.ReactJSX,
    // Snippets import types and values alike without `type` markers, as apps do.
    verbatimModuleSyntax: false,
    isolatedModules: false,
    paths: Object.fromEntries(Object.entries(PACKAGE_PATHS).map(([name, file]) => [name, [path.join(root, file)]])),
  }
  const coreNames = exportedNames(path.join(root, PACKAGE_PATHS['resilient-sse']!))
  const files = new Map<string, string>()
  const checked: CheckedSnippet[] = []
  for (const snippet of snippets) {
    const lang = CHECKED[snippet.lang as keyof typeof CHECKED]
    if (lang === undefined || snippet.directive?.kind === 'skip') continue
    let code = snippet.code
    let skipped = 0
    if (lang === 'vue') {
      const script = vueScript(code)
      if (!script) continue
      ;({ text: code, skipped } = script)
    }
    const extension = lang === 'vue' ? 'ts' : lang
    const kind = extension === 'tsx' ? ts.ScriptKind.TSX : extension === 'js' ? ts.ScriptKind.JS : ts.ScriptKind.TS
    const prelude = snippet.directive?.kind === 'prelude' ? snippet.directive.text : ''
    const own = declaredNames(`${prelude}\n${code}`, kind)
    // JavaScript cannot import types.
    const missing = coreNames.filter(({ name, type }) => !own.has(name) && !(type && extension === 'js')).map(({ name }) => name)
    // Line 1: the auto-import; then the prelude; then the snippet; `export {}` keeps it a module.
    const head = [`import { ${missing.join(', ')} } from 'resilient-sse'`, ...(prelude ? prelude.split('\n') : [])]
    const fileName = path.join(root, '.snippets', `${label}-line-${snippet.line}.${extension}`)
    files.set(fileName, `${head.join('\n')}\n${code}\nexport {}\n`)
    checked.push({ snippet, fileName, offset: head.length - skipped, preludeLines: head.length })
  }

  const host = ts.createCompilerHost(options)
  const { getSourceFile, fileExists, readFile } = host
  host.getSourceFile = (fileName, version, onError, create) => {
    const text = files.get(fileName)
    return text === undefined ? getSourceFile.call(host, fileName, version, onError, create) : ts.createSourceFile(fileName, text, version)
  }
  host.fileExists = (fileName) => files.has(fileName) || fileExists.call(host, fileName)
  host.readFile = (fileName) => files.get(fileName) ?? readFile.call(host, fileName)
  const program = ts.createProgram([...files.keys()], options, host, reuse?.program)

  const problems: SnippetProblem[] = []
  for (const { snippet, fileName, offset, preludeLines } of checked) {
    const source = program.getSourceFile(fileName)!
    for (const diagnostic of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const at = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line
      // Lines before the snippet are the auto-import and the prelude (the `check:` comment).
      const line = at >= preludeLines ? snippet.line + at - offset : (snippet.directiveLine ?? snippet.line)
      const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
      const excerpt = (source.text.split('\n')[at] ?? '').trim()
      problems.push({ line, text: `TS${diagnostic.code}: ${text}\n    ${excerpt}` })
    }
  }
  return { program, checker: program.getTypeChecker(), checked, problems }
}

/** What the snippets use: declarations they reach, and event types they listen to. */
export interface SnippetUsage {
  /** Declarations (properties, methods, functions, classes) referenced by some snippet. */
  readonly declarations: ReadonlySet<ts.Declaration>
  /** First arguments of `addEventListener(…)` and `on<type>` handlers. */
  readonly eventTypes: ReadonlySet<string>
}

/**
 * Walks the compiled snippets and records what they use: object-literal keys (through their
 * contextual type, so `{ retry: … }` passed to the constructor counts for the option), property
 * accesses, destructured properties, and plain identifiers (imports).
 * @param check - from {@link checkSnippets}
 * @returns the declarations used and the event types listened to
 */
export function collectUsage(check: SnippetCheck): SnippetUsage {
  const { checker, program } = check
  const declarations = new Set<ts.Declaration>()
  const eventTypes = new Set<string>()
  const record = (symbol: ts.Symbol | undefined): void => {
    if (!symbol) return
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol)
    for (const declaration of symbol.declarations ?? []) declarations.add(declaration)
  }
  const recordProperty = (type: ts.Type | undefined, name: string): void => {
    if (!type) return
    const types = type.isUnion() || type.isIntersection() ? type.types : [type]
    for (const each of types) record(checker.getPropertyOfType(checker.getApparentType(each), name))
    record(checker.getPropertyOfType(checker.getApparentType(type), name))
  }
  const visit = (node: ts.Node): void => {
    if (ts.isObjectLiteralExpression(node)) {
      const contextual = checker.getContextualType(node)
      for (const property of node.properties) {
        if (property.name && (ts.isIdentifier(property.name) || ts.isStringLiteral(property.name))) recordProperty(contextual, property.name.text)
      }
    } else if (ts.isPropertyAccessExpression(node)) {
      record(checker.getSymbolAtLocation(node.name))
      if (node.name.text.startsWith('on') && node.name.text.length > 2) eventTypes.add(node.name.text.slice(2))
    } else if (ts.isObjectBindingPattern(node)) {
      const type = checker.getTypeAtLocation(node)
      for (const element of node.elements) {
        const name = element.propertyName ?? element.name
        if (ts.isIdentifier(name)) recordProperty(type, name.text)
      }
    } else if (ts.isIdentifier(node)) {
      record(checker.getSymbolAtLocation(node))
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'addEventListener') {
      const first = node.arguments[0]
      if (first && ts.isStringLiteralLike(first)) eventTypes.add(first.text)
    }
    ts.forEachChild(node, visit)
  }
  for (const { fileName, preludeLines } of check.checked) {
    const source = program.getSourceFile(fileName)!
    // The auto-import and the prelude are not examples: only the snippet's own statements count.
    const start = source.getPositionOfLineAndCharacter(preludeLines, 0)
    for (const statement of source.statements) if (statement.getStart(source) >= start) visit(statement)
  }
  return { declarations, eventTypes }
}

/**
 * The named members of an exported interface or class (its own, not inherited ones), and of
 * object type literals directly inside it (`startTokens?: { ttl?, maxEntries? }`).
 * @param check - from {@link checkSnippets}
 * @param file - absolute path of the declaring file
 * @param name - the interface or class
 * @returns the declarations of each member, by dotted name (`startTokens.ttl`)
 */
export function membersOf(check: SnippetCheck, file: string, name: string): Map<string, ts.Declaration[]> {
  const source = check.program.getSourceFile(file)
  if (!source) throw new Error(`${file} is not part of the snippets' program`)
  // A name may have several declarations: overloads, a static and an instance `OPEN`.
  const members = new Map<string, ts.Declaration[]>()
  const add = (list: ts.NodeArray<ts.ClassElement | ts.TypeElement>, prefix: string): void => {
    for (const member of list) {
      if (!member.name || !(ts.isIdentifier(member.name) || ts.isStringLiteral(member.name))) continue
      if (ts.isConstructorDeclaration(member)) continue
      const modifiers = ts.canHaveModifiers(member) ? (ts.getModifiers(member) ?? []) : []
      if (modifiers.some((modifier) => modifier.kind === ts.SyntaxKind.PrivateKeyword || modifier.kind === ts.SyntaxKind.ProtectedKeyword)) continue
      const key = prefix + member.name.text
      members.set(key, [...(members.get(key) ?? []), member])
      if ((ts.isPropertySignature(member) || ts.isPropertyDeclaration(member)) && member.type && ts.isTypeLiteralNode(member.type)) {
        add(member.type.members, `${key}.`)
      }
    }
  }
  for (const statement of source.statements) {
    if ((ts.isInterfaceDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name?.text === name) add(statement.members, '')
  }
  if (members.size === 0) throw new Error(`no interface or class ${name} with members in ${file}`)
  return members
}

/**
 * The members of a string-literal union type alias (`StreamErrorCode`).
 * @param check - from {@link checkSnippets}
 * @param file - absolute path of the declaring file
 * @param name - the type alias
 * @returns its string literals
 */
export function literalsOf(check: SnippetCheck, file: string, name: string): string[] {
  const source = check.program.getSourceFile(file)
  const alias = source?.statements.find((statement): statement is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(statement) && statement.name.text === name)
  if (!alias) throw new Error(`no type ${name} in ${file}`)
  const type = check.checker.getTypeAtLocation(alias.name)
  const literals = (type.isUnion() ? type.types : [type]).filter((each) => each.isStringLiteral()).map((each) => (each as ts.StringLiteralType).value)
  if (literals.length === 0) throw new Error(`${name} has no string literals`)
  return literals
}
