// Repository shape rules from issue 11, checked on every run: no import cycle between source files
// (type-only imports included: a type cycle still means two files that cannot be read apart), and no
// source file over MAX_LINES (a sign to split by responsibility).
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const MAX_LINES = 400
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const packages = join(root, 'packages')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path)
    return /\.tsx?$/.test(entry.name) &&
      !/\.test(-d)?\.ts$/.test(entry.name) &&
      !path.includes('test-fixtures')
      ? [path]
      : []
  })
}

const files = readdirSync(packages).flatMap((name) => {
  try {
    return sourceFiles(join(packages, name, 'src'))
  } catch {
    return []
  }
})

/** Relative imports and re-exports of a file, `import type` and `export type` included. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const found: string[] = []
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"](\.[^'"]+)['"]/g)) {
    found.push(resolve(dirname(file), match[1]!))
  }
  for (const match of text.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    found.push(resolve(dirname(file), match[1]!))
  }
  return found
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0
  const order = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (node: string): void => {
    order.set(node, index)
    low.set(node, index++)
    stack.push(node)
    onStack.add(node)
    for (const next of graph.get(node) ?? []) {
      if (!order.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node)!, low.get(next)!))
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, order.get(next)!))
    }
    if (low.get(node) === order.get(node)) {
      const component: string[] = []
      let member: string
      do {
        member = stack.pop()!
        onStack.delete(member)
        component.push(member)
      } while (member !== node)
      if (component.length > 1 || graph.get(node)?.includes(node)) found.push(component.sort())
    }
  }
  for (const node of graph.keys()) if (!order.has(node)) visit(node)
  return found
}

describe('source shape', () => {
  it('finds the source files it checks', () => {
    expect(files.some((file) => file.endsWith(join('core', 'src', 'cache-stack.ts')))).toBe(true)
    expect(importsOf(join(packages, 'core', 'src', 'index.ts')).length).toBeGreaterThan(5)
  })

  it('detects a cycle when there is one', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ])
    expect(cycles(graph)).toEqual([['a', 'b', 'c']])
  })

  it('has no import cycle between source files, type-only imports included', () => {
    const graph = new Map(files.map((file) => [file, importsOf(file)]))
    const named = cycles(graph).map((component) => component.map((file) => relative(packages, file)))
    expect(named).toEqual([])
  })

  it(`has no source file over ${MAX_LINES} lines`, () => {
    const long = files
      .map((file) => ({
        file: relative(packages, file),
        lines: readFileSync(file, 'utf8').split('\n').length,
      }))
      .filter(({ lines }) => lines > MAX_LINES)
    expect(long).toEqual([])
  })

  it('emits every stack event from stack/events.ts, one emitX method per event', () => {
    const eventsFile = join(packages, 'core', 'src', 'stack', 'events.ts')
    const text = readFileSync(eventsFile, 'utf8')
    const declared = text.slice(text.indexOf('interface CacheEvents'), text.indexOf('\n}\n'))
    const names = [...declared.matchAll(/^ {2}'?([a-z-]+)'?: /gm)].map((match) => match[1]!)
    expect(names.length).toBeGreaterThan(15)
    const method = (name: string) =>
      `emit${name.replace(/(^|-)([a-z])/g, (_, _dash, c: string) => c.toUpperCase())}(`
    expect(names.filter((name) => !text.includes(`  ${method(name)}`))).toEqual([])
    const elsewhere = files
      .filter((file) => file.includes(join('core', 'src')) && file !== eventsFile)
      .filter((file) => /\.emit\(\s*['"]/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(packages, file))
    expect(elsewhere).toEqual([])
  })
})
