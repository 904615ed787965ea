// `npm start`: the API and a short tour of what the cache does. `TRACING=1 npm start`: the same API with
// OpenTelemetry, printing each request's spans (a MISS with its database query beneath the cache span,
// then a HIT without one). Tracing is set up before the app is imported, so it wraps Node's HTTP server.
// `METRICS=1 npm start`: Prometheus metrics at /metrics. Health probes: /healthz/ready and /healthz/live.
const tracing = process.env.TRACING ? await import('./tracing.ts') : undefined
const { createApp } = await import('./app.ts')
const { createCache } = await import('./create-cache.ts')
const { runTour } = await import('./tour.ts')
const metrics = process.env.METRICS ? await import('./metrics.ts') : undefined

const cache = createCache()
const untrace = tracing?.traceCache(cache)
const { app, db } = createApp(cache, process.env.STATS_TOKEN)
const unmeasure = metrics?.mountMetrics(app, cache)
const port = Number(process.env.PORT ?? 3000)
const server = app.listen(port, () => {
  const address = server.address()
  const actual = typeof address === 'object' && address ? address.port : port
  console.log(`express-api listening on http://localhost:${actual}`)
  const layers = cache
    .getStats()
    .layers.map((layer) => layer.name)
    .join(' + ')
  console.log(`cache: ${layers}${process.env.REDIS_URL ? '' : ' (set REDIS_URL to add Redis)'}`)
  if (metrics) console.log(`  metrics: curl http://localhost:${actual}/metrics`)
  const base = `http://127.0.0.1:${actual}`
  const tour = process.argv.includes('--no-tour')
    ? Promise.resolve()
    : tracing
      ? traceTour(base)
      : runTour(base, db).catch((error) => console.error('tour failed:', error))
  void tour.then(() => {
    console.log(`  try: curl -i http://localhost:${actual}/posts?page=1  (twice: MISS, then HIT)`)
    console.log('  Ctrl+C to stop')
  })
})

/** With TRACING=1: two requests for one post, each printing its trace (the tour's 500-request burst would flood the console). */
async function traceTour(base: string): Promise<void> {
  for (const label of ['MISS: the handler and its query run under cache.get', 'HIT: no query']) {
    console.log(`\nGET /posts/1 — ${label}`)
    const response = await fetch(`${base}/posts/1`)
    await response.arrayBuffer()
    // The server span ends once the response is flushed, just after the client has read it.
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close()
    untrace?.()
    unmeasure?.()
    void Promise.all([cache.disconnect(), tracing?.stopTracing()])
  })
}
