/** Table discovery in a replica (bounded listing), the per-table run history, the DistCp grouping. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStorage } from '../../../src/storage/memory/memory.ts';
import type { Storage } from '../../../src/storage/storage.ts';
import { distcpGroups, parseCopyPlan } from '../../../src/sync/copy-plan.ts';
import { silentLogger } from '../../../src/util/logger.ts';
import { discoverTables } from '../../../src/warehouse/discovery.ts';
import {
  appendHistory,
  type HistoryRecord,
  historyPath,
  lagPoints,
  lastRun,
  readHistory,
} from '../../../src/warehouse/history.ts';

const put = (s: Storage, path: string, text = 'x') => s.write(path, new TextEncoder().encode(text));

/** A storage that counts the directories it lists. */
function counting(s: MemoryStorage): { storage: Storage; listed: string[] } {
  const listed: string[] = [];
  const storage: Storage = {
    stat: (p, o) => s.stat(p, o),
    read: (p, r, o) => s.read(p, r, o),
    readStream: (p, o) => s.readStream(p, o),
    write: (p, d, o) => s.write(p, d, o),
    delete: (p, o) => s.delete(p, o),
    close: () => s.close(),
    list: (d, o) => {
      listed.push(d);
      return s.list(d, o);
    },
    listDirectories: (d, o) => {
      listed.push(`${d}/`);
      return s.listDirectories(d, o);
    },
  };
  return { storage, listed };
}

describe('table discovery', () => {
  it('finds tables in both layouts by their metadata directory, never listing data directories', async () => {
    const mem = new MemoryStorage();
    const r = 'memory://replica';
    await put(mem, `${r}/sales/orders/metadata/v3.metadata.json`);
    await put(mem, `${r}/sales/orders/data/region=emea/part-0.parquet`);
    await put(mem, `${r}/web.db/clicks/metadata/00002-abc.metadata.json`);
    await put(mem, `${r}/web.db/clicks/data/dt=2024-01-01/f.parquet`);
    // Not tables: no metadata.json, hidden, underscore.
    await put(mem, `${r}/sales/notes/readme.txt`);
    await put(mem, `${r}/sales/empty/metadata/version-hint.text`);
    await put(mem, `${r}/.trash/old/metadata/v1.metadata.json`);
    await put(mem, `${r}/sales/_tmp/metadata/v1.metadata.json`);
    const { storage, listed } = counting(mem);
    const found = await discoverTables([r], () => storage);
    assert.deepEqual(
      found.tables.map((t) => [t.key, t.location]),
      [
        ['sales.orders', `${r}/sales/orders`],
        ['web.clicks', `${r}/web.db/clicks`],
      ],
    );
    assert.deepEqual(found.conflicts, []);
    assert.equal(
      listed.some((d) => d.includes('/data')),
      false,
      `listed ${listed}`,
    );
    assert.equal(found.listings, listed.length);
  });

  it('reports a table found at two places as a conflict instead of choosing', async () => {
    const mem = new MemoryStorage();
    await put(mem, 'memory://a/sales/orders/metadata/v1.metadata.json');
    await put(mem, 'memory://a/sales.db/orders/metadata/v1.metadata.json');
    await put(mem, 'memory://b/sales/orders/metadata/v1.metadata.json');
    await put(mem, 'memory://b/sales/items/metadata/v1.metadata.json');
    const found = await discoverTables(['memory://a', 'memory://b'], () => mem);
    assert.deepEqual(
      found.tables.map((t) => t.key),
      ['sales.items'],
    );
    assert.deepEqual(found.conflicts, [
      {
        key: 'sales.orders',
        locations: ['memory://a/sales/orders', 'memory://a/sales.db/orders', 'memory://b/sales/orders'],
      },
    ]);
  });
});

describe('run history', () => {
  it('appends one JSON line per run and keeps the newest lines, in short files', async () => {
    const mem = new MemoryStorage();
    const root = 'memory://dr/wh/sales/orders/metadata';
    const append = (i: number, maxLines: number) =>
      appendHistory(
        () => mem,
        root,
        {
          runId: `run-${i}`,
          at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
          durationMs: i,
          command: 'sync-all',
          status: i === 6 ? 'failed' : 'committed',
          missingFiles: 0,
          ...(i === 6
            ? {
                error: {
                  code: 'STORAGE',
                  message: 'cannot reach http://user:hunter2@nn:9870 after 4 attempts',
                },
              }
            : {}),
        },
        { maxLines, logger: silentLogger },
      );
    for (let i = 0; i < 7; i++) await append(i, 5);
    const all = await readHistory(() => mem, root);
    assert.deepEqual(
      all.map((r) => r.runId).slice(-5),
      ['run-2', 'run-3', 'run-4', 'run-5', 'run-6'],
      'oldest first, the newest 5 kept',
    );
    const last = await lastRun(() => mem, root);
    assert.equal(last?.runId, 'run-6');
    assert.equal(last?.status, 'failed');
    assert.doesNotMatch(last!.error!.message, /hunter2/, 'credentials masked');
    const count = async (p: string) =>
      (await mem.stat(p))
        ? new TextDecoder()
            .decode(await mem.read(p))
            .split('\n')
            .filter(Boolean).length
        : 0;
    assert.equal(await count(historyPath(root)), 2, 'the current file: the runs since it was rotated');
    assert.equal(await count(historyPath(root, 1)), 5, 'the full one moved to history.1.jsonl');
    // Bounded: however many runs, at most maxLines plus one short file are kept.
    for (let i = 7; i < 40; i++) await append(i, 5);
    const kept = await readHistory(() => mem, root);
    assert.ok(kept.length >= 5 && kept.length <= 10, `${kept.length} lines kept`);
    assert.equal(kept.at(-1)?.runId, 'run-39');
    assert.equal(await mem.stat(historyPath(root, 2)), undefined, 'no second older file for 5 lines');
    assert.equal(
      (await mem.stat(`${root}/.iceberg-sync/history.lock`)) === undefined,
      true,
      'its lock released',
    );
  });

  it('loses no line when many runs of a table finish at once', async () => {
    const mem = new MemoryStorage();
    const root = 'memory://dr/t/metadata';
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        appendHistory(
          () => mem,
          root,
          {
            runId: `r${i}`,
            at: new Date().toISOString(),
            durationMs: 0,
            command: 'sync-all',
            status: 'up-to-date',
            missingFiles: 0,
          },
          { logger: silentLogger },
        ),
      ),
    );
    assert.equal((await readHistory(() => mem, root)).length, 12);
  });

  it('has no history before the first run', async () => {
    assert.equal(await lastRun(() => new MemoryStorage(), 'memory://x/metadata'), undefined);
  });
});

describe('lag points of the run history', () => {
  it('times each at its run end, infers 0 for old lines at the newest version, leaves unknowns out', () => {
    const rec = (at: string, status: string, lagSeconds?: number): HistoryRecord => ({
      runId: at,
      at,
      durationMs: 1500,
      command: 'watch',
      status,
      missingFiles: 0,
      ...(lagSeconds !== undefined ? { lagSeconds } : {}),
    });
    assert.deepEqual(
      lagPoints([
        rec('2026-01-01T00:00:00.000Z', 'up-to-date'),
        rec('2026-01-01T00:05:00.000Z', 'behind', 42.5),
        rec('2026-01-01T00:10:00.000Z', 'behind'),
        rec('2026-01-01T00:15:00.000Z', 'failed'),
        rec('2026-01-01T00:20:00.000Z', 'committed'),
        rec('not a time', 'committed', 1),
      ]),
      [
        { at: '2026-01-01T00:00:01.500Z', lagSeconds: 0 },
        { at: '2026-01-01T00:05:01.500Z', lagSeconds: 42.5 },
        { at: '2026-01-01T00:20:01.500Z', lagSeconds: 0 },
      ],
    );
  });
});

describe('DistCp lists', () => {
  it('reads the copy plan back and groups sources by target directory', () => {
    const plan = [
      'hdfs://prod/wh/t/data/a=1/f1.parquet,/dr/wh/t/data/a=1/f1.parquet',
      '"hdfs://prod/wh/t/data/a=x,y/f2.parquet","/dr/wh/t/data/a=x,y/f2.parquet"',
      'hdfs://prod/wh/t/data/a=1/f3.parquet,/dr/wh/t/data/a=1/f3.parquet',
      'hdfs://prod/wh/t/metadata/snap-1.avro,/dr/wh/t/metadata/snap-1.avro',
      'hdfs://prod/wh/t/metadata/odd.avro,/dr/wh/t/metadata/renamed.avro',
      '',
    ].join('\n');
    const pairs = parseCopyPlan(plan);
    assert.equal(pairs.length, 5);
    assert.deepEqual(pairs[1], {
      source: 'hdfs://prod/wh/t/data/a=x,y/f2.parquet',
      target: '/dr/wh/t/data/a=x,y/f2.parquet',
    });
    const { groups, renamed } = distcpGroups(pairs);
    assert.deepEqual(groups, [
      {
        targetDir: '/dr/wh/t/data/a=1',
        sources: ['hdfs://prod/wh/t/data/a=1/f1.parquet', 'hdfs://prod/wh/t/data/a=1/f3.parquet'],
      },
      { targetDir: '/dr/wh/t/data/a=x,y', sources: ['hdfs://prod/wh/t/data/a=x,y/f2.parquet'] },
      { targetDir: '/dr/wh/t/metadata', sources: ['hdfs://prod/wh/t/metadata/snap-1.avro'] },
    ]);
    assert.equal(renamed.length, 1, 'a pair whose name changes cannot be copied by a list');
  });
});
