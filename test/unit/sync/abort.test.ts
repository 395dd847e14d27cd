/**
 * Stopping a run through its AbortSignal, as a long-running host (watch) would: the run fails with
 * AbortedError, the catalog stays at the snapshot committed before, the run lock is released, and
 * the next run picks up where the last good one left off. On a copy of the bundled sample replica.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { addFiles } from '../../../src/addfiles/engine.ts';
import { SqlCatalog } from '../../../src/catalog/sql/sql.ts';
import { AbortedError, ExitCode, exitCodeFor } from '../../../src/errors.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { syncTable } from '../../../src/sync/engine.ts';
import { verifyTable } from '../../../src/sync/verify.ts';
import type { ProgressEvent } from '../../../src/table/progress.ts';
import { repoRoot, scratchDir } from '../../helpers/paths.ts';

const SOURCE_WAREHOUSE = 'hdfs://prod-nn:8020/warehouse';

/** The sample copied to a scratch directory, a SQLite catalog beside it, and sync options. */
async function setup(label: string) {
  const base = scratchDir(label);
  cpSync(path.join(repoRoot, 'examples', 'replica'), path.join(base, 'replica'), { recursive: true });
  const warehouse = path.join(base, 'replica', 'warehouse');
  const tableLocation = path.join(warehouse, 'sales', 'orders');
  const versions = readdirSync(path.join(tableLocation, 'metadata'))
    .map((n) => Number(/^v(\d+)\.metadata\.json$/.exec(n)?.[1] ?? -1))
    .filter((v) => v >= 0)
    .sort((a, b) => a - b);
  assert.ok(versions.length >= 2, 'the sample has several versions');
  const resolve = new StorageRouter().resolver;
  const catalog = await SqlCatalog.open({
    name: 'dr',
    uri: `sqlite:///${base}/iceberg_catalog.db`,
    storageFor: resolve,
  });
  const opts = {
    table: { namespace: ['sales'], name: 'orders' },
    catalog,
    tableLocation,
    mappings: [{ source: SOURCE_WAREHOUSE, target: warehouse }],
    metadataRoot: path.join(base, 'dr', 'sales', 'orders', 'metadata'),
    resolve,
  };
  const older = path.join(tableLocation, 'metadata', `v${versions.at(-2)}.metadata.json`);
  return { opts, catalog, older };
}

/** A controller that aborts when the run announces `phase`. */
function abortAt(phase: ProgressEvent['phase']) {
  const controller = new AbortController();
  const seen: ProgressEvent['phase'][] = [];
  const onProgress = (e: ProgressEvent) => {
    seen.push(e.phase);
    if (e.phase === phase && !controller.signal.aborted) controller.abort(new Error(`stopped at ${phase}`));
  };
  return { signal: controller.signal, onProgress, seen };
}

describe('aborting a sync run', () => {
  for (const phase of ['rewrite', 'commit'] as const) {
    it(`at the ${phase} step: AbortedError, the catalog at the last good snapshot, the lock released`, async () => {
      const { opts, catalog, older } = await setup(`abort-${phase}`);
      try {
        const first = await syncTable({ ...opts, sourceMetadata: older });
        assert.equal(first.status, 'committed');
        const good = (await catalog.loadTable(opts.table))?.metadataLocation;
        assert.equal(good, first.metadataLocation);

        const stop = abortAt(phase);
        await assert.rejects(
          syncTable({ ...opts, signal: stop.signal, onProgress: stop.onProgress }),
          (err) => {
            assert.ok(err instanceof AbortedError, `an AbortedError, not ${(err as Error)?.name}`);
            assert.equal(err.code, 'ABORTED');
            assert.match(err.message, new RegExp(`stopped at ${phase}`));
            assert.equal(exitCodeFor(err), ExitCode.ABORTED);
            return true;
          },
        );
        assert.ok(stop.seen.includes(phase), `the run reached the ${phase} step`);
        assert.equal((await catalog.loadTable(opts.table))?.metadataLocation, good, 'nothing committed');

        // The lock is gone and the checkpoint consistent: the next run commits the newest version.
        const next = await syncTable(opts);
        assert.equal(next.status, 'committed');
        assert.notEqual(next.metadataLocation, good);
        assert.equal((await catalog.loadTable(opts.table))?.metadataLocation, next.metadataLocation);
        const v = await verifyTable({ ...opts, mappings: opts.mappings });
        assert.deepEqual(v.problems, []);
      } finally {
        await catalog.close();
      }
    });
  }

  it('fails at once, writing nothing, when the signal is already aborted', async () => {
    const { opts, catalog } = await setup('abort-before');
    try {
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(syncTable({ ...opts, signal: controller.signal }), AbortedError);
      assert.equal(await catalog.loadTable(opts.table), undefined);
      assert.equal(existsSync(opts.metadataRoot), false, 'nothing written, not even the lock');
      assert.equal((await syncTable(opts)).status, 'committed', 'no lock was left behind');
    } finally {
      await catalog.close();
    }
  });
});

describe('aborting an add-files run', () => {
  it('at the commit step: AbortedError, the table at its last snapshot, the lock released', async () => {
    const base = scratchDir('abort-add-files');
    const sampleData = path.join(
      repoRoot,
      'examples',
      'replica',
      'warehouse',
      'sales',
      'orders',
      'data',
      'region=emea',
    );
    const dataFiles = readdirSync(sampleData).filter((n) => n.endsWith('.parquet') && !n.includes('deletes'));
    assert.ok(dataFiles.length >= 2, 'the sample has several data files');
    const landing = path.join(base, 'landing');
    mkdirSync(landing);
    cpSync(path.join(sampleData, dataFiles[0]!), path.join(landing, dataFiles[0]!));
    const resolve = new StorageRouter().resolver;
    const catalog = await SqlCatalog.open({
      name: 'dr',
      uri: `sqlite:///${base}/iceberg_catalog.db`,
      storageFor: resolve,
    });
    try {
      const opts = {
        table: { namespace: ['raw'], name: 'orders' },
        catalog,
        resolve,
        dataPath: landing,
        metadataRoot: path.join(base, 'dr', 'raw', 'orders', 'metadata'),
        create: { partitionBy: [] },
      };
      const first = await addFiles(opts);
      assert.equal(first.status, 'committed');
      assert.equal(first.filesAdded, 1);
      const good = (await catalog.loadTable(opts.table))?.metadataLocation;

      cpSync(path.join(sampleData, dataFiles[1]!), path.join(landing, dataFiles[1]!));
      const controller = new AbortController();
      const onProgress = (e: { phase: string }) => {
        if (e.phase === 'commit') controller.abort(new Error('stopped at commit'));
      };
      await assert.rejects(addFiles({ ...opts, signal: controller.signal, onProgress }), (err) => {
        assert.ok(err instanceof AbortedError, `an AbortedError, not ${(err as Error)?.name}`);
        assert.match(err.message, /stopped at commit/);
        return true;
      });
      assert.equal((await catalog.loadTable(opts.table))?.metadataLocation, good, 'nothing committed');

      const next = await addFiles(opts);
      assert.equal(next.status, 'committed', 'the lock was released');
      assert.equal(next.filesAdded, 1);
      assert.notEqual(next.metadataLocation, good);
    } finally {
      await catalog.close();
    }
  });
});
