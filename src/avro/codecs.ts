/**
 * The block codecs of Avro container files: `null`, `deflate` (raw RFC 1951), `snappy` (each
 * block followed by the big-endian CRC-32 of its uncompressed data, which is verified) and
 * `zstandard`, with the cap on what one block may decompress to.
 */
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import {
  crc32,
  deflateRaw,
  deflateRawSync,
  inflateRaw,
  inflateRawSync,
  constants as zlibConstants,
  zstdCompress,
  zstdCompressSync,
  zstdDecompress,
  zstdDecompressSync,
} from 'node:zlib';
import { CorruptFileError, UnsupportedError } from '../errors.ts';

// snappyjs ships no type declarations; this is the part of its API we use.
const snappy = createRequire(import.meta.url)('snappyjs') as {
  compress(data: Uint8Array): Uint8Array;
  uncompress(data: Uint8Array, maxLength?: number): Uint8Array;
};

/** Codecs this module reads and writes. */
export const SUPPORTED_CODECS: readonly string[] = ['null', 'deflate', 'snappy', 'zstandard'];

/**
 * Refuses a codec this module does not implement.
 * @throws UnsupportedError naming the codec (and whether Avro defines it).
 */
export function checkCodec(codec: string, file: string | undefined): void {
  if (SUPPORTED_CODECS.includes(codec)) return;
  // bzip2 and xz are Avro codecs we do not implement; anything else is not an Avro codec.
  const what = codec === 'bzip2' || codec === 'xz' ? 'unsupported' : 'unknown';
  throw new UnsupportedError(file, `${what} Avro codec '${codec}'`);
}

/**
 * Most bytes one block may decompress to. Avro does not record a block's uncompressed size, so
 * this bounds what a corrupt or hostile block can make us allocate; manifests' blocks are tens
 * of kilobytes (writers end a block at 64 kB by default).
 */
export const MAX_BLOCK_BYTES = 256 * 1024 * 1024;

/** Compression settings of the writer that the codecs read. */
export interface BlockCompressOptions {
  /** Deflate level 0-9 (default 6, as Avro's Java writer uses). */
  readonly deflateLevel?: number;
  /** Zstandard level (default 3). */
  readonly zstdLevel?: number;
  /** Names the output in error messages. */
  readonly fileName?: string;
}

/**
 * The output chunk of a synchronous inflate: zlib's default 16 kB makes a 64 kB block five
 * buffers and their concatenation; one about the block's size (manifests deflate about 4:1)
 * halves what a big sync allocates outside the heap, and with it the collections that memory
 * brings on.
 */
function inflateChunk(compressed: number): number {
  return Math.min(4 * 1024 * 1024, Math.max(16 * 1024, compressed * 5));
}

/**
 * Decompresses the data of block `index` of `file`, at most {@link MAX_BLOCK_BYTES}.
 * @throws CorruptFileError for data the codec cannot decode (or a snappy CRC mismatch).
 */
export function decompressBlock(codec: string, data: Uint8Array, index: number, file: string): Uint8Array {
  switch (codec) {
    case 'null':
      return data;
    case 'deflate':
      try {
        return inflateRawSync(data, {
          maxOutputLength: MAX_BLOCK_BYTES,
          chunkSize: inflateChunk(data.length),
        });
      } catch (err) {
        throw badData(codec, index, file, err);
      }
    case 'snappy': {
      if (data.length < 4)
        throw new CorruptFileError(file, `bad snappy data in Avro block ${index} (no CRC)`);
      let raw: Uint8Array;
      try {
        raw = snappy.uncompress(data.subarray(0, data.length - 4), MAX_BLOCK_BYTES);
      } catch (err) {
        throw new CorruptFileError(file, `bad snappy data in Avro block ${index}: ${(err as Error).message}`);
      }
      const p = data.length - 4;
      const expected = ((data[p]! << 24) | (data[p + 1]! << 16) | (data[p + 2]! << 8) | data[p + 3]!) >>> 0;
      const actual = crc32(raw);
      if (actual !== expected) {
        throw new CorruptFileError(
          file,
          `snappy CRC mismatch in Avro block ${index} (stored ${hex8(expected)}, computed ${hex8(actual)})`,
        );
      }
      return raw;
    }
    case 'zstandard':
      try {
        return zstdDecompressSync(data, { maxOutputLength: MAX_BLOCK_BYTES });
      } catch (err) {
        throw badData(codec, index, file, err);
      }
    default:
      throw new UnsupportedError(file, `unknown Avro codec '${codec}'`);
  }
}

function badData(codec: string, index: number, file: string, err: unknown): CorruptFileError {
  return new CorruptFileError(file, `bad ${codec} data in Avro block ${index}: ${(err as Error).message}`);
}

/**
 * The output chunk of an asynchronous (de)compression, for an expected output size: each chunk
 * is one thread-pool round trip and callback on the main thread, so the default 16 kB chunk
 * costs the main thread more than the synchronous call saves; one chunk for most blocks.
 */
function outputChunk(expected: number): number {
  return Math.min(4 * 1024 * 1024, Math.max(64 * 1024, expected));
}

const inflateRawAsync = promisify(inflateRaw);
const deflateRawAsync = promisify(deflateRaw);
const zstdDecompressAsync = promisify(zstdDecompress);
const zstdCompressAsync = promisify(zstdCompress);

/**
 * Compressed blocks below this size are inflated on the calling thread. A thread-pool round trip
 * (a new zlib stream, its output buffer and the callback) costs the main thread about as much as
 * inflating a block of Java's 64 kB (about 15 kB compressed) itself, and twice the CPU in all:
 * measured at 1M files, the full sync took 4% less wall and CPU time with the smaller blocks
 * inflated in place, while verify, which reads our own 256 kB blocks, was no faster either way.
 */
export const ASYNC_INFLATE_MIN_BYTES = 32 * 1024;

/**
 * {@link decompressBlock} off the main thread where the codec allows (deflate and zstandard run on
 * libuv's thread pool) and the block is worth the round trip ({@link ASYNC_INFLATE_MIN_BYTES}): a
 * reader that starts the next block's decompression before decoding this one's records uses a
 * second core.
 */
export async function decompressBlockAsync(
  codec: string,
  data: Uint8Array,
  index: number,
  file: string,
): Promise<Uint8Array> {
  if ((codec !== 'deflate' && codec !== 'zstandard') || data.length < ASYNC_INFLATE_MIN_BYTES)
    return decompressBlock(codec, data, index, file);
  try {
    const options = { maxOutputLength: MAX_BLOCK_BYTES, chunkSize: outputChunk(data.length * 8) };
    return codec === 'deflate'
      ? await inflateRawAsync(data, options)
      : await zstdDecompressAsync(data, options);
  } catch (err) {
    throw badData(codec, index, file, err);
  }
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * zlib's deflate settings: `memLevel` 9 (zlib's default is 8) gives its match finder a larger hash
 * table, which on manifests' repetitive entries made level 1 about a fifth faster for the same
 * output size. The format is the same; readers see no difference.
 */
function deflateOptions(options: BlockCompressOptions) {
  return { level: options.deflateLevel ?? 6, memLevel: 9 };
}

function zstdOptions(options: BlockCompressOptions) {
  return { params: { [zlibConstants.ZSTD_c_compressionLevel]: options.zstdLevel ?? 3 } };
}

/** Compresses a block's encoded records with `codec`. */
export function compressBlock(codec: string, raw: Uint8Array, options: BlockCompressOptions): Uint8Array {
  switch (codec) {
    case 'null':
      return raw;
    case 'deflate':
      return deflateRawSync(raw, deflateOptions(options));
    case 'snappy': {
      const body = snappy.compress(raw);
      const out = new Uint8Array(body.length + 4);
      out.set(body);
      new DataView(out.buffer).setUint32(body.length, crc32(raw), false);
      return out;
    }
    case 'zstandard':
      return zstdCompressSync(raw, zstdOptions(options));
    default:
      throw new UnsupportedError(options.fileName, `unknown Avro codec '${codec}'`);
  }
}

/**
 * {@link compressBlock} on libuv's thread pool for deflate and zstandard (the same bytes for
 * deflate; zstandard's streamed frames differ from its one-shot ones and decode the same): a writer
 * that encodes the next block while this one is compressed uses a second core. `raw` must not
 * change until the promise settles.
 */
export async function compressBlockAsync(
  codec: string,
  raw: Uint8Array,
  options: BlockCompressOptions,
): Promise<Uint8Array> {
  const chunkSize = outputChunk(raw.length + 1024);
  if (codec === 'deflate') return deflateRawAsync(raw, { ...deflateOptions(options), chunkSize });
  if (codec === 'zstandard') return zstdCompressAsync(raw, { ...zstdOptions(options), chunkSize });
  return compressBlock(codec, raw, options);
}
