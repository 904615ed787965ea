// Interleaved A/B of awaited L1 hits between two checkouts of core, beside an awaited lru-cache get
// (max 200,000, ttl 10 min, as in the bench), in one process:
// node --expose-gc --conditions=@cachestack/source src/probe/hit-versions.ts DIR_A DIR_B [rounds] [batch]
// Put both checkouts under one worktree (e.g. `git archive HEAD~1 packages/core | tar -x -C .ab/prev`) so
// they resolve the same node_modules: the same code in two worktrees differed by 5-7%. Run both orders;
// the second one measured tends to come out ~3% faster.
import { LRUCache } from 'lru-cache'
import { summarize } from '../harness.ts'
import { makeValue } from '../value.ts'

const [dirA, dirB] = process.argv.slice(2)
const rounds = Number(process.argv[4] ?? 40)
const batch = Number(process.argv[5] ?? 20_000)
const keys = Array.from({ length: 1000 }, (_, i) => `hit:${i}`)
const stacks: { get(key: string): Promise<unknown> }[] = []
for (const dir of [dirA, dirB]) {
  const core = await import(`${dir}/src/index.ts`)
  const stack = new core.CacheStack([new core.MemoryLayer({ maxItems: 200_000 })], { ttl: 600_000 })
  for (const [i, key] of keys.entries()) await stack.set(key, makeValue(i))
  stacks.push(stack)
}
const lru = new LRUCache<string, object>({ max: 200_000, ttl: 600_000 })
for (const [i, key] of keys.entries()) lru.set(key, makeValue(i))
const [stackA, stackB] = stacks as [(typeof stacks)[0], (typeof stacks)[0]]
const ops: (() => Promise<unknown>)[] = [
  async () => {
    for (let i = 0; i < batch; i++) await stackA.get(keys[i % 1000]!)
  },
  async () => {
    for (let i = 0; i < batch; i++) await stackB.get(keys[i % 1000]!)
  },
  async () => {
    for (let i = 0; i < batch; i++) await lru.get(keys[i % 1000]!)
  },
]
const per: number[][] = [[], [], []]
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < 3; k++) {
    const j = (round + k) % 3
    const t0 = performance.now()
    await ops[j]!()
    if (round >= 5) per[j]!.push(((performance.now() - t0) * 1e6) / batch)
  }
}
const [a, b, l] = per.map((v) => summarize(v).median) as [number, number, number]
console.log(
  `A ${a.toFixed(1)} ns (lru-cache/A ${(l / a).toFixed(3)})  B ${b.toFixed(1)} ns (lru-cache/B ${(l / b).toFixed(3)})  lru-cache ${l.toFixed(1)} ns  B/A ${(b / a).toFixed(3)}`,
)
