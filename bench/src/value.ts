// The one value every contender stores: a ~1 KB JSON object shaped like an API/DB record. Each call
// parses fresh JSON, so strings and objects are owned by the value (as they are when they come from a
// database driver or `fetch`) and a copying cache pays for a real copy.

/** Builds record `i` (deterministic). */
export function makeValue(i: number): Record<string, unknown> {
  return JSON.parse(valueJson(i)) as Record<string, unknown>
}

/** The JSON text of record `i`. */
export function valueJson(i: number): string {
  const id = 100_000 + i
  return JSON.stringify({
    id,
    type: 'product',
    sku: `SKU-${id.toString(36).toUpperCase()}-X`,
    title: `Ergonomic steel chair model ${id}`,
    description:
      'A sturdy, stackable chair with a powder-coated steel frame and a moulded beech seat. Ships flat.',
    price: { amount: 12_999 + (i % 100), currency: 'EUR', vatRate: 0.2 },
    stock: { available: 40 + (i % 7), reserved: i % 3, warehouse: 'FR-LYS-2' },
    active: true,
    rating: { average: 4.4, count: 1_873 },
    tags: ['furniture', 'office', 'steel', 'stackable'],
    dimensions: { widthCm: 46, depthCm: 52, heightCm: 81, weightKg: 5.2 },
    images: [
      { url: `https://cdn.example.com/p/${id}/front.webp`, width: 1200, height: 1200 },
      { url: `https://cdn.example.com/p/${id}/side.webp`, width: 1200, height: 1200 },
    ],
    highlights: ['Stacks up to 8 high', 'Floor glides included', '10-year frame warranty'],
    category: { id: 311, path: ['home', 'furniture', 'chairs'] },
    seller: { id: 42, name: 'Atelier Lumière', country: 'FR', verified: true },
    createdAt: '2024-03-18T09:12:44.000Z',
    updatedAt: '2025-01-07T16:40:02.000Z',
  })
}

/** Structural deep equality for JSON-like values (what a cache must give back). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false
  }
  return true
}
