import { describe, expect, it } from 'vitest'
import { checkSnippets, documentationFiles, extractSnippets } from './check.ts'

describe('documentation examples', () => {
  it('every ```ts block of README.md, docs/*.md and package READMEs compiles under strict + exactOptionalPropertyTypes', async () => {
    const core = await import('@cachestack/core')
    const snippets = extractSnippets(documentationFiles())
    expect(snippets.map((snippet) => snippet.file)).toEqual(
      expect.arrayContaining(['README.md', 'packages/express/README.md', 'packages/hono/README.md']),
    )
    // The checker must be able to fail: two broken blocks ride along with the real ones.
    const broken = [
      { file: 'broken.md', line: 1, code: "new CacheStack(undefined, { tll: '5s' })" },
      {
        file: 'broken.md',
        line: 10,
        code: 'const options: { ttl?: string } = { ttl: undefined as string | undefined }\nconsole.log(options)',
      },
    ]
    const problems = checkSnippets([...snippets, ...broken], Object.keys(core))
    expect(problems.filter((problem) => !problem.where.startsWith('broken.md'))).toEqual([])
    expect(problems.map((problem) => problem.where)).toEqual(['broken.md:1', 'broken.md:10'])
    expect(problems[1]!.message).toMatch(/exactOptionalPropertyTypes/)
  }, 180_000)
})
