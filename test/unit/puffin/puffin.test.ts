import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { CorruptFileError, UnsupportedError } from '../../../src/errors.ts';
import type { PuffinBlob } from '../../../src/puffin/puffin.ts';
import { decodePuffinFooter, readPuffinFooter, rewritePuffinFooter } from '../../../src/puffin/puffin.ts';
import type { RangeReader } from '../../../src/storage/storage.ts';
import { bytesRangeReader } from '../../../src/storage/storage.ts';
import { impalaFixtures } from '../../helpers/paths.ts';
import { requireFixtures } from '../../helpers/requires.ts';

function walk(dir: string, pattern: RegExp, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, pattern, out);
    else if (pattern.test(name)) out.push(p);
  }
  return out;
}

const FROM = 'hdfs://localhost:20500/test-warehouse/';
const TO = '/dr/warehouse/';
const puffinFiles = walk(impalaFixtures, /\.(puffin|stats)$/);
const dvFile = puffinFiles.find((f) => f.endsWith('.puffin') && f.includes('iceberg_v3_deletion_vectors'))!;
const statsFiles = puffinFiles.filter((f) => f.endsWith('.stats'));
const mapRef = (blob: PuffinBlob) => {
  const ref = blob.properties['referenced-data-file'];
  return ref === undefined
    ? undefined
    : { ...blob.properties, 'referenced-data-file': ref.replace(FROM, TO) };
};

const enc = (s: string) => new TextEncoder().encode(s);

/** Builds a Puffin file from blob bytes and footer JSON text. */
function puffin(blobs: Uint8Array, payload: string, flags = [0, 0, 0, 0]): Uint8Array {
  const p = enc(payload);
  const out = new Uint8Array(4 + blobs.length + 4 + p.length + 12);
  out.set(enc('PFA1'));
  out.set(blobs, 4);
  let at = 4 + blobs.length;
  out.set(enc('PFA1'), at);
  out.set(p, at + 4);
  at += 4 + p.length;
  new DataView(out.buffer).setInt32(at, p.length, true);
  out.set(flags, at + 4);
  out.set(enc('PFA1'), at + 8);
  return out;
}

function spyReader(bytes: Uint8Array): RangeReader & { reads: [number, number][] } {
  const inner = bytesRangeReader(bytes);
  const reads: [number, number][] = [];
  return {
    size: inner.size,
    reads,
    read: (offset, length) => {
      reads.push([offset, length]);
      return inner.read(offset, length);
    },
  };
}

describe('Puffin fixtures', requireFixtures(), () => {
  test('the fixtures are there', () => {
    assert.ok(dvFile, 'deletion-vector Puffin file');
    assert.ok(statsFiles.length >= 1);
  });

  test('reads the deletion-vector footer', async () => {
    const bytes = new Uint8Array(readFileSync(dvFile));
    const footer = await readPuffinFooter(bytesRangeReader(bytes), 'dv.puffin');
    assert.equal(footer.blobs.length, 2);
    assert.equal(footer.footerPayloadCompressed, false);
    for (const blob of footer.blobs) {
      assert.equal(blob.type, 'deletion-vector-v1');
      assert.deepEqual(blob.fields, [2147483645]);
      // Iceberg writes -1 for deletion vectors: the ids are inherited from the manifest.
      assert.equal(blob.snapshotId, -1n);
      assert.equal(blob.sequenceNumber, -1n);
      assert.ok(blob.properties['referenced-data-file']?.startsWith(FROM));
      assert.equal(blob.properties.cardinality, '1');
      assert.ok(blob.offset + blob.length <= footer.footerStart);
    }
    assert.deepEqual(
      footer.blobs.map((b) => [b.offset, b.length]),
      [
        [4, 42],
        [46, 42],
      ],
    );
    assert.match(footer.properties['created-by']!, /^Apache Iceberg/);
  });

  test('rewrites the deletion-vector footer: blobs identical, references mapped, the rest kept', async () => {
    const bytes = new Uint8Array(readFileSync(dvFile));
    const before = decodePuffinFooter(bytes, 'dv.puffin');
    const { bytes: out, changed } = rewritePuffinFooter(bytes, mapRef, 'dv.puffin');
    assert.equal(changed, true);
    const after = await readPuffinFooter(bytesRangeReader(out), 'dv.puffin');
    assert.equal(after.footerStart, before.footerStart);
    assert.deepEqual(out.subarray(0, before.footerStart), bytes.subarray(0, before.footerStart));
    after.blobs.forEach((blob, i) => {
      const old = before.blobs[i]!;
      assert.deepEqual(
        out.subarray(blob.offset, blob.offset + blob.length),
        bytes.subarray(old.offset, old.offset + old.length),
      );
      assert.deepEqual({ ...blob, properties: undefined }, { ...old, properties: undefined });
      assert.equal(
        blob.properties['referenced-data-file'],
        old.properties['referenced-data-file']!.replace(FROM, TO),
      );
      assert.equal(blob.properties.cardinality, old.properties.cardinality);
    });
    assert.deepEqual(after.properties, before.properties);
    // Only the mapped values changed in the footer text.
    const textOf = (b: Uint8Array, start: number) =>
      new TextDecoder().decode(b.subarray(start + 4, b.length - 12));
    assert.equal(textOf(out, after.footerStart), textOf(bytes, before.footerStart).replaceAll(FROM, TO));
    assert.deepEqual(out.subarray(out.length - 8), bytes.subarray(bytes.length - 8));
  });

  test('an identity transform returns the input', () => {
    const bytes = new Uint8Array(readFileSync(dvFile));
    const r = rewritePuffinFooter(bytes, (b) => ({ ...b.properties }), 'dv.puffin');
    assert.equal(r.changed, false);
    assert.equal(r.bytes, bytes);
  });

  test('reads the Trino statistics files with exact 64-bit snapshot ids', async () => {
    for (const file of statsFiles) {
      const bytes = new Uint8Array(readFileSync(file));
      const footer = await readPuffinFooter(bytesRangeReader(bytes), path.basename(file));
      assert.ok(footer.blobs.length >= 1);
      assert.match(footer.properties['created-by']!, /Trino/);
      const text = new TextDecoder().decode(bytes.subarray(footer.footerStart + 4, bytes.length - 12));
      for (const blob of footer.blobs) {
        assert.equal(blob.type, 'apache-datasketches-theta-v1');
        assert.ok(text.includes(`"snapshot-id":${blob.snapshotId}`), `${blob.snapshotId} is exact`);
        assert.ok(blob.offset >= 4 && blob.offset + blob.length <= footer.footerStart);
      }
      // Statistics blobs carry no referenced-data-file: nothing to rewrite.
      assert.equal(rewritePuffinFooter(bytes, mapRef, 'x.stats').changed, false);
    }
    const big = statsFiles.find((f) => f.includes('iceberg_with_puffin_stats'))!;
    const footer = await readPuffinFooter(bytesRangeReader(new Uint8Array(readFileSync(big))), 'x.stats');
    assert.equal(footer.blobs[0]!.snapshotId, 8614787612208071008n);
    assert.equal(footer.blobs[0]!.compressionCodec, 'zstd');
  });
});

describe('Puffin footers built here', () => {
  const payload =
    '{ "blobs" : [ {"type":"deletion-vector-v1","fields":[2147483645],"snapshot-id":9007199254740993,' +
    '"sequence-number":12,"offset":4,"length":3,"x-unknown":{"a":[1.50,2]},' +
    '"properties":{"referenced-data-file":"hdfs://localhost:20500/test-warehouse/a \\"q\\".parquet","cardinality":"2"}} ],\n' +
    '  "properties" : {"created-by":"test"} }';

  test('keeps numbers, unknown keys, escapes and spacing; edits only the value', () => {
    const file = puffin(Uint8Array.of(1, 2, 3), payload);
    const footer = decodePuffinFooter(file, 'p.puffin');
    assert.equal(footer.blobs[0]!.snapshotId, 9007199254740993n);
    assert.equal(footer.blobs[0]!.properties['referenced-data-file'], `${FROM}a "q".parquet`);
    const { bytes } = rewritePuffinFooter(file, mapRef, 'p.puffin');
    const text = new TextDecoder().decode(bytes.subarray(7 + 4, bytes.length - 12));
    assert.equal(text, payload.replace(FROM, TO));
  });

  test('adding a property rewrites only that blob properties object', () => {
    const file = puffin(Uint8Array.of(1, 2, 3), payload);
    const { bytes } = rewritePuffinFooter(file, (b) => ({ ...b.properties, extra: 'e' }), 'p.puffin');
    const after = decodePuffinFooter(bytes, 'p.puffin');
    assert.equal(after.blobs[0]!.properties.extra, 'e');
    assert.equal(after.blobs[0]!.snapshotId, 9007199254740993n);
    assert.ok(new TextDecoder().decode(bytes).includes('"x-unknown":{"a":[1.50,2]}'));
  });

  test('a footer longer than the first tail is read with a second, exact read', async () => {
    const long = `{"blobs":[],"properties":{"pad":"${'p'.repeat(70_000)}"}}`;
    const file = puffin(new Uint8Array(0), long);
    const reader = spyReader(file);
    const footer = await readPuffinFooter(reader, 'l.puffin');
    assert.equal(footer.properties.pad?.length, 70_000);
    assert.equal(reader.reads.length, 2);
    assert.equal(reader.reads[1]![0], footer.footerStart);
  });

  test('bad footer magic', async () => {
    const file = puffin(Uint8Array.of(1, 2, 3), payload);
    file[file.length - 1] = 0;
    await assert.rejects(
      readPuffinFooter(bytesRangeReader(file), 'x.puffin'),
      (err: unknown) => err instanceof CorruptFileError && err.message === 'x.puffin: bad footer magic',
    );
  });

  test('truncated footer', async () => {
    const file = puffin(Uint8Array.of(1, 2, 3), payload);
    const cut = file.subarray(100);
    await assert.rejects(readPuffinFooter(bytesRangeReader(cut), 'x.puffin'), {
      message: `x.puffin: truncated footer (payload size ${enc(payload).length} exceeds file size ${cut.length})`,
    });
  });

  test('footer start magic', async () => {
    const file = puffin(Uint8Array.of(1, 2, 3), payload);
    file[7] = 0;
    await assert.rejects(readPuffinFooter(bytesRangeReader(file), 'x.puffin'), {
      message: 'x.puffin: bad magic at footer start',
    });
  });

  test('compressed footer payload is unsupported', async () => {
    const file = puffin(Uint8Array.of(1, 2, 3), payload, [1, 0, 0, 0]);
    await assert.rejects(
      readPuffinFooter(bytesRangeReader(file), 'x.puffin'),
      (err: unknown) =>
        err instanceof UnsupportedError &&
        err.message === 'x.puffin: compressed Puffin footer payload (LZ4) is not supported',
    );
    assert.throws(() => rewritePuffinFooter(file, mapRef, 'x.puffin'), UnsupportedError);
  });

  test('too small, bad JSON, blob outside the blob area', async () => {
    await assert.rejects(readPuffinFooter(bytesRangeReader(enc('PFA1')), 'x.puffin'), {
      message: 'x.puffin: not a Puffin file (4 bytes is too small)',
    });
    assert.throws(
      () => decodePuffinFooter(puffin(new Uint8Array(0), '{"blobs":['), 'x.puffin'),
      (err: unknown) => (err as Error).message.startsWith('x.puffin: footer payload is not valid JSON ('),
    );
    const outside = payload.replace('"length":3', '"length":30');
    assert.throws(() => decodePuffinFooter(puffin(Uint8Array.of(1, 2, 3), outside), 'x.puffin'), {
      message: 'x.puffin: blob 0 (offset 4, length 30) lies outside the blob area',
    });
  });
});
