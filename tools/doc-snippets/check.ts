// Type-checks every ```ts block of README.md, docs/*.md and packages/*/README.md the way a strict user
// compiles them: `strict` plus `exactOptionalPropertyTypes`. Blocks are checked in memory (nothing is
// written), each as its own ES module; names the docs take as given live in ./globals.d.ts, and a
// block that uses a `@cachestack/core` export without importing it gets that import added. Pseudo-code
// belongs in ```text blocks. Run directly (`node tools/doc-snippets/check.ts`) to print the problems.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** One ```ts block: where it is in which markdown file, and its code. */
export interface Snippet {
  file: string
  line: number
  code: string
}

/** The markdown files whose examples users copy. */
export function documentationFiles(root = ROOT): string[] {
  const files = ['README.md']
  for (const name of readdirSync(join(root, 'docs'))) if (name.endsWith('.md')) files.push(`docs/${name}`)
  for (const dir of readdirSync(join(root, 'packages'))) {
    try {
      readFileSync(join(root, 'packages', dir, 'README.md'))
      files.push(`packages/${dir}/README.md`)
    } catch {}
  }
  return files
}

/** Every ```ts / ```typescript block of `files`. */
export function extractSnippets(files: readonly string[], root = ROOT): Snippet[] {
  const snippets: Snippet[] = []
  for (const file of files) {
    const lines = readFileSync(join(root, file), 'utf8').split('\n')
    let start = -1
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!
      if (start === -1 && /^```(ts|typescript)\s*$/.test(line)) start = i + 1
      else if (start !== -1 && /^```\s*$/.test(line)) {
        snippets.push({ file, line: start + 1, code: lines.slice(start, i).join('\n') })
        start = -1
      }
    }
  }
  return snippets
}

/** Adds `import { X } from '@cachestack/core'` for core exports a block uses without importing. */
function withCoreImports(code: string, coreExports: readonly string[]): string {
  const imported = new Set<string>()
  for (const match of code.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of match[1]!.split(',')) {
      const name = part
        .trim()
        .split(/\s+as\s+/)
        .at(-1)
      if (name) imported.add(name.replace(/^type\s+/, ''))
    }
  }
  const declared = new Set([...code.matchAll(/\b(?:const|let|class|function)\s+(\w+)/g)].map((m) => m[1]!))
  const missing = coreExports.filter(
    (name) => !imported.has(name) && !declared.has(name) && new RegExp(`\\b${name}\\b`).test(code),
  )
  const header = missing.length > 0 ? `import { ${missing.join(', ')} } from '@cachestack/core'\n` : ''
  return `${header}${code}\nexport {}\n`
}

/** One problem, pointing at the markdown line. */
export interface SnippetProblem {
  where: string
  message: string
}

/** Type-checks the snippets under strict + exactOptionalPropertyTypes; answers every problem. */
export function checkSnippets(
  snippets: readonly Snippet[],
  coreExports: readonly string[],
): SnippetProblem[] {
  const base = ts.readConfigFile(join(ROOT, 'tsconfig.base.json'), ts.sys.readFile)
  const parsed = ts.parseJsonConfigFileContent(base.config, ts.sys, ROOT)
  // A user's strict project, not this repository's extra rules (erasableSyntaxOnly would refuse Nest's
  // constructor parameter properties, which Nest users write everywhere).
  const options: ts.CompilerOptions = {
    ...parsed.options,
    strict: true,
    exactOptionalPropertyTypes: true,
    erasableSyntaxOnly: false,
    verbatimModuleSyntax: false,
    noUncheckedIndexedAccess: false,
    emitDecoratorMetadata: true,
    noEmit: true,
  }
  const virtual = new Map<string, { snippet: Snippet; text: string; offset: number }>()
  snippets.forEach((snippet, i) => {
    const text = withCoreImports(snippet.code, coreExports)
    const offset = text.indexOf(snippet.code)
    // Under tools/ so node_modules resolve as they do for the repository; .mts: an ES module (top-level await).
    virtual.set(join(ROOT, 'tools/doc-snippets', `snippet-${i}.mts`), { snippet, text, offset })
  })
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (name, language, onError, fresh) => {
    const entry = virtual.get(resolve(name))
    return entry
      ? ts.createSourceFile(name, entry.text, language)
      : getSourceFile(name, language, onError, fresh)
  }
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (name) => virtual.has(resolve(name)) || fileExists(name)
  const readFile = host.readFile.bind(host)
  host.readFile = (name) => virtual.get(resolve(name))?.text ?? readFile(name)
  const roots = [...virtual.keys(), join(ROOT, 'tools/doc-snippets/globals.d.ts')]
  const program = ts.createProgram(roots, options, host)
  const problems: SnippetProblem[] = []
  for (const [name, entry] of virtual) {
    const source = program.getSourceFile(name)!
    const diagnostics = [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ]
    for (const diagnostic of diagnostics) {
      const at = diagnostic.start === undefined ? 0 : diagnostic.start - entry.offset
      const line = entry.snippet.code.slice(0, Math.max(0, at)).split('\n').length - 1
      problems.push({
        where: `${entry.snippet.file}:${entry.snippet.line + line}`,
        message: `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
      })
    }
  }
  return problems
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const core = await import('@cachestack/core')
  const snippets = extractSnippets(documentationFiles())
  const problems = checkSnippets(snippets, Object.keys(core))
  for (const problem of problems) console.log(`${problem.where}  ${problem.message}`)
  console.log(
    `${snippets.length} snippets, ${problems.length} problems (${relative(process.cwd(), ROOT) || '.'})`,
  )
  process.exitCode = problems.length > 0 ? 1 : 0
}
