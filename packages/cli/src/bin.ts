#!/usr/bin/env node
import { run } from './run.ts'

const code = await run()
// A client that failed to connect may keep a timer for its whole connect timeout: the work is done,
// so leave as soon as what was printed is flushed.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)))
