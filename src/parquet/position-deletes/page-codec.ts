/**
 * Page bodies of the `file_path` chunk: PLAIN byte arrays, and the Parquet codecs with the
 * size guard that keeps a lying page header from making us allocate what it claims.
 */

import {
  brotliCompressSync as brotliCompress,
  brotliDecompressSync as brotliDecompress,
  gunzipSync,
  gzipSync,
  zstdCompressSync,
  zstdDecompressSync,
} from 'node:zlib';
import { snappyUncompress } from 'hyparquet';
import { decompressLz4Raw } from 'hyparquet-compressors';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { CorruptFileError, IcebergSyncError, UnsupportedError } from '../../errors.ts';
import { concatBytes } from '../../util/bytes.ts';

// CompressionCodec names by value (parquet.thrift).
const CODEC_NAMES = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'LZO', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW'];

export function decodePlainByteArrays(raw: Uint8Array, count: number, fileName: string): Uint8Array[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > raw.length) throw new CorruptFileError(fileName, 'dictionary page ends early');
    const n = view.getUint32(at, true);
    at += 4;
    if (at + n > raw.length) throw new CorruptFileError(fileName, 'dictionary page ends early');
    out.push(raw.subarray(at, at + n));
    at += n;
  }
  return out;
}

export function encodePlainByteArrays(values: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const v of values) total += 4 + v.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const v of values) {
    view.setUint32(at, v.length, true);
    out.set(v, at + 4);
    at += 4 + v.length;
  }
  return out;
}

/**
 * Most bytes a page can decompress to, per compressed byte: LZ4 reaches about 255, the other
 * codecs less (a deflate, brotli or zstd output longer than the header says is cut off anyway).
 */
export const MAX_EXPANSION = 256;

export function decompress(codec: number, data: Uint8Array, size: number, fileName: string): Uint8Array {
  // The header's size is checked before anything of that size is allocated.
  if (!Number.isSafeInteger(size) || size < 0 || (codec !== 0 && size > data.length * MAX_EXPANSION + 1024)) {
    throw new CorruptFileError(
      fileName,
      `a file_path page claims ${size} uncompressed bytes from ${data.length} compressed bytes`,
    );
  }
  let out: Uint8Array;
  try {
    switch (codec) {
      case 0:
        out = data;
        break;
      case 1:
        out = new Uint8Array(size);
        snappyUncompress(data, out);
        break;
      case 2:
        out = gunzipSync(data, { maxOutputLength: Math.max(size, 1) });
        break;
      case 4:
        out = brotliDecompress(data, { maxOutputLength: Math.max(size, 1) });
        break;
      case 6:
        out = zstdDecompressSync(data, { maxOutputLength: Math.max(size, 1) });
        break;
      case 7:
        out = decompressLz4Raw(data, size);
        break;
      default:
        throw new UnsupportedError(
          fileName,
          `compression codec ${CODEC_NAMES[codec] ?? codec} is not supported`,
        );
    }
  } catch (err) {
    if (err instanceof IcebergSyncError) throw err;
    throw new CorruptFileError(fileName, `cannot decompress a file_path page (${(err as Error).message})`, {
      cause: err,
    });
  }
  if (out.length !== size)
    throw new CorruptFileError(fileName, 'a file_path page decompresses to the wrong size');
  return out;
}

export function compress(codec: number, data: Uint8Array, fileName: string): Uint8Array {
  switch (codec) {
    case 0:
      return data;
    case 1:
      return snappyCompress(data);
    case 2:
      return gzipSync(data);
    case 4:
      return brotliCompress(data);
    case 6:
      return zstdCompressSync(data);
    case 7:
      return lz4RawLiterals(data);
    default:
      throw new UnsupportedError(
        fileName,
        `compression codec ${CODEC_NAMES[codec] ?? codec} is not supported`,
      );
  }
}

/**
 * An LZ4 block holding `data` as one run of literals: valid LZ4 that any decoder reads,
 * without a compressor (dictionary pages of paths are small).
 */
function lz4RawLiterals(data: Uint8Array): Uint8Array {
  const extra: number[] = [];
  let token = Math.min(data.length, 15) << 4;
  if (data.length >= 15) {
    let rest = data.length - 15;
    while (rest >= 255) {
      extra.push(255);
      rest -= 255;
    }
    extra.push(rest);
  }
  if (data.length < 15) token = data.length << 4;
  return concatBytes([Uint8Array.of(token, ...extra), data]);
}
