import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { conditions: ['@cachestack/source'] },
  ssr: { resolve: { conditions: ['@cachestack/source'] } },
  test: {
    globalSetup: ['./tools/test-services.ts'],
    include: [
      'packages/*/src/**/*.test.ts',
      'examples/*/src/**/*.test.ts',
      'bench/src/**/*.test.ts',
      'tools/**/*.test.ts',
    ],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Type tests (*.test-d.ts) run with every `vitest run`: tsc over just those files and what they
    // import (tsconfig.typecheck.json), not the whole repository, which `npm run typecheck` covers.
    typecheck: {
      enabled: true,
      include: ['packages/*/src/**/*.test-d.ts'],
      tsconfig: './tsconfig.typecheck.json',
    },
  },
})
