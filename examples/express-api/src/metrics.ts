// METRICS=1: Prometheus metrics of the example's stack at GET /metrics (prom-client's text format),
// ready for a scrape job or a quick `curl localhost:3000/metrics`. Loaded only when asked for, so the
// plain `npm start` never loads prom-client.
import type { CacheStack } from '@cachestack/core'
import { prometheusMetrics } from '@cachestack/prometheus'
import type { Express } from 'express'
import { collectDefaultMetrics, Registry } from 'prom-client'

/** Measures `cache` into a registry of its own (plus Node's process metrics) served at `GET /metrics`; returns the stop function. */
export function mountMetrics(app: Express, cache: CacheStack): () => void {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const stop = prometheusMetrics(cache, { registry })
  app.get('/metrics', async (_req, res, next) => {
    try {
      res.set('content-type', registry.contentType).send(await registry.metrics())
    } catch (error) {
      next(error)
    }
  })
  return stop
}
