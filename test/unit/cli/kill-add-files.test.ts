/**
 * add-files killed (SIGKILL) at any moment: the catalog is at the last commit or the new one, never
 * in between; whatever it points at verifies; no file is ever tracked twice; the next run adds the
 * rest; the replicated directory is untouched.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { SqlCatalog } from '../../../src/catalog/sql/sql.ts';
import {
  manifestEntryView,
  manifestFileView,
  readManifest,
  readManifestList,
} from '../../../src/iceberg/manifest-codec.ts';
import { decodeMetadata } from '../../../src/iceberg/metadata-json.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { cliBin as bin, killedCliRun } from '../../helpers/cli.ts';
import { scratchDir, snapshotTree } from '../../helpers/paths.ts';

const killedRun = (args: string[], when: RegExp | undefined, afterMs?: number) =>
  killedCliRun(['add-files', ...args], when, afterMs);

/** The files the committed table tracks (asserting none twice), or none before the first commit. */
async function tracked(catalogDb: string): Promise<string[]> {
  const resolve = new StorageRouter().resolver;
  const catalog = await SqlCatalog.open({ name: 'dr', uri: `sqlite:///${catalogDb}`, storageFor: resolve });
  try {
    const loaded = await catalog.loadTable({ namespace: ['db'], name: 'events' });
    if (!loaded) return [];
    const doc = decodeMetadata(readFileSync(loaded.metadataLocation), loaded.metadataLocation);
    const snap = doc.metadata.snapshots.find((s) => s.snapshotId === doc.metadata.currentSnapshotId);
    if (!snap?.manifestList) return [];
    const out: string[] = [];
    const list = await readManifestList(readFileSync(snap.manifestList), snap.manifestList);
    for (const rec of list.records) {
      const mf = manifestFileView(rec);
      for (const r of (await readManifest(readFileSync(mf.manifestPath), mf.manifestPath)).records) {
        out.push(manifestEntryView(r).dataFile.filePath);
      }
    }
    assert.equal(new Set(out).size, out.length, 'no file is tracked twice');
    return out.sort();
  } finally {
    await catalog.close();
  }
}

describe('add-files killed at any moment', () => {
  it('leaves the catalog at a whole commit, and the next run adds the rest exactly once', async () => {
    const base = scratchDir('kill-addfiles');
    const data = path.join(base, 'replica', 'events');
    const past = new Date(Date.now() - 3_600_000);
    const all: string[] = [];
    const writeBatch = (from: number, n: number) => {
      for (let i = from; i < from + n; i++) {
        const file = path.join(data, `day=${i % 7}`, `part-${String(i).padStart(4, '0')}.parquet`);
        mkdirSync(path.dirname(file), { recursive: true });
        const ids = Array.from({ length: 50 }, (_, r) => BigInt(i * 50 + r));
        writeFileSync(
          file,
          new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'id', data: ids, type: 'INT64' }] })),
        );
        utimesSync(file, past, past);
        all.push(file);
      }
    };
    const args = [
      '--warehouse',
      path.join(base, 'dr'),
      '--database',
      'db',
      '--table',
      'events',
      '--replicated-path',
      data,
      '--create',
      '--partition-by',
      'day:int',
      '--concurrency',
      '2',
    ];
    const catalogDb = path.join(base, 'dr', 'iceberg_catalog.db');
    mkdirSync(path.dirname(catalogDb), { recursive: true });
    const cues: (RegExp | number)[] = [
      /read \d+\/\d+ footers/,
      /writing manifests/,
      /committing snapshot/,
      40,
      120,
      250,
    ];
    let batch = 0;
    for (const cue of cues) {
      writeBatch(batch * 60, 60);
      batch++;
      const replicaBefore = snapshotTree(data);
      const before = await tracked(catalogDb);
      const r = await killedRun(
        args,
        typeof cue === 'number' ? undefined : cue,
        typeof cue === 'number' ? cue : undefined,
      );
      if (typeof cue !== 'number') assert.ok(r.sawCue, `cue ${cue} was reached before the run ended`);
      const after = await tracked(catalogDb);
      // Either nothing of this batch is committed, or all of what was there.
      assert.ok(
        after.length === before.length || after.length === all.length,
        `cue ${cue}: ${after.length} tracked (before ${before.length}, listed ${all.length})`,
      );
      for (const p of before) assert.ok(after.includes(p), `cue ${cue}: ${p} stays tracked`);
      assert.deepEqual(snapshotTree(data), replicaBefore, `cue ${cue}: the replica is untouched`);
      if (r.code === null) {
        const verify = spawnSync(process.execPath, [bin, 'verify', ...args.slice(0, 8), '--json'], {
          encoding: 'utf8',
        });
        if (after.length) assert.equal(verify.status, 0, `cue ${cue}: verify after a kill: ${verify.stdout}`);
      }
    }
    const finish = spawnSync(process.execPath, [bin, 'add-files', ...args, '--json'], { encoding: 'utf8' });
    assert.equal(finish.status, 0, finish.stderr);
    assert.deepEqual(await tracked(catalogDb), [...all].sort(), 'every file tracked exactly once');
    const rerun = spawnSync(process.execPath, [bin, 'add-files', ...args, '--json'], { encoding: 'utf8' });
    const report = JSON.parse(rerun.stdout.trim().split('\n').at(-1) ?? '{}') as {
      status: string;
      footersRead: number;
    };
    assert.equal(report.status, 'up-to-date');
    assert.equal(report.footersRead, 0);
  });
});
