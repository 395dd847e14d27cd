/**
 * syncAll through the library: stopping through the signal (no new table starts), an add-files
 * table named by the policy, a named table the replica lacks, a table found at two places, and
 * onTableDone once per table.
 */
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../src/util/logger.ts';
import { loadPolicy } from '../../../src/warehouse/policy.ts';
import { syncAll } from '../../../src/warehouse/run.ts';
import { warehouseStatus } from '../../../src/warehouse/status.ts';
import type { WarehouseTableReport } from '../../../src/warehouse/types.ts';
import { sampleTable, sampleWarehouseSite } from '../../helpers/sample-warehouse.ts';

describe('syncAll', () => {
  it('starts no new table once the signal aborts; the tables not started are skipped (exit 8)', async () => {
    const w = sampleWarehouseSite('wh-abort', 2);
    const policy = await loadPolicy(w.config, { concurrency: 1, include: ['sales.*', 'web.t*'] });
    const controller = new AbortController();
    const done: WarehouseTableReport[] = [];
    const run = await syncAll(policy, {
      signal: controller.signal,
      logger: silentLogger,
      onTableDone: (r) => {
        done.push(r);
        if (done.length === 1) controller.abort();
      },
    });
    assert.equal(run.exitCode, 8);
    assert.equal(run.status, 'aborted');
    assert.equal(run.tables.length, 4);
    assert.equal(run.tables[0]!.status, 'committed');
    for (const t of run.tables.slice(1)) {
      assert.equal(t.status, 'skipped', t.table);
      assert.equal(t.error?.code, 'ABORTED');
    }
    assert.deepEqual(
      done.map((d) => d.table),
      run.tables.map((t) => t.table),
      'onTableDone once per table',
    );
    // The next run picks up where it stopped.
    const again = await syncAll(policy, { logger: silentLogger });
    assert.deepEqual(
      again.tables.map((t) => t.status),
      ['up-to-date', 'committed', 'committed', 'committed'],
    );
  });

  it('runs an add-files table the policy names, and reports named tables it cannot run', async () => {
    const w = sampleWarehouseSite(
      'wh-addfiles',
      1,
      [
        '  tables:',
        '    landing.orders_files:',
        '      mode: add-files',
        '      location: LANDING',
        '      settle: 0',
        "      create: { partition-by: ['region'] }",
        "      exclude: ['**/*-deletes.parquet']",
        '    sales.gone: { rpo: 5m }',
        '',
      ].join('\n'),
    );
    const landing = path.join(w.base, 'landing');
    cpSync(path.join(sampleTable, 'data'), landing, { recursive: true });
    const { readFileSync, writeFileSync } = await import('node:fs');
    writeFileSync(w.config, readFileSync(w.config, 'utf8').replace('LANDING', landing));
    // A table found twice: as sales/dup and sales.db/dup.
    cpSync(sampleTable, path.join(w.replica, 'sales', 'dup'), { recursive: true });
    cpSync(sampleTable, path.join(w.replica, 'sales.db', 'dup'), { recursive: true });
    const policy = await loadPolicy(w.config, { include: ['landing.*', 'sales.*'] });
    const run = await syncAll(policy, { logger: silentLogger });
    const t = new Map(run.tables.map((x) => [x.table, x]));
    const files = t.get('landing.orders_files')!;
    assert.equal(files.status, 'committed', JSON.stringify(files.error));
    assert.equal(files.filesRewritten, 6, 'the six data files added');
    assert.equal(t.get('sales.t0')?.status, 'committed');
    assert.equal(t.get('sales.gone')?.status, 'failed');
    assert.equal(t.get('sales.gone')?.error?.code, 'NOT_FOUND');
    assert.equal(t.get('sales.gone')?.exitCode, 6);
    assert.equal(t.get('sales.dup')?.status, 'failed');
    assert.equal(t.get('sales.dup')?.error?.code, 'CONFIG');
    assert.match(t.get('sales.dup')!.error!.message, /sales\/dup and .*sales\.db\/dup/);
    assert.equal(run.exitCode, 2, 'the conflict (configuration) ranks first');
    // status of an add-files table (no replicated metadata): the time since its last good run.
    const rows = new Map((await warehouseStatus(policy, { logger: silentLogger })).map((r) => [r.table, r]));
    const landingRow = rows.get('landing.orders_files')!;
    assert.equal(landingRow.drSnapshotId, files.snapshotId);
    assert.equal(landingRow.lastRun?.status, 'committed');
    assert.ok(
      landingRow.lagSeconds !== undefined && landingRow.lagSeconds >= 0 && landingRow.lagSeconds < 600,
    );
    assert.equal(landingRow.withinThreshold, true);
    assert.equal(rows.get('sales.gone')?.error?.code, 'NOT_FOUND');
    assert.equal(rows.get('sales.gone')?.thresholdSeconds, 300, 'its own rpo');
  });
});
