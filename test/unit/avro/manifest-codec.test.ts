import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { type AvroRecord, encodeAvroFile, readAvroFile } from '../../../src/avro/container.ts';
import { CorruptFileError, UnsupportedError } from '../../../src/errors.ts';
import {
  headerText,
  manifestEntryView,
  manifestFileView,
  openManifest,
  readManifest,
  readManifestList,
  writeAvroLike,
} from '../../../src/iceberg/manifest-codec.ts';
import { impalaFixtures, walk } from '../../helpers/paths.ts';
import { requireFixtures } from '../../helpers/requires.ts';

const manifestLists = walk(impalaFixtures, (p) => /metadata\/snap-[^/]+\.avro$/.test(p));
const manifests = walk(impalaFixtures, (p) => /metadata\/[^/]+-m\d+\.avro$/.test(p));

async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe('Iceberg manifest codec', requireFixtures(), () => {
  it('reads every fixture manifest list with typed views', async () => {
    assert.ok(manifestLists.length > 50);
    let checkedLengths = 0;
    let matchedLengths = 0;
    let firstRowIds = 0;
    const versions = new Set<number>();
    for (const file of manifestLists) {
      const list = await readManifestList(readFileSync(file), file);
      versions.add(list.formatVersion);
      for (const rec of list.records) {
        const v = manifestFileView(rec, file);
        assert.match(v.manifestPath, /\.avro$/, file);
        assert.ok(v.content === 0 || v.content === 1);
        if (list.formatVersion >= 2) {
          assert.equal(typeof v.sequenceNumber, 'bigint', file);
          assert.equal(typeof v.addedSnapshotId, 'bigint', file);
        } else {
          assert.equal(v.sequenceNumber, undefined, file);
          assert.equal(v.content, 0);
        }
        assert.equal(typeof v.addedFilesCount, 'number', file);
        // v3 row lineage: assigned to data manifests only.
        if (v.firstRowId !== undefined) firstRowIds++;
        // Where the listed manifest is in the fixtures, its length matches the view (one
        // fixture manifest, in iceberg_with_puffin_stats, was rewritten after being listed).
        const local = path.join(path.dirname(file), path.basename(v.manifestPath));
        if (existsSync(local)) {
          checkedLengths++;
          if (v.manifestLength === BigInt(statSync(local).size)) matchedLengths++;
        }
      }
    }
    assert.deepEqual([...versions].sort(), [1, 2, 3]);
    assert.ok(checkedLengths > 200, `checked ${checkedLengths} manifest lengths`);
    assert.ok(checkedLengths - matchedLengths <= 1, `${checkedLengths - matchedLengths} lengths differ`);
    assert.ok(firstRowIds > 10, `${firstRowIds} first_row_id values`);
  });

  it('reads every fixture manifest with typed views, also when streamed', async () => {
    assert.ok(manifests.length > 50);
    const seen = { deletes: 0, dv: 0, bounds: 0, inferredVersion: 0 };
    for (const file of manifests) {
      const bytes = readFileSync(file);
      const m = await readManifest(bytes, file);
      if (headerText(m.header, 'format-version') === undefined && m.formatVersion > 1) seen.inferredVersion++;
      const streamed = await readManifest(chunks(bytes, 1000), file);
      assert.deepEqual(streamed.records, m.records, file);
      assert.equal(streamed.content, m.content, file);
      let deletes = 0;
      for (const rec of m.records) {
        const e = manifestEntryView(rec, file);
        assert.ok([0, 1, 2].includes(e.status));
        const d = e.dataFile;
        assert.ok(d.filePath.length > 0);
        assert.ok(d.recordCount >= 0n && d.fileSizeInBytes > 0n, file);
        if (m.formatVersion === 1) {
          assert.equal(d.content, 0);
          assert.equal(typeof e.snapshotId, 'bigint');
        }
        if (d.content !== 0) deletes++;
        if (d.lowerBounds) {
          seen.bounds++;
          for (const [k, b] of d.lowerBounds) assert.ok(Number.isInteger(k) && b instanceof Uint8Array);
        }
        if (d.contentOffset !== undefined) {
          seen.dv++;
          assert.equal(d.fileFormat, 'PUFFIN');
          assert.equal(typeof d.referencedDataFile, 'string');
          assert.equal(typeof d.contentSizeInBytes, 'bigint');
        }
      }
      assert.equal(m.content, deletes > 0 ? 'deletes' : 'data', file);
      if (m.content === 'deletes') seen.deletes++;
    }
    assert.ok(
      seen.deletes > 10 && seen.dv > 0 && seen.bounds > 100 && seen.inferredVersion > 10,
      JSON.stringify(seen),
    );
  });

  it('opens a manifest for streaming', async () => {
    const file = manifests.find((f) => f.includes('iceberg_v3_deletion_vectors'))!;
    const bytes = readFileSync(file);
    const m = await openManifest(chunks(bytes, 64), file);
    const records: AvroRecord[] = [];
    for await (const r of m.reader.records()) records.push(r);
    assert.deepEqual(records, readAvroFile(bytes, file).records);
    assert.equal(m.formatVersion, 3);
  });

  it('rewrites file paths with writeAvroLike, keeping the header and every other field', async () => {
    for (const file of manifests) {
      const bytes = readFileSync(file);
      const m = await readManifest(bytes, file);
      const rewritten = m.records.map((r) => {
        const df = r.data_file as AvroRecord;
        return { ...r, data_file: { ...df, file_path: `s3://dr-bucket/${df.file_path as string}` } };
      });
      const out: Uint8Array[] = [];
      const res = await writeAvroLike(m.header, rewritten, (c) => {
        out.push(c);
      });
      const written = Buffer.concat(out);
      assert.equal(res.bytesWritten, written.length);
      const again = await readManifest(written, file);
      assert.ok(Buffer.from(again.header.bytes).equals(Buffer.from(m.header.bytes)), `${file}: header`);
      assert.deepEqual(again.records, rewritten, file);
      assert.equal(again.header.codec, m.header.codec);
    }
  });

  it('rewrites with writeAvroLike from an async source', async () => {
    const file = manifestLists.find((f) => readAvroFile(readFileSync(f), f).records.length > 1)!;
    const list = await readManifestList(readFileSync(file), file);
    async function* source() {
      for (const r of list.records) yield { ...r, manifest_length: (r.manifest_length as bigint) + 1n };
    }
    const out: Uint8Array[] = [];
    await writeAvroLike(list.header, source(), async (c) => {
      out.push(c);
    });
    const again = await readManifestList(Buffer.concat(out), file);
    assert.deepEqual(
      again.records.map((r) => manifestFileView(r).manifestLength),
      list.records.map((r) => manifestFileView(r).manifestLength + 1n),
    );
  });

  it('rejects the wrong kind of file, unknown versions and bad views', async () => {
    const manifest = manifests[0]!;
    const list = manifestLists[0]!;
    await assert.rejects(readManifestList(readFileSync(manifest), 'm.avro'), {
      constructor: CorruptFileError,
      message: 'm.avro: not an Iceberg manifest list (no manifest_path field)',
    });
    await assert.rejects(readManifest(readFileSync(list), 'l.avro'), {
      constructor: CorruptFileError,
      message: 'l.avro: not an Iceberg manifest (no status and data_file fields)',
    });
    const { header, records } = readAvroFile(readFileSync(list), list);
    const meta = new Map(header.meta);
    meta.set('format-version', new TextEncoder().encode('4'));
    await assert.rejects(readManifestList(encodeAvroFile({ meta }, records), 'v4.avro'), {
      constructor: UnsupportedError,
      message: 'v4.avro: unsupported format-version 4',
    });
    assert.throws(() => manifestFileView({ manifest_path: 'x' }, 'l.avro'), {
      constructor: CorruptFileError,
      message: 'l.avro: field manifest_length is missing or not a long',
    });
    assert.throws(() => manifestEntryView({ status: 1, data_file: { file_path: 5 } }, 'm.avro'), {
      message: 'm.avro: field data_file.file_path is missing or not a string',
    });
  });
});
