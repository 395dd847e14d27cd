/**
 * Golden test of footer metrics against real engines: for every Parquet data file of Apache
 * Impala's Iceberg test tables (written by Impala, Spark/Iceberg and Trino), the metrics this tool
 * computes from the footer alone must equal the metrics the writing engine recorded in its
 * manifest: column sizes, value counts, null counts, lower and upper bounds, split offsets.
 *
 * Documented differences: the footer holds no NaN counts, so where a writer recorded them ours
 * are absent (Iceberg's own footer metrics have none either); where a writer recorded no split
 * offsets, ours are the row-group offsets.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  manifestEntryView,
  manifestFileView,
  readManifest,
  readManifestList,
} from '../../../src/iceberg/manifest-codec.ts';
import { decodeMetadata, metadataVersionOf } from '../../../src/iceberg/metadata-json.ts';
import { NAME_MAPPING_PROPERTY, nameMappingOf, parseNameMapping } from '../../../src/iceberg/name-mapping.ts';
import { currentSchema } from '../../../src/iceberg/schema.ts';
import { readParquetFooter } from '../../../src/parquet/footer.ts';
import { hasFieldIds, parquetTree, resolveColumns } from '../../../src/parquet/iceberg-schema.ts';
import { footerMetrics } from '../../../src/parquet/metrics.ts';
import { bytesRangeReader } from '../../../src/storage/storage.ts';
import { impalaFixtures, walk } from '../../helpers/paths.ts';
import { requireFixtures } from '../../helpers/requires.ts';

/** Tables whose files do not fit their own current schema, and why (asserted, not skipped). */
const EXPECTED_MISFITS: Record<string, RegExp> = {
  // Migrated from Hive: the files carry field ids of another numbering than the table's.
  iceberg_migrated_complex_test: /field id \d+\) is not in the table schema/,
  // Variant columns are not supported by add-files yet.
  trino_variant: /variant in the table/,
};

interface TableDir {
  readonly name: string;
  readonly dir: string;
}

function tables(): TableDir[] {
  if (!existsSync(impalaFixtures)) return [];
  const metadataDirs = walk(impalaFixtures, (p) => p.endsWith('.metadata.json')).map((p) => path.dirname(p));
  return [...new Set(metadataDirs)].map((m) => ({
    name: path.basename(path.dirname(m)),
    dir: path.dirname(m),
  }));
}

/** The fixture's copy of a path recorded as `.../<table>/<rest>`. */
function localPath(recorded: string, t: TableDir): string {
  const i = recorded.lastIndexOf(`/${t.name}/`);
  return path.join(t.dir, recorded.slice(i + t.name.length + 2));
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const asObject = (m: Map<number, bigint | Uint8Array> | undefined) =>
  Object.fromEntries(
    [...(m ?? new Map())].map(([k, v]) => [k, v instanceof Uint8Array ? hex(v) : String(v)]),
  );

describe('footer metrics against the metrics real engines recorded (Impala fixtures)', {
  ...requireFixtures(),
}, () => {
  it('match field by field for every Parquet data file', async () => {
    let compared = 0;
    const misfits = new Set<string>();
    for (const t of tables()) {
      const metaDir = path.join(t.dir, 'metadata');
      const newest = readdirSync(metaDir)
        .filter((f) => f.endsWith('.metadata.json'))
        .sort((a, b) => (metadataVersionOf(a) ?? 0) - (metadataVersionOf(b) ?? 0))
        .at(-1) as string;
      const mpath = path.join(metaDir, newest);
      const doc = decodeMetadata(readFileSync(mpath), mpath);
      const snap = doc.metadata.snapshots.find((s) => s.snapshotId === doc.metadata.currentSnapshotId);
      if (!snap?.manifestList || !existsSync(localPath(snap.manifestList, t))) continue;
      const schema = currentSchema(doc.json, mpath);
      const props = doc.metadata.properties;
      const mappingText = props[NAME_MAPPING_PROPERTY];
      const mapping = mappingText ? parseNameMapping(mappingText) : nameMappingOf(schema.struct);
      const list = await readManifestList(readFileSync(localPath(snap.manifestList, t)), snap.manifestList);
      for (const rec of list.records) {
        const mf = manifestFileView(rec);
        if (mf.content !== 0 || !existsSync(localPath(mf.manifestPath, t))) continue;
        const manifest = await readManifest(readFileSync(localPath(mf.manifestPath, t)), mf.manifestPath);
        for (const r of manifest.records) {
          const df = manifestEntryView(r).dataFile;
          const file = localPath(df.filePath, t);
          if (
            manifestEntryView(r).status === 2 ||
            df.fileFormat.toUpperCase() !== 'PARQUET' ||
            !existsSync(file)
          )
            continue;
          const footer = await readParquetFooter(bytesRangeReader(readFileSync(file)), file);
          const res = resolveColumns(parquetTree(footer), schema.struct, mapping, hasFieldIds(footer));
          const expected = EXPECTED_MISFITS[t.name];
          if (res.problems.length) {
            assert.ok(expected, `${t.name}: ${file} does not fit: ${res.problems.join('; ')}`);
            assert.match(res.problems.join('; '), expected, `${t.name}: expected a misfit`);
            misfits.add(t.name);
            continue;
          }
          const m = footerMetrics(footer, res, props);
          const what = `${t.name}: ${path.basename(file)}`;
          assert.equal(m.recordCount, df.recordCount, `${what}: record_count`);
          assert.deepEqual(asObject(m.columnSizes), asObject(df.columnSizes), `${what}: column_sizes`);
          assert.deepEqual(asObject(m.valueCounts), asObject(df.valueCounts), `${what}: value_counts`);
          assert.deepEqual(
            asObject(m.nullValueCounts),
            asObject(df.nullValueCounts),
            `${what}: null_value_counts`,
          );
          assert.deepEqual(asObject(m.lowerBounds), asObject(df.lowerBounds), `${what}: lower_bounds`);
          assert.deepEqual(asObject(m.upperBounds), asObject(df.upperBounds), `${what}: upper_bounds`);
          // No NaN counts in a footer: ours are a subset (empty) of what a writer may record.
          assert.equal(m.nanValueCounts.size, 0, `${what}: nan_value_counts`);
          if (df.splitOffsets) assert.deepEqual(m.splitOffsets, df.splitOffsets, `${what}: split_offsets`);
          else assert.deepEqual(m.splitOffsets, footer.splitOffsets.map(BigInt), `${what}: split_offsets`);
          compared++;
        }
      }
    }
    assert.deepEqual(
      [...misfits].sort(),
      Object.keys(EXPECTED_MISFITS).sort(),
      'every expected misfit was seen',
    );
    process.stdout.write(`# compared the metrics of ${compared} files\n`);
    assert.ok(compared >= 100, `compared ${compared} files (expected the fixtures' ~110 Parquet data files)`);
  });
});
