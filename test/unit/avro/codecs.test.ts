import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  ASYNC_INFLATE_MIN_BYTES,
  compressBlock,
  compressBlockAsync,
  decompressBlock,
  decompressBlockAsync,
} from '../../../src/avro/codecs.ts';
import { CorruptFileError } from '../../../src/errors.ts';

/** Bytes that compress to about half their size: text with random runs. */
function halfRandom(size: number): Uint8Array {
  const out = new Uint8Array(size);
  const noise = randomBytes(size);
  for (let i = 0; i < size; i++) out[i] = i % 2 === 0 ? noise[i]! : 0x61;
  return out;
}

/** Equal bytes, whatever the view type (zlib answers with Buffers). */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.equal(actual.length, expected.length);
  assert.equal(Buffer.compare(actual, expected), 0);
}

describe('block codecs', () => {
  for (const codec of ['deflate', 'zstandard']) {
    // Below the threshold a block is decompressed in place, above it on the thread pool: both
    // must give the same bytes and the same error.
    for (const [label, rawSize] of [
      ['a small block', 4 * 1024],
      ['a block past the in-place size', 4 * ASYNC_INFLATE_MIN_BYTES],
    ] as const) {
      it(`${codec}: ${label} decompresses the same either way`, async () => {
        const raw = halfRandom(rawSize);
        const data = compressBlock(codec, raw, { fileName: 'x.avro' });
        assert.equal(data.length >= ASYNC_INFLATE_MIN_BYTES, rawSize > ASYNC_INFLATE_MIN_BYTES);
        assertSameBytes(decompressBlock(codec, data, 0, 'x.avro'), raw);
        assertSameBytes(await decompressBlockAsync(codec, data, 0, 'x.avro'), raw);
        // Deflate gives the same bytes on the pool; zstandard's streamed frames differ from the
        // one-shot ones, and decode to the same block.
        const pooled = await compressBlockAsync(codec, raw, { fileName: 'x.avro' });
        if (codec === 'deflate') assertSameBytes(pooled, data);
        else assertSameBytes(decompressBlock(codec, pooled, 0, 'x.avro'), raw);
      });

      it(`${codec}: ${label} that is corrupt fails the same either way`, async () => {
        const data = compressBlock(codec, halfRandom(rawSize), { fileName: 'x.avro' }).slice();
        data.fill(0xff, 0, 8);
        const prefix = `x.avro: bad ${codec} data in Avro block 3: `;
        const check = (err: unknown) => err instanceof CorruptFileError && err.message.startsWith(prefix);
        assert.throws(() => decompressBlock(codec, data, 3, 'x.avro'), check);
        await assert.rejects(decompressBlockAsync(codec, data, 3, 'x.avro'), check);
      });
    }
  }
});
