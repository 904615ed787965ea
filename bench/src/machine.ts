// What the numbers were measured on, printed with them and saved in the JSON.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const rootDir = join(benchDir, '..')

export interface Machine {
  cpu: string
  cores: number
  memoryGb: number
  os: string
  node: string
  v8: string
  redis: string
  packages: Record<string, string>
  cachestackCommit: string
}

function packageVersion(name: string): string {
  for (const base of [join(benchDir, 'node_modules'), join(rootDir, 'node_modules')]) {
    const file = join(base, name, 'package.json')
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
  }
  return 'not installed'
}

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: rootDir,
      encoding: 'utf8',
    }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages/core'], {
      cwd: rootDir,
      encoding: 'utf8',
    }).trim()
    return dirty ? `${sha} (packages/core has uncommitted changes)` : sha
  } catch {
    return 'unknown'
  }
}

export function describeMachine(packageNames: readonly string[], redisVersion: string): Machine {
  const cpus = os.cpus()
  const packages: Record<string, string> = {}
  for (const name of [...new Set(packageNames)].sort()) packages[name] = packageVersion(name)
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    redis: redisVersion,
    packages,
    cachestackCommit: gitCommit(),
  }
}

export function formatMachine(m: Machine): string {
  const lines = [
    `CPU      ${m.cpu} (${m.cores} cores available), ${m.memoryGb} GB RAM, ${m.os}`,
    `Node     ${m.node} (V8 ${m.v8}), Redis ${m.redis} on loopback`,
    `cachestack @ ${m.cachestackCommit}`,
    `packages ${Object.entries(m.packages)
      .map(([name, version]) => `${name}@${version}`)
      .join(', ')}`,
  ]
  return lines.join('\n')
}
