/**
 * The library example (examples/library/warehouse.ts) runs as the README of the examples says and
 * does what it claims, so that it stays true: it is run against the current sources (the
 * package's `iceberg-sync-source` export condition) and its summary and its catalogs are checked.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { repoRoot, scratchDir } from '../helpers/paths.ts';
import { sampleMetadata } from '../helpers/sample-warehouse.ts';

function tablesIn(dbFile: string): string[] {
  const db = new DatabaseSync(dbFile, { readOnly: true });
  try {
    return (
      db.prepare('SELECT table_namespace, table_name FROM iceberg_tables').all() as Record<string, string>[]
    )
      .map((r) => `${r.table_namespace}.${r.table_name}`)
      .sort();
  } finally {
    db.close();
  }
}

describe('examples/library/warehouse.ts', () => {
  it('syncs one table and a small warehouse through the library API', () => {
    const scratch = scratchDir('example');
    const r = spawnSync(
      process.execPath,
      [
        '--conditions=iceberg-sync-source',
        path.join(repoRoot, 'examples', 'library', 'warehouse.ts'),
        scratch,
      ],
      { encoding: 'utf8', cwd: repoRoot },
    );
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    const newest = String(sampleMetadata()['current-snapshot-id']);
    assert.deepEqual(summary.oneTable, { status: 'committed', snapshotId: newest });
    assert.equal(summary.warehouse.status, 'ok');
    assert.equal(summary.warehouse.exitCode, 0);
    assert.deepEqual(summary.warehouse.tables, [
      { table: 'sales.orders', status: 'committed', snapshotId: newest },
      { table: 'web.orders', status: 'committed', snapshotId: newest },
    ]);
    assert.deepEqual(summary.status, [
      { table: 'sales.orders', lagSeconds: 0, withinThreshold: true },
      { table: 'web.orders', lagSeconds: 0, withinThreshold: true },
    ]);
    assert.deepEqual(tablesIn(path.join(scratch, 'one', 'dr', 'catalog.db')), ['sales.orders']);
    assert.deepEqual(
      tablesIn(path.join(scratch, 'warehouse', 'dr', 'catalog.db')),
      ['sales.orders', 'web.orders'],
      'the excluded copy is not synced',
    );
  });
});
