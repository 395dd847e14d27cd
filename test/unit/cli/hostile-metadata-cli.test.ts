/**
 * The command line on hostile metadata, on copies of the bundled sample: exit codes, messages
 * naming file and field, the catalog's state, and a byte-identical replica.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { SqlCatalog } from '../../../src/catalog/sql/index.ts';
import { decodeMetadata, encodeMetadata } from '../../../src/iceberg/metadata-json.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { cloneJson } from '../../../src/sync/rewrite.ts';
import type { JsonObject } from '../../../src/util/json.ts';
import { runCli } from '../../helpers/cli.ts';
import { listFilesRecursive, repoRoot, scratchDir } from '../../helpers/paths.ts';
import { checksums } from '../../helpers/sample-site.ts';

const SOURCE_WAREHOUSE = 'hdfs://prod-nn:8020/warehouse';

function setup(label: string) {
  const base = scratchDir(label);
  const warehouse = path.join(base, 'replica', 'warehouse');
  cpSync(path.join(repoRoot, 'examples', 'replica'), path.join(base, 'replica'), { recursive: true });
  const tableLocation = path.join(warehouse, 'sales', 'orders');
  const metaDir = path.join(tableLocation, 'metadata');
  const dr = path.join(base, 'dr');
  const args = [
    '--warehouse',
    dr,
    '--database',
    'sales',
    '--table',
    'orders',
    '--replicated-path',
    warehouse,
    '--map',
    `${SOURCE_WAREHOUSE}=${warehouse}`,
  ];
  const v8 = path.join(metaDir, 'v8.metadata.json');
  const v8json = decodeMetadata(readFileSync(v8), v8).json;
  const writeV9 = (mutate: (j: JsonObject) => void) => {
    const json = cloneJson(v8json);
    mutate(json);
    const v9 = path.join(metaDir, 'v9.metadata.json');
    writeFileSync(v9, encodeMetadata(json, { pretty: true }));
    return v9;
  };
  /** The table's metadata location in the DR catalog (the CLI's embedded SQLite), or undefined. */
  const registered = async () => {
    const resolve = new StorageRouter().resolver;
    const catalog = await SqlCatalog.open({
      name: 'dr',
      uri: `sqlite:///${dr}/iceberg_catalog.db`,
      storageFor: resolve,
    });
    try {
      return (await catalog.loadTable({ namespace: ['sales'], name: 'orders' }))?.metadataLocation;
    } finally {
      await catalog.close();
    }
  };
  return { base, warehouse, tableLocation, metaDir, v8, v8json, args, writeV9, registered };
}

describe('CLI on metadata Iceberg readers would refuse', () => {
  it('sync passes over the invalid newest version: exit 3, the skipped file and field named', async () => {
    const s = setup('cli-hostile-invalid');
    const v9 = s.writeV9((j) => delete j['current-snapshot-id']);
    const before = checksums(s.warehouse);
    const r = runCli(['sync', ...s.args, '--json']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.json?.status, 'behind');
    assert.equal(r.json?.sourceMetadata, s.v8);
    const skipped = r.json?.skippedVersions as { metadata: string; reason: string }[];
    assert.equal(skipped[0]?.metadata, v9);
    assert.match(skipped[0]!.reason, /v9\.metadata\.json: invalid table metadata: current-snapshot-id: /);
    assert.match(r.stdout, /^skipped\s+.*v9\.metadata\.json: .*invalid table metadata: current-snapshot-id/m);
    assert.equal(await s.registered(), r.json?.metadataLocation);
    assert.deepEqual(checksums(s.warehouse), before, 'the replica was modified');
  });

  it('sync exits 4 naming file and field when no version is valid; nothing registered', async () => {
    const s = setup('cli-hostile-none');
    const v9 = s.writeV9((j) => {
      (j.refs as JsonObject).main = { 'snapshot-id': 123n, type: 'branch' };
    });
    const before = checksums(s.warehouse);
    const r = runCli(['sync', ...s.args, '--source-metadata', v9, '--json']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      r.stderr,
      /invalid table metadata: refs\.main\.snapshot-id: snapshot 123 is not in snapshots/,
    );
    assert.ok(r.stderr.includes(v9), r.stderr);
    assert.equal((r.json?.error as { code?: string } | undefined)?.code, 'CORRUPT_FILE');
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(await s.registered(), undefined);
    assert.deepEqual(checksums(s.warehouse), before, 'the replica was modified');
  });

  it("sync exits 4 on '..' in a metadata.json path, naming the file and the field", async () => {
    const s = setup('cli-hostile-dots');
    const v9 = s.writeV9((j) => {
      const snap = (j.snapshots as JsonObject[])[0]!;
      snap['manifest-list'] = String(snap['manifest-list']).replace('/orders/', '/orders/../orders/');
    });
    const before = checksums(s.warehouse);
    const r = runCli(['sync', ...s.args]);
    assert.equal(r.code, 4, r.stderr);
    assert.ok(
      r.stderr.includes(`${v9}: snapshots[0].manifest-list '`),
      `the message names file and field: ${r.stderr}`,
    );
    assert.equal(await s.registered(), undefined);
    assert.deepEqual(checksums(s.warehouse), before, 'the replica was modified');
  });
});

describe('CLI inspect on a table with unreadable files', () => {
  /** A manifest of the newest version (the first entry of its current manifest list). */
  function aManifest(s: ReturnType<typeof setup>): string {
    const names = listFilesRecursive(s.metaDir).filter((f) => /-m\d+\.avro$/.test(f));
    assert.ok(names.length > 0);
    return names[0]!;
  }

  it('exits 0 with a complete summary', () => {
    const s = setup('cli-inspect-ok');
    const r = runCli(['inspect', s.tableLocation, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json?.partial, false);
    assert.deepEqual(r.json?.unreadable, []);
    assert.ok((r.json?.dataFiles as number) > 0);
  });

  it('a corrupt manifest: partial summary naming it, exit 4', () => {
    const s = setup('cli-inspect-corrupt');
    const manifest = aManifest(s);
    truncateSync(manifest, 20);
    const full = runCli(['inspect', setup('cli-inspect-ref').tableLocation, '--json']).json!;
    const r = runCli(['inspect', s.tableLocation, '--json']);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.json?.partial, true);
    const unreadable = r.json?.unreadable as {
      path: string;
      field: string;
      in: string;
      reason: string;
      code: string;
    }[];
    assert.equal(unreadable.length, 1, JSON.stringify(unreadable));
    assert.equal(path.basename(unreadable[0]!.path), path.basename(manifest));
    assert.equal(unreadable[0]!.field, 'manifest_path');
    assert.equal(unreadable[0]!.code, 'CORRUPT_FILE');
    assert.ok(unreadable[0]!.reason.includes(manifest), unreadable[0]!.reason);
    const files = (x: Record<string, unknown>) =>
      ['dataFiles', 'positionDeleteFiles', 'deletionVectors', 'equalityDeleteFiles'].reduce(
        (n, k) => n + (x[k] as number),
        0,
      );
    assert.ok(files(r.json!) < files(full), 'the counts cover only what was read');
    assert.match(r.stderr, /the summary is partial: 1 file\(s\) could not be read/);
    const text = runCli(['inspect', s.tableLocation]);
    assert.equal(text.code, 4);
    assert.match(text.stdout, /^PARTIAL\s+1 file\(s\) could not be read/m);
  });

  it('a missing manifest: partial summary naming it, exit 6', () => {
    const s = setup('cli-inspect-missing');
    const manifest = aManifest(s);
    rmSync(manifest);
    const r = runCli(['inspect', s.tableLocation, '--json']);
    assert.equal(r.code, 6, r.stderr);
    assert.equal(r.json?.partial, true);
    const unreadable = r.json?.unreadable as { path: string; code: string }[];
    assert.deepEqual(
      unreadable.map((u) => [path.basename(u.path), u.code]),
      [[path.basename(manifest), 'NOT_FOUND']],
    );
  });
});
