import { describe, expect, it } from 'vitest'
import { deleteConditionalHeaders, describeRequest, withoutConditionalHeaders } from './request-info.ts'

describe('describeRequest', () => {
  it('splits the target into path and raw query, keeping a bare ? apart from none', () => {
    const base = { method: 'get', headers: { host: 'api.test:8080' }, raw: null }
    const plain = describeRequest({ ...base, target: '/p' })
    const bare = describeRequest({ ...base, target: '/p?' })
    const query = describeRequest({ ...base, target: '/p?b=2&a=%C3' })
    expect([plain.method, plain.host, plain.path, plain.query]).toEqual([
      'GET',
      'api.test:8080',
      '/p',
      undefined,
    ])
    expect([bare.path, bare.query]).toEqual(['/p', ''])
    expect([query.path, query.query]).toEqual(['/p', 'b=2&a=%C3'])
  })

  it('reads headers from a snapshot, so stripping validators later keeps what this request is answered with', () => {
    const headers: Record<string, string | string[]> = { 'if-none-match': '"abc"', accept: ['a', 'b'] }
    const info = describeRequest({ method: 'GET', target: '/', headers, raw: null })
    deleteConditionalHeaders(headers)
    expect(headers['if-none-match']).toBeUndefined()
    expect([info.header('if-none-match'), info.header('accept'), info.host]).toEqual(['"abc"', 'a, b', ''])
  })

  it('copies headers for a refresh without any validator', () => {
    const headers = { 'if-none-match': '"a"', 'if-modified-since': 'x', 'if-match': 'y', cookie: 'c' }
    const copy = withoutConditionalHeaders(headers, { 'x-cachestack-refresh': 'id' })
    expect(copy).toEqual({ cookie: 'c', 'x-cachestack-refresh': 'id' })
    expect(headers['if-none-match']).toBe('"a"')
  })
})
