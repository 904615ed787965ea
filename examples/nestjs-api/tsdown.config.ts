import { defineConfig } from 'tsdown'

// Nest's decorators are not erasable syntax, so the example is compiled (oxc, with this folder's
// tsconfig: legacy decorators and their metadata) rather than run through Node's type stripping.
export default defineConfig({
  entry: { main: 'src/main.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node22',
  dts: false,
  clean: true,
  tsconfig: 'tsconfig.json',
})
