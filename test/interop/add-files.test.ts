/**
 * add-files against real peers. The same Parquet files (written by PyArrow and by Spark; flat and
 * nested; with and without field ids; Hive-partitioned) are added by this tool, by PyIceberg's
 * `Table.add_files` and by Iceberg Java's `add_files` procedure (through Spark). Every data file
 * entry we write, decoded by PyIceberg, must equal theirs field by field — record count, size,
 * column sizes, value/null/NaN counts, bounds, split offsets, partition — except for the
 * documented differences below; and Spark, PyIceberg and DuckDB must read the same rows from our
 * table as from theirs.
 *
 * Documented differences (each asserted, not just tolerated):
 * - PyIceberg keeps no bounds for columns nested in structs; we keep them, as Iceberg Java does.
 * - Iceberg Java's procedure records no split offsets, and no counts for list elements and map
 *   keys/values; we record both, as PyIceberg does.
 * - Iceberg Java records no value or null counts for INT96 columns (Spark's legacy timestamps);
 *   we record the footer's (bounds are kept by neither).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { addFiles } from '../../src/addfiles/engine.ts';
import { HadoopCatalog } from '../../src/catalog/hadoop/hadoop.ts';
import { SqlCatalog } from '../../src/catalog/sql/sql.ts';
import { readParquetFooter } from '../../src/parquet/footer.ts';
import { StorageRouter } from '../../src/storage/router.ts';
import { bytesRangeReader } from '../../src/storage/storage.ts';
import { repoRoot, scratchDir } from '../helpers/paths.ts';
import {
  type AddFilesOk,
  type AddFilesOutcome,
  type AddFilesSpec,
  addFilesFixtures,
  dumpEntries,
  type EntriesDump,
  type EntryDump,
  type FileSet,
  type FileSetsManifest,
  isAddFilesError,
  pyicebergAddFilesMany,
  sparkAddFilesMany,
} from './addfiles-harness.ts';
import { type JsonValue, readTables, type TableRead } from './harness.ts';
import { interopSkipReason } from './helpers.ts';

const skip = interopSkipReason();
const resolve = new StorageRouter().resolver;

/** Partitioning per set: ours as --partition-by terms, the references' as spec requests. */
const PARTITIONING: Record<string, { ours: string[]; ref: AddFilesSpec['partitionBy'] }> = {
  pyarrow_partitioned: {
    ours: ['region', 'day(ts)', 'month(day)'],
    ref: [
      { source: 'region', transform: 'identity' },
      { source: 'ts', transform: 'day' },
      { source: 'day', transform: 'month' },
    ],
  },
  pyarrow_hive: { ours: ['dt:date', 'region'], ref: [{ source: 'dt' }, { source: 'region' }] },
  spark_hive: { ours: ['dt:date', 'region'], ref: [{ source: 'dt' }, { source: 'region' }] },
};
/** Sets each reference can add (see harness/README.md: PyIceberg refuses INT96, Hive folders, mixed nullability). */
const PYICEBERG_SETS = ['pyarrow_flat', 'pyarrow_nested', 'pyarrow_field_ids', 'pyarrow_partitioned'];
const JAVA_SETS = [
  'pyarrow_flat',
  'pyarrow_nested',
  'pyarrow_field_ids',
  'pyarrow_hive',
  'spark_flat',
  'spark_hive',
  'spark_iceberg_ids',
];

/** Field id → dotted column name of a schema JSON (`a.b`, `tags.element`, `m.key`). */
function columnNames(schema: { [key: string]: JsonValue }): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (t: JsonValue, name: string): void => {
    if (t === null || typeof t !== 'object' || Array.isArray(t)) return;
    if (t.type === 'struct') {
      for (const f of t.fields as { id: number; name: string; type: JsonValue }[]) {
        const n = name ? `${name}.${f.name}` : f.name;
        out.set(String(f.id), n);
        visit(f.type, n);
      }
    } else if (t.type === 'list') {
      out.set(String(t['element-id']), `${name}.element`);
      visit(t.element as JsonValue, `${name}.element`);
    } else if (t.type === 'map') {
      out.set(String(t['key-id']), `${name}.key`);
      out.set(String(t['value-id']), `${name}.value`);
      visit(t.key as JsonValue, `${name}.key`);
      visit(t.value as JsonValue, `${name}.value`);
    }
  };
  visit(schema, '');
  return out;
}

const isRepeated = (name: string) => /\.(element|key|value)(\.|$)/.test(name);
const normalize = (p: string) => p.replace(/^file:(\/\/)?/, '');

type MetricKey =
  | 'columnSizes'
  | 'valueCounts'
  | 'nullValueCounts'
  | 'nanValueCounts'
  | 'lowerBounds'
  | 'upperBounds';
const METRICS: MetricKey[] = [
  'columnSizes',
  'valueCounts',
  'nullValueCounts',
  'nanValueCounts',
  'lowerBounds',
  'upperBounds',
];

function byName(
  m: Record<string, number | string> | null,
  names: Map<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, v] of Object.entries(m ?? {})) out[names.get(id) ?? `#${id}`] = String(v);
  return out;
}

/**
 * Compares our entries with a reference's, by file and column name. Returns the documented
 * differences seen, for the log.
 */
function compareEntries(
  set: string,
  peer: 'pyiceberg' | 'java',
  ours: EntriesDump,
  oursNames: Map<string, string>,
  ref: AddFilesOk,
  int96: ReadonlySet<string>,
): string[] {
  const refNames = columnNames(ref.schema);
  const seen = new Set<string>();
  const mismatches: string[] = [];
  const mine = new Map(ours.entries.map((e) => [normalize(e.filePath), e]));
  assert.deepEqual(
    [...mine.keys()].sort(),
    ref.entries.map((e) => normalize(e.filePath)).sort(),
    `${set}/${peer}: the same files`,
  );
  for (const theirs of ref.entries) {
    const file = normalize(theirs.filePath);
    const e = mine.get(file) as EntryDump;
    const what = `${set}/${peer} ${path.basename(file)}`;
    assert.equal(e.recordCount, theirs.recordCount, `${what}: record_count`);
    assert.equal(e.fileSizeInBytes, theirs.fileSizeInBytes, `${what}: file_size_in_bytes`);
    assert.equal(e.fileFormat, theirs.fileFormat, `${what}: file_format`);
    assert.deepEqual(e.partition, theirs.partition, `${what}: partition`);
    if (theirs.splitOffsets === null && peer === 'java') seen.add('java: no split offsets');
    else assert.deepEqual(e.splitOffsets, theirs.splitOffsets, `${what}: split_offsets`);
    for (const key of METRICS) {
      const a = byName(e[key], oursNames);
      const b = byName(theirs[key], refNames);
      for (const col of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (a[col] === b[col]) continue;
        const bounds = key === 'lowerBounds' || key === 'upperBounds';
        if (peer === 'pyiceberg' && bounds && b[col] === undefined && col.includes('.') && !isRepeated(col)) {
          seen.add('pyiceberg: no bounds for struct fields');
          continue;
        }
        if (peer === 'java' && !bounds && b[col] === undefined && isRepeated(col)) {
          seen.add('java: no counts for list elements and map keys/values');
          continue;
        }
        if (peer === 'java' && key !== 'columnSizes' && b[col] === undefined && int96.has(col)) {
          seen.add('java: no counts for INT96 columns');
          continue;
        }
        mismatches.push(`${what}: ${key}[${col}] is ${a[col]} here but ${b[col]} in ${peer}'s`);
      }
    }
  }
  assert.deepEqual(mismatches, [], `${set}/${peer}: entries differ`);
  return [...seen];
}

interface Ours {
  readonly set: FileSet;
  readonly metadataLocation: string;
  readonly entries: EntriesDump;
  readonly names: Map<string, string>;
  /** Columns stored as INT96 in the set's files. */
  readonly int96: ReadonlySet<string>;
}

describe('add-files against PyIceberg, Iceberg Java, Spark and DuckDB', { skip }, () => {
  let sets: FileSetsManifest;
  const ours = new Map<string, Ours>();
  const refs = new Map<string, Map<'pyiceberg' | 'java', AddFilesOutcome>>();
  const base = skip ? '' : scratchDir('interop-addfiles');

  before(async () => {
    sets = await addFilesFixtures(path.join(repoRoot, '.work', 'interop', 'addfiles-sets'));
    for (const set of sets.sets) {
      const dir = path.join(base, 'ours', set.name);
      const catalog = await SqlCatalog.open({
        name: 'dr',
        uri: `sqlite:///${base}/ours-catalog.db`,
        storageFor: resolve,
      });
      try {
        const report = await addFiles({
          table: { namespace: ['addfiles'], name: set.name },
          catalog,
          resolve,
          dataPath: set.root,
          metadataRoot: path.join(dir, 'metadata'),
          create: { partitionBy: PARTITIONING[set.name]?.ours ?? [] },
        });
        assert.equal(report.status, 'committed', `${set.name}: ${JSON.stringify(report.rejected)}`);
        assert.equal(report.filesAdded, set.files.length, `${set.name}: every data file added`);
        assert.deepEqual(report.rejected, [], `${set.name}: nothing rejected`);
        const dump = await dumpEntries(report.metadataLocation as string);
        assert.ok(
          !('error' in dump),
          `${set.name}: PyIceberg decodes our manifests: ${'error' in dump ? dump.error : ''}`,
        );
        const meta = JSON.parse(readFileSync(report.metadataLocation as string, 'utf8'));
        const schema = meta.schemas.find(
          (s: { 'schema-id': number }) => s['schema-id'] === meta['current-schema-id'],
        );
        const first = set.files[0] as string;
        const footer = await readParquetFooter(bytesRangeReader(readFileSync(first)), first);
        const int96 = new Set(footer.schema.filter((e) => e.type === 'INT96').map((e) => e.path.join('.')));
        ours.set(set.name, {
          set,
          metadataLocation: report.metadataLocation as string,
          entries: dump,
          names: columnNames(schema),
          int96,
        });
      } finally {
        await catalog.close();
      }
    }
    const specFor = (set: FileSet, peer: string): AddFilesSpec => ({
      catalogDb: path.join(base, `${peer}-catalog.db`),
      warehouse: path.join(base, `${peer}-warehouse`),
      identifier: `ref.${set.name}`,
      files: set.files,
      sourceDir: set.root,
      ...(PARTITIONING[set.name] ? { partitionBy: PARTITIONING[set.name]?.ref } : {}),
    });
    const py = sets.sets.filter((s) => PYICEBERG_SETS.includes(s.name));
    const java = sets.sets.filter((s) => JAVA_SETS.includes(s.name));
    const [pyOut, javaOut] = await Promise.all([
      pyicebergAddFilesMany(py.map((s) => specFor(s, 'pyiceberg'))),
      sparkAddFilesMany(java.map((s) => specFor(s, 'java'))),
    ]);
    py.forEach((s, i) => {
      refs.set(s.name, new Map([['pyiceberg', pyOut[i] as AddFilesOutcome]]));
    });
    java.forEach((s, i) => {
      const m = refs.get(s.name) ?? new Map();
      m.set('java', javaOut[i] as AddFilesOutcome);
      refs.set(s.name, m);
    });
  });

  it('writes the same data file entries as PyIceberg add_files and Iceberg add_files, field by field', (t) => {
    let compared = 0;
    for (const [name, peers] of refs) {
      const o = ours.get(name) as Ours;
      for (const [peer, outcome] of peers) {
        assert.ok(
          !isAddFilesError(outcome),
          `${name}: ${peer} add_files failed: ${isAddFilesError(outcome) ? outcome.error : ''}`,
        );
        const diffs = compareEntries(name, peer, o.entries, o.names, outcome, o.int96);
        compared += outcome.entries.length;
        t.diagnostic(
          `${name} vs ${peer}: ${outcome.entries.length} entries equal${diffs.length ? `; documented: ${diffs.join(', ')}` : ''}`,
        );
      }
    }
    assert.ok(compared >= 30, `compared ${compared} entries`);
  });

  it('records the snapshot as an append with the right totals, readable manifests, and a name mapping for files without ids', () => {
    for (const o of ours.values()) {
      assert.equal(o.entries.summary?.operation, 'append', o.set.name);
      assert.equal(o.entries.summary?.['added-data-files'], String(o.set.files.length), o.set.name);
      assert.equal(o.entries.summary?.['total-records'], String(o.set.rowCount), o.set.name);
      assert.equal(o.entries.manifests.length, 1);
      assert.equal(o.entries.manifests[0]?.addedFilesCount, o.set.files.length);
      for (const e of o.entries.entries) assert.equal(e.status, 1);
    }
  });

  it('reads the same rows with Spark, PyIceberg and DuckDB as from the reference tables', async (t) => {
    const tables = [...ours.values()].map((o) => ({
      name: `ours/${o.set.name}`,
      metadata: o.metadataLocation,
    }));
    for (const [name, peers] of refs) {
      for (const [peer, outcome] of peers) {
        if (!isAddFilesError(outcome))
          tables.push({ name: `${peer}/${name}`, metadata: outcome.metadataLocation });
      }
    }
    const result = await readTables({ snapshots: 'current', tables });
    const reads = new Map(result.tables.map((r) => [r.name, r]));
    const digest = (r: TableRead | undefined, engine: 'spark' | 'pyiceberg' | 'duckdb') => {
      const c = r?.reads[engine]?.current;
      assert.ok(c && !('error' in c), `${r?.name} ${engine}: ${c && 'error' in c ? c.error : 'no read'}`);
      return c;
    };
    for (const o of ours.values()) {
      const mine = reads.get(`ours/${o.set.name}`);
      const spark = digest(mine, 'spark');
      assert.equal(spark.rowCount, o.set.rowCount, `${o.set.name}: Spark reads every row`);
      for (const engine of ['pyiceberg', 'duckdb'] as const) {
        const r = digest(mine, engine);
        assert.equal(r.rowCount, spark.rowCount, `${o.set.name}: ${engine} row count`);
        assert.equal(r.digest, spark.digest, `${o.set.name}: ${engine} reads what Spark reads`);
      }
      for (const peer of refs.get(o.set.name)?.keys() ?? []) {
        const theirs = reads.get(`${peer}/${o.set.name}`);
        const ref = digest(theirs, 'spark');
        assert.equal(spark.digest, ref.digest, `${o.set.name}: the same rows as ${peer}'s table`);
      }
      t.diagnostic(`${o.set.name}: ${spark.rowCount} rows, identical in Spark, PyIceberg and DuckDB`);
    }
  });

  it("appends to a table Iceberg Java created, with the table's own schema, spec and name mapping", async (t) => {
    const java = refs.get('pyarrow_hive')?.get('java');
    assert.ok(java && !isAddFilesError(java), 'the Java table exists');
    const set = sets.sets.find((s) => s.name === 'pyarrow_hive') as FileSet;
    const before = JSON.parse(readFileSync(java.metadataLocation, 'utf8'));
    // Two files arrive in new partitions of a landing directory.
    const landing = path.join(base, 'landing-hive');
    const arrived = set.files.slice(0, 2).map((f, i) => {
      const to = path.join(landing, `dt=2024-02-0${i + 1}`, 'region=eu', `late-${i}.parquet`);
      mkdirSync(path.dirname(to), { recursive: true });
      copyFileSync(f, to);
      return to;
    });
    const warehouse = path.join(base, 'java-warehouse');
    const catalog = new HadoopCatalog({ name: 'java', warehouse, storage: resolve(warehouse) });
    try {
      const report = await addFiles({
        table: { namespace: ['ref'], name: 'pyarrow_hive' },
        catalog,
        resolve,
        dataPath: landing,
        metadataRoot: path.join(warehouse, 'ref', 'pyarrow_hive', 'metadata'),
      });
      assert.equal(report.status, 'committed', JSON.stringify(report.rejected));
      assert.equal(report.filesAdded, 2);
      const after = JSON.parse(readFileSync(report.metadataLocation as string, 'utf8'));
      for (const key of [
        'schemas',
        'current-schema-id',
        'partition-specs',
        'default-spec-id',
        'table-uuid',
        'location',
      ]) {
        assert.deepEqual(after[key], before[key], `${key} is the table's own`);
      }
      assert.equal(
        after.properties['schema.name-mapping.default'],
        before.properties['schema.name-mapping.default'],
      );
      assert.equal(after.snapshots.length, before.snapshots.length + 1);
      const dump = await dumpEntries(report.metadataLocation as string);
      assert.ok(!('error' in dump), 'error' in dump ? dump.error : '');
      const added = dump.entries.filter((e) => arrived.includes(normalize(e.filePath)));
      assert.deepEqual(added.map((e) => e.partition.dt).sort(), ['2024-02-01', '2024-02-02']);
      const result = await readTables({
        snapshots: 'current',
        tables: [
          { name: 'before', metadata: java.metadataLocation },
          { name: 'after', metadata: report.metadataLocation as string },
        ],
      });
      const rows = (name: string, engine: 'spark' | 'pyiceberg' | 'duckdb') => {
        const c = result.tables.find((x) => x.name === name)?.reads[engine]?.current;
        assert.ok(c && !('error' in c), `${name} ${engine}: ${c && 'error' in c ? c.error : 'no read'}`);
        return c;
      };
      const addedRows = added.reduce((n, e) => n + e.recordCount, 0);
      for (const engine of ['spark', 'pyiceberg', 'duckdb'] as const) {
        assert.equal(
          rows('after', engine).rowCount,
          rows('before', engine).rowCount + addedRows,
          `${engine}: the new rows are read`,
        );
        assert.equal(
          rows('after', engine).digest,
          rows('after', 'spark').digest,
          `${engine} reads what Spark reads`,
        );
      }
      t.diagnostic(
        `Java's table: ${rows('before', 'spark').rowCount} rows, ${rows('after', 'spark').rowCount} after adding 2 files`,
      );
    } finally {
      await catalog.close();
    }
  });
});
