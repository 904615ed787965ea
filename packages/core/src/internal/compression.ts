import { promisify } from 'node:util'
import { brotliCompress, brotliDecompress, constants, gunzip, gzip } from 'node:zlib'

/** The compression codecs a payload may carry. */
export type CompressionName = 'gzip' | 'brotli'

const gzipAsync = promisify(gzip)
const gunzipAsync = promisify(gunzip)
const brotliCompressAsync = promisify(brotliCompress)
const brotliDecompressAsync = promisify(brotliDecompress)

// Brotli's default quality (11) is tuned for static assets compressed once; on a cache write path it
// costs tens of milliseconds per 100 kB for a few percent of size. Quality 5 keeps most of the gain.
const BROTLI_QUALITY = 5

/** Compresses `data`, off the main thread (zlib's pool). */
export function compress(data: Buffer, codec: CompressionName): Promise<Buffer> {
  if (codec === 'gzip') return gzipAsync(data)
  return brotliCompressAsync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  })
}

/**
 * Decompresses `data`, refusing (with zlib's `ERR_BUFFER_TOO_LARGE` RangeError) as soon as the output
 * would pass `maxOutputLength`: zlib stops inflating at the cap, so a decompression bomb costs at most
 * that much memory instead of whatever the attacker packed in.
 */
export function decompress(data: Buffer, codec: CompressionName, maxOutputLength: number): Promise<Buffer> {
  if (codec === 'gzip') return gunzipAsync(data, { maxOutputLength })
  return brotliDecompressAsync(data, { maxOutputLength })
}
