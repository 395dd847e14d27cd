/**
 * Hostile replicated metadata.json files, on copies of the bundled sample: a version Iceberg
 * readers would refuse is never committed, an output is named for its codec whatever the source
 * name claims, and a `..` path in any path-bearing field is refused naming file and field. Each
 * case checks the catalog's state and that the replica is byte-identical afterwards.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { encodeAvroFile, readAvroFile } from '../../../src/avro/container.ts';
import { SqlCatalog } from '../../../src/catalog/sql/index.ts';
import { CorruptFileError, ExitCode, exitCodeFor } from '../../../src/errors.ts';
import type { AvroRecordValue } from '../../../src/iceberg/manifest-views.ts';
import {
  decodeMetadata,
  encodeMetadata,
  metadataNameMismatch,
  readersTakeNameAsGzip,
} from '../../../src/iceberg/metadata-json.ts';
import { findMetadataProblems } from '../../../src/iceberg/metadata-validate.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { syncTable } from '../../../src/sync/engine.ts';
import { cloneJson } from '../../../src/sync/rewrite.ts';
import { verifyTable } from '../../../src/sync/verify.ts';
import { InvalidPathError, type PathMappingRule } from '../../../src/table/path-mapping.ts';
import type { JsonObject } from '../../../src/util/json.ts';
import { repoRoot, scratchDir } from '../../helpers/paths.ts';
import { checksums } from '../../helpers/sample-site.ts';

const SOURCE_WAREHOUSE = 'hdfs://prod-nn:8020/warehouse';
const SOURCE_TABLE = `${SOURCE_WAREHOUSE}/sales/orders`;
const resolve = new StorageRouter().resolver;
const table = { namespace: ['sales'], name: 'orders' };

/** SHA-256 of every file below `dir`: equal maps mean a byte-identical tree. */

/** A copy of the sample replica and an empty DR site. */
async function setup(label: string) {
  const base = scratchDir(label);
  const warehouse = path.join(base, 'replica', 'warehouse');
  cpSync(path.join(repoRoot, 'examples', 'replica'), path.join(base, 'replica'), { recursive: true });
  const tableLocation = path.join(warehouse, 'sales', 'orders');
  const metaDir = path.join(tableLocation, 'metadata');
  const dr = path.join(base, 'dr');
  mkdirSync(dr);
  const catalog = await SqlCatalog.open({
    name: 'dr',
    uri: `sqlite:///${dr}/catalog.db`,
    storageFor: resolve,
  });
  const mappings: PathMappingRule[] = [{ source: SOURCE_WAREHOUSE, target: warehouse }];
  const metadataRoot = path.join(dr, 'sales', 'orders', 'metadata');
  const v8 = path.join(metaDir, 'v8.metadata.json');
  return {
    base,
    warehouse,
    metaDir,
    catalog,
    mappings,
    metadataRoot,
    v8,
    v8json: decodeMetadata(readFileSync(v8), v8).json,
    opts: { table, catalog, tableLocation, mappings, metadataRoot, resolve },
  };
}

/** Writes a v9 made from v8 by `mutate`, as a replicated (complete) newer version. */
function writeV9(s: Awaited<ReturnType<typeof setup>>, mutate: (j: JsonObject) => void): string {
  const json = cloneJson(s.v8json);
  mutate(json);
  const v9 = path.join(s.metaDir, 'v9.metadata.json');
  writeFileSync(v9, encodeMetadata(json, { pretty: true }));
  return v9;
}

describe('replicated metadata that Iceberg readers would refuse', () => {
  it('passes over an invalid newest version, commits the newest valid one, and names file and field', async () => {
    const s = await setup('hostile-invalid');
    try {
      const v9 = writeV9(s, (j) => delete j['current-snapshot-id']); // refs.main still set
      const before = checksums(s.warehouse);
      const r = await syncTable(s.opts);
      assert.equal(r.status, 'behind', 'a newer version exists that was not committed');
      assert.equal(r.sourceMetadata, s.v8);
      assert.deepEqual(
        r.skippedVersions.map((v) => v.metadata),
        [v9],
      );
      assert.match(
        r.skippedVersions[0]!.reason,
        /v9\.metadata\.json: invalid table metadata: current-snapshot-id: missing \(or -1\) while refs\.main points at snapshot \d+$/,
      );
      const loaded = await s.catalog.loadTable(table);
      assert.equal(loaded?.metadataLocation, r.metadataLocation);
      const committed = decodeMetadata(readFileSync(r.metadataLocation!), r.metadataLocation!);
      assert.equal(committed.json['current-snapshot-id'], s.v8json['current-snapshot-id']);
      assert.deepEqual(findMetadataProblems(committed.json), []);
      assert.deepEqual(checksums(s.warehouse), before, 'the replica was modified');
    } finally {
      await s.catalog.close();
    }
  });

  it('commits nothing when no version is valid, naming file and field (exit code 4)', async () => {
    const s = await setup('hostile-none');
    try {
      const v9 = writeV9(s, (j) => {
        const snaps = j.snapshots as JsonObject[];
        snaps[0]!['sequence-number'] = (j['last-sequence-number'] as bigint) + 7n;
      });
      const before = checksums(s.warehouse);
      await assert.rejects(
        syncTable({ ...s.opts, sourceMetadata: v9 }),
        (err: unknown) =>
          err instanceof CorruptFileError &&
          exitCodeFor(err) === ExitCode.BAD_INPUT &&
          err.message.includes(`${v9}: invalid table metadata: snapshots[0].sequence-number: `) &&
          /is above last-sequence-number/.test(err.message),
      );
      assert.equal(await s.catalog.loadTable(table), undefined, 'nothing registered');
      assert.deepEqual(checksums(s.warehouse), before, 'the replica was modified');
    } finally {
      await s.catalog.close();
    }
  });
});

describe('metadata file names that lie about their codec', () => {
  const cases: { name: string; gzip: boolean; output: string }[] = [
    { name: 'v8.metadata.json', gzip: true, output: 'v8.gz.metadata.json' },
    { name: 'v8.gz.metadata.json', gzip: false, output: 'v8.metadata.json' },
    { name: 'v8.metadata.json.gz', gzip: false, output: 'v8.metadata.json' },
    { name: 'v8.metadata.json.gz', gzip: true, output: 'v8.gz.metadata.json' },
  ];
  for (const c of cases) {
    it(`${c.name} holding ${c.gzip ? 'gzip' : 'plain JSON'} is committed as ${c.output}, in the same codec`, async () => {
      const s = await setup('hostile-codec');
      try {
        const plain = readFileSync(s.v8);
        const source = path.join(s.metaDir, c.name);
        if (source !== s.v8) renameSync(s.v8, source);
        writeFileSync(source, c.gzip ? gzipSync(plain) : plain);
        const before = checksums(s.warehouse);
        const r = await syncTable(s.opts);
        assert.equal(r.status, 'committed');
        assert.equal(r.sourceMetadata, source);
        assert.equal(path.basename(r.metadataLocation!), c.output);
        assert.equal((await s.catalog.loadTable(table))?.metadataLocation, r.metadataLocation);
        const bytes = readFileSync(r.metadataLocation!);
        assert.equal(bytes[0] === 0x1f && bytes[1] === 0x8b, c.gzip, 'the output keeps the source codec');
        assert.deepEqual(readersTakeNameAsGzip(r.metadataLocation!), { java: c.gzip, pyiceberg: c.gzip });
        const v = await verifyTable({
          table,
          catalog: s.catalog,
          mappings: s.mappings,
          metadataRoot: s.metadataRoot,
          resolve,
        });
        assert.deepEqual(v.problems, []);
        assert.deepEqual(checksums(s.warehouse), before, 'the replica was modified');
      } finally {
        await s.catalog.close();
      }
    });
  }

  it('verify reports a catalog metadata file whose name claims another codec, or that readers would refuse', async () => {
    const s = await setup('hostile-verify');
    try {
      const r = await syncTable(s.opts);
      assert.equal(r.status, 'committed');
      const good = r.metadataLocation!;
      const bytes = readFileSync(good);
      // Plain JSON under a gzip name, committed by someone else.
      const lying = path.join(s.metadataRoot, 'v8-copy.gz.metadata.json');
      await s.catalog.commitTable(table, good, lying, bytes);
      const v = await verifyTable({
        table,
        catalog: s.catalog,
        mappings: s.mappings,
        metadataRoot: s.metadataRoot,
        resolve,
      });
      assert.equal(v.ok, false);
      assert.deepEqual(v.problems, [
        { path: lying, problem: `name does not match content: ${metadataNameMismatch(lying, false)}` },
      ]);
      // Metadata without its current snapshot id while refs.main is set.
      const json = decodeMetadata(bytes, good).json;
      delete json['current-snapshot-id'];
      const broken = path.join(s.metadataRoot, 'v8-broken.metadata.json');
      await s.catalog.commitTable(table, lying, broken, encodeMetadata(json));
      const v2 = await verifyTable({
        table,
        catalog: s.catalog,
        mappings: s.mappings,
        metadataRoot: s.metadataRoot,
        resolve,
      });
      assert.equal(v2.ok, false);
      assert.equal(v2.problems.length, 1, JSON.stringify(v2.problems));
      assert.equal(v2.problems[0]!.path, broken);
      assert.match(v2.problems[0]!.problem, /^invalid table metadata: current-snapshot-id: missing/);
    } finally {
      await s.catalog.close();
    }
  });
});

describe("'..' in any path-bearing field of metadata.json", () => {
  const dotted = (p: string) => p.replace('/sales/orders/', '/sales/../sales/orders/');
  const cases: { field: string; mutate: (j: JsonObject) => void; noRules?: boolean }[] = [
    {
      field: 'location',
      mutate: (j) => {
        j.location = `${SOURCE_WAREHOUSE}/sales/../sales/orders`;
      },
    },
    {
      field: 'location',
      noRules: true,
      mutate: (j) => {
        j.location = `${SOURCE_WAREHOUSE}/sales/../sales/orders`;
      },
    },
    {
      field: 'metadata-log[0].metadata-file',
      mutate: (j) => {
        const e = (j['metadata-log'] as JsonObject[])[0]!;
        e['metadata-file'] = dotted(e['metadata-file'] as string);
      },
    },
    {
      field: 'snapshots[1].manifest-list',
      mutate: (j) => {
        const s = (j.snapshots as JsonObject[])[1]!;
        s['manifest-list'] = dotted(s['manifest-list'] as string);
      },
    },
    {
      field: 'statistics[0].statistics-path',
      mutate: (j) => {
        j.statistics = [
          {
            'snapshot-id': j['current-snapshot-id']!,
            'statistics-path': `${SOURCE_TABLE}/metadata/../metadata/s.stats`,
            'file-size-in-bytes': 10n,
            'file-footer-size-in-bytes': 5n,
            'blob-metadata': [],
          },
        ];
      },
    },
    {
      field: 'partition-statistics[0].statistics-path',
      mutate: (j) => {
        j['partition-statistics'] = [
          {
            'snapshot-id': j['current-snapshot-id']!,
            'statistics-path': `${SOURCE_TABLE}/metadata/../metadata/p.parquet`,
            'file-size-in-bytes': 10n,
          },
        ];
      },
    },
    {
      field: 'properties.write.data.path',
      mutate: (j) => {
        (j.properties as JsonObject)['write.data.path'] = `${SOURCE_TABLE}/../orders/data`;
      },
    },
  ];
  for (const c of cases) {
    it(`is refused naming the file and ${c.field}${c.noRules ? ' (no --map rules)' : ''}`, async () => {
      const s = await setup('hostile-dots');
      try {
        const v9 = writeV9(s, c.mutate);
        const before = checksums(s.warehouse);
        await assert.rejects(
          syncTable({ ...s.opts, ...(c.noRules ? { mappings: [] } : {}) }),
          (err: unknown) =>
            err instanceof InvalidPathError &&
            exitCodeFor(err) === ExitCode.BAD_INPUT &&
            err.message.startsWith(`${v9}: ${c.field} '`) &&
            err.message.endsWith("': path contains '.' or '..' segments"),
        );
        assert.equal(await s.catalog.loadTable(table), undefined, 'nothing registered');
        assert.deepEqual(checksums(s.warehouse), before, 'the replica was modified');
      } finally {
        await s.catalog.close();
      }
    });
  }

  it('in a manifest list, is refused naming the list and manifest_path', async () => {
    const s = await setup('hostile-dots-list');
    try {
      const current = (s.v8json.snapshots as JsonObject[]).find(
        (x) => x['snapshot-id'] === s.v8json['current-snapshot-id'],
      )!;
      const list = path.join(s.metaDir, path.basename(current['manifest-list'] as string));
      const { header, records } = readAvroFile(readFileSync(list), list);
      const first = records[0] as AvroRecordValue;
      first.manifest_path = String(first.manifest_path).replace('/sales/orders/', '/sales/x/../orders/');
      writeFileSync(list, encodeAvroFile(header, records));
      const before = checksums(s.warehouse);
      await assert.rejects(
        syncTable(s.opts),
        (err: unknown) =>
          err instanceof InvalidPathError &&
          err.message.startsWith(`${list}: manifest_path '${String(first.manifest_path)}'`),
      );
      assert.equal(await s.catalog.loadTable(table), undefined);
      assert.deepEqual(checksums(s.warehouse), before, 'the replica was modified');
    } finally {
      await s.catalog.close();
    }
  });
});
