import { CacheStack } from '@cachestack/core'
import { healthRoute } from '@cachestack/express'
import { Registry } from 'prom-client'
import { describe, expectTypeOf, it } from 'vitest'
import { type MeasurableCache, type PrometheusMetricsOptions, prometheusMetrics } from './index.ts'

const cache = new CacheStack(undefined, { name: 'catalog' })

describe('@cachestack/prometheus types', () => {
  it('takes a CacheStack and answers the stop function', () => {
    expectTypeOf(cache).toExtend<MeasurableCache>()
    expectTypeOf(prometheusMetrics(cache, { registry: new Registry(), prefix: 'app_' })).toEqualTypeOf<
      () => void
    >()
    expectTypeOf<PrometheusMetricsOptions['buckets']>().toEqualTypeOf<readonly number[] | undefined>()
    // @ts-expect-error: not an option
    prometheusMetrics(cache, { registy: new Registry() })
    // @ts-expect-error: a registry is a prom-client Registry
    prometheusMetrics(cache, { registry: {} })
    // @ts-expect-error: the stack's name is a string option of CacheStack
    new CacheStack(undefined, { name: 42 })
  })

  it('types the health probes', () => {
    healthRoute({ cache, probe: 'readiness', allowDegraded: true, timeout: '1s' })
    healthRoute({ cache, probe: 'liveness' })
    // @ts-expect-error: readiness or liveness only
    healthRoute({ cache, probe: 'startup' })
  })
})
