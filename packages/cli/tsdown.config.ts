import { defineConfig } from 'tsdown'

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    platform: 'node',
    target: 'node22',
    clean: true,
  },
  {
    // The `cachestack` bin: ESM only (top-level await), no types; the shebang stays on its first line.
    entry: { bin: 'src/bin.ts' },
    format: ['esm'],
    dts: false,
    platform: 'node',
    target: 'node22',
    clean: false,
  },
])
