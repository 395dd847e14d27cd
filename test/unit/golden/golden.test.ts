/**
 * The codecs over the golden corpus (test/golden): every file decodes to its expected JSON, and
 * the committed files are exactly what the corpus builder makes (so they are reproducible). These
 * tests need nothing outside the repository.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { readAvroFile } from '../../../src/avro/container.ts';
import {
  manifestEntryView,
  manifestFileView,
  readManifest,
  readManifestList,
} from '../../../src/iceberg/manifest-codec.ts';
import { decodeMetadata } from '../../../src/iceberg/metadata-json.ts';
import { readParquetFooter } from '../../../src/parquet/footer.ts';
import { rewritePositionDeleteFile } from '../../../src/parquet/position-deletes.ts';
import { decodePuffinFooter, rewritePuffinFooter } from '../../../src/puffin/puffin.ts';
import { bytesRangeReader } from '../../../src/storage/storage.ts';
import {
  type JsonObject,
  type JsonValue,
  jsonEquals,
  parseJson,
  stringifyJson,
} from '../../../src/util/json.ts';
import { buildGoldenCorpus, GOLDEN_LOCATION, toExactJson } from '../../golden/corpus.ts';
import { repoRoot } from '../../helpers/paths.ts';

const dir = path.join(repoRoot, 'test', 'golden');
const bytesOf = (name: string) => new Uint8Array(readFileSync(path.join(dir, name)));
const expectedOf = (name: string) =>
  parseJson(readFileSync(path.join(dir, `${name}.expected.json`), 'utf8')) as JsonObject;

/** Deep equality of exact JSON, with both sides printed when it fails. */
function assertJson(actual: JsonValue, expected: JsonValue | undefined, what: string): void {
  assert.ok(expected !== undefined, `${what}: nothing expected`);
  if (!jsonEquals(actual, expected)) {
    assert.fail(`${what} differs\nactual:   ${stringifyJson(actual)}\nexpected: ${stringifyJson(expected)}`);
  }
}

describe('golden corpus', () => {
  test('the committed files are what test/golden/corpus.ts builds (run generate.ts after changing it)', () => {
    for (const file of buildGoldenCorpus()) {
      const committed = bytesOf(file.name);
      if (file.name === 'snap-manifest-list.avro') {
        // Deflate output may differ between zlib builds: compare what it encodes.
        const a = readAvroFile(committed, file.name);
        const b = readAvroFile(file.bytes, file.name);
        assert.deepEqual(a.header.bytes, b.header.bytes, `${file.name} header`);
        assert.deepEqual(a.blockRecordCounts, b.blockRecordCounts, `${file.name} blocks`);
        assert.deepEqual(a.records, b.records, `${file.name} records`);
      } else {
        assert.deepEqual(committed, file.bytes, file.name);
      }
      assertJson(expectedOf(file.name), file.expected, `${file.name}.expected.json`);
    }
  });

  test('metadata.json: exact JSON and the typed view', () => {
    const name = 'v2.metadata.json';
    const expected = expectedOf(name);
    const doc = decodeMetadata(bytesOf(name), name);
    assertJson(doc.json, expected.json, 'json');
    assertJson(toExactJson(doc.metadata), expected.view, 'view');
    assert.equal(doc.gzip, false);
    assert.equal(doc.pretty, true);
  });

  test('manifest list: header, block layout, records and views', async () => {
    const name = 'snap-manifest-list.avro';
    const expected = expectedOf(name);
    const file = await readManifestList(bytesOf(name), name);
    assert.equal(BigInt(file.formatVersion), expected.formatVersion);
    const header: JsonObject = {};
    for (const [k, v] of file.header.meta) if (k !== 'avro.schema') header[k] = new TextDecoder().decode(v);
    assertJson(header, expected.header, 'header');
    assertJson(toExactJson(file.blockRecordCounts), expected.blockRecordCounts, 'block record counts');
    assertJson(toExactJson(file.records), expected.records, 'records');
    const view = manifestFileView(file.records[0]!, name);
    assert.equal(view.manifestPath, `${GOLDEN_LOCATION}/metadata/7d1e0c3a-m0.avro`);
    assert.equal(view.manifestLength, BigInt(bytesOf('manifest.avro').length));
  });

  test('manifest: header, block layout, records and views', async () => {
    const name = 'manifest.avro';
    const expected = expectedOf(name);
    const file = await readManifest(bytesOf(name), name);
    assert.equal(BigInt(file.formatVersion), expected.formatVersion);
    assert.equal(file.content, expected.content);
    const header: JsonObject = {};
    for (const [k, v] of file.header.meta) if (k !== 'avro.schema') header[k] = new TextDecoder().decode(v);
    assertJson(header, expected.header, 'header');
    assertJson(toExactJson(file.blockRecordCounts), expected.blockRecordCounts, 'block record counts');
    assertJson(toExactJson(file.records), expected.records, 'records');
    const views = file.records.map((r) => manifestEntryView(r, name));
    assert.deepEqual(
      views.map((v) => [v.status, v.dataFile.content]),
      [
        [1, 0],
        [0, 0],
        [1, 1],
      ],
    );
    assert.equal(views[2]!.dataFile.fileSizeInBytes, BigInt(bytesOf('position-deletes.parquet').length));
  });

  test('position-delete file: footer, rows, and a rewrite of its paths', async () => {
    const name = 'position-deletes.parquet';
    const expected = expectedOf(name);
    const bytes = bytesOf(name);
    const footer = await readParquetFooter(bytesRangeReader(bytes), name);
    assert.equal(footer.rowCount, expected.rowCount);
    const columns = footer.schema
      .filter((e) => e.type !== undefined)
      .map((e) => ({ name: e.name, type: e.type, fieldId: e.fieldId }));
    assertJson(toExactJson(columns), expected.columns, 'columns');
    const rows = await parquetReadObjects({ file: bytes.slice().buffer, compressors });
    assertJson(toExactJson(rows), expected.rows, 'rows');

    const same = await rewritePositionDeleteFile(bytes, (p) => p, name);
    assert.equal(same.changed, false);
    const to = '/dr/warehouse/sales.db/orders';
    const moved = await rewritePositionDeleteFile(bytes, (p) => p.replace(GOLDEN_LOCATION, to), name);
    assert.equal(moved.changed, true);
    const movedRows = await parquetReadObjects({ file: moved.bytes.slice().buffer, compressors });
    const expectedRows = (expected.rows as JsonObject[]).map((r) => ({
      ...r,
      file_path: (r.file_path as string).replace(GOLDEN_LOCATION, to),
    }));
    assertJson(toExactJson(movedRows), expectedRows, 'rewritten rows');
    const paths = expectedRows.map((r) => r.file_path).sort();
    assert.equal(moved.minPath, paths[0]);
    assert.equal(moved.maxPath, paths.at(-1));
  });

  test('deletion-vector Puffin file: footer, and a rewrite of referenced-data-file', () => {
    const name = 'deletion-vector.puffin';
    const expected = expectedOf(name);
    const bytes = bytesOf(name);
    const footer = decodePuffinFooter(bytes, name);
    assert.equal(BigInt(footer.footerStart), expected.footerStart);
    assertJson(toExactJson(footer.blobs), expected.blobs, 'blobs');
    assertJson(toExactJson(footer.properties), expected.properties, 'properties');

    const to = '/dr/warehouse/sales.db/orders';
    const { bytes: out, changed } = rewritePuffinFooter(
      bytes,
      (b) => ({
        ...b.properties,
        'referenced-data-file': b.properties['referenced-data-file']!.replace(GOLDEN_LOCATION, to),
      }),
      name,
    );
    assert.equal(changed, true);
    assert.deepEqual(out.subarray(0, footer.footerStart), bytes.subarray(0, footer.footerStart));
    const after = decodePuffinFooter(out, name);
    const ref = ((expected.blobs as JsonObject[])[0]!.properties as JsonObject)[
      'referenced-data-file'
    ] as string;
    assert.equal(after.blobs[0]!.properties['referenced-data-file'], ref.replace(GOLDEN_LOCATION, to));
  });
});
