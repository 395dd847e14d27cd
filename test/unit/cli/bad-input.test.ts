/**
 * The bad-input corpus: hostile replicas, catalogs and machines, each run through the CLI against
 * a copy of the bundled sample. Every case asserts the exit code, that the message names the file
 * at fault, that the replicated tree is byte-identical afterwards (checksums of every file), and
 * where the DR catalog stands.
 *
 * The replica starts at the sample's v6 committed to the DR catalog; then v7 and v8 "arrive" and
 * the case damages something before the next run.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { cliBin, runCli } from '../../helpers/cli.ts';
import { scratchDir } from '../../helpers/paths.ts';
import {
  catalogLocation,
  checksums,
  type SampleSite,
  sampleSite,
  sampleSourcePrefix,
  sampleWarehouse,
} from '../../helpers/sample-site.ts';

const sample = sampleWarehouse;
const sourcePrefix = sampleSourcePrefix;
/** The manifest that only v8's snapshot adds. */
const v8Manifest = '8b6b1649-e122-43df-9592-771fc0c2102c-m0.avro';
/** v8's manifest list. */
const v8ManifestList = 'snap-1744344999796821571-1-8b6b1649-e122-43df-9592-771fc0c2102c.avro';

interface Site extends SampleSite {
  /** Where the catalog stood after the v6 sync. */
  readonly committedV6: string;
}

/** A replica at v6 synced into a fresh DR site, then v7 and v8 replicated. */
function site(prefix: string): Site {
  const s = sampleSite(`bad-${prefix}`);
  const held = path.join(s.base, 'held');
  mkdirSync(held);
  for (const v of ['v7.metadata.json', 'v8.metadata.json'])
    renameSync(path.join(s.metadataDir, v), path.join(held, v));
  const first = runCli(['sync', ...s.args, '--json', '--quiet']);
  assert.equal(first.code, 0, first.stderr);
  for (const v of ['v7.metadata.json', 'v8.metadata.json'])
    renameSync(path.join(held, v), path.join(s.metadataDir, v));
  const committedV6 = catalogLocation(s.dbFile) ?? '';
  assert.ok(committedV6.endsWith('/v6.metadata.json'), String(committedV6));
  return { ...s, committedV6 };
}

/** Overwrites `length` bytes of `file` at `offset` (negative: from the end), keeping its size. */
function garble(file: string, offset: number, length: number): void {
  const b = readFileSync(file);
  const at = offset < 0 ? b.length + offset : offset;
  for (let i = at; i < at + length; i++) b[i] = (b[i] ?? 0) ^ 0x5a;
  writeFileSync(file, b);
}

/** Runs `sync` with the site's arguments and checks that the replica was not written. */
function syncChecked(s: Site, extra: string[] = []) {
  const before = checksums(s.replica);
  const r = runCli(['sync', ...s.args, ...extra, '--json']);
  assert.deepEqual(checksums(s.replica), before, 'the replicated tree is byte-identical');
  assert.doesNotMatch(r.stderr, /\n\s+at .*\(/, 'no stack trace');
  return r;
}

function missingOf(json: Record<string, unknown> | undefined): { target: string; reason: string }[] {
  return (json?.missing ?? []) as { target: string; reason: string }[];
}

describe('bad input: damaged replica files', () => {
  it('a garbled newest metadata.json is skipped; the run commits v7 and says it is behind (exit 3)', () => {
    const s = site('json');
    const v8 = path.join(s.metadataDir, 'v8.metadata.json');
    garble(v8, 100, 40);
    const r = syncChecked(s);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.json?.status, 'behind');
    assert.ok(String(r.json?.metadataLocation).endsWith('/v7.metadata.json'));
    const skipped = (r.json?.skippedVersions ?? []) as { metadata: string; reason: string }[];
    assert.ok(
      skipped.some((v) => v.metadata === v8),
      `v8 named among the skipped versions: ${JSON.stringify(skipped)}`,
    );
    assert.equal(catalogLocation(s.dbFile), r.json?.metadataLocation);
  });

  it('a truncated newest metadata.json (replication in flight) is skipped the same way', () => {
    const s = site('trunc-json');
    const v8 = path.join(s.metadataDir, 'v8.metadata.json');
    truncateSync(v8, 300);
    const r = syncChecked(s);
    assert.equal(r.code, 3, r.stderr);
    const skipped = (r.json?.skippedVersions ?? []) as { metadata: string }[];
    assert.ok(
      skipped.some((v) => v.metadata === v8),
      JSON.stringify(skipped),
    );
    assert.ok(String(catalogLocation(s.dbFile)).endsWith('/v7.metadata.json'));
  });

  it('a garbled manifest of the same size is reported unreadable by name; the catalog moves only to v7', () => {
    const s = site('avro');
    const manifest = path.join(s.metadataDir, v8Manifest);
    garble(manifest, -200, 40);
    const r = syncChecked(s);
    assert.equal(r.code, 3, r.stderr);
    const missing = missingOf(r.json);
    assert.deepEqual(
      missing.map((m) => [m.target, m.reason]),
      [[manifest, 'unreadable']],
    );
    assert.ok(String(catalogLocation(s.dbFile)).endsWith('/v7.metadata.json'));
    // The copy plan names the file to copy again.
    const plan = readFileSync(String(r.json?.copyPlan), 'utf8');
    assert.match(plan, new RegExp(`,${manifest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    // Re-copied, the next run completes.
    cpSync(path.join(sample, 'sales', 'orders', 'metadata', v8Manifest), manifest);
    const again = syncChecked(s);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(String(catalogLocation(s.dbFile)).endsWith('/v8.metadata.json'));
  });

  it('a manifest list cut short is missing by size, named in the report', () => {
    const s = site('list');
    const list = path.join(s.metadataDir, v8ManifestList);
    truncateSync(list, 1000);
    const r = syncChecked(s);
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(
      missingOf(r.json).map((m) => m.target),
      [list],
    );
    assert.ok(String(catalogLocation(s.dbFile)).endsWith('/v7.metadata.json'));
  });

  it('a position-delete file with a garbled footer stops the run (exit 4) naming it; the catalog stays at v6', () => {
    const s = site('parquet');
    // v7 and v8 do not add delete files; a fresh DR site must rewrite the sample's two.
    rmSync(s.dr, { recursive: true });
    const deletes = readdirSync(path.join(s.table, 'data'), { recursive: true })
      .map(String)
      .filter((n) => n.endsWith('-deletes.parquet'))
      .map((n) => path.join(s.table, 'data', n));
    assert.equal(deletes.length, 2);
    garble(deletes[0]!, -30, 20);
    const r = syncChecked(s);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.json?.status, 'failed');
    assert.ok(r.stderr.includes(deletes[0]!), r.stderr);
    assert.equal(catalogLocation(s.dbFile), undefined, 'nothing registered');
  });

  it('a data file that vanished after the v6 commit is missing for v8 only if v8 still needs it', () => {
    const s = site('data');
    const amer = path.join(s.table, 'data', 'region=amer');
    const newest = readdirSync(amer)
      .filter((n) => n.startsWith('00000-12-'))
      .map((n) => path.join(amer, n));
    assert.equal(newest.length, 1, 'v8 adds one file per region');
    rmSync(newest[0]!);
    const r = syncChecked(s);
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(
      missingOf(r.json).map((m) => [m.target, m.reason]),
      [[newest[0], 'missing']],
    );
    assert.ok(String(catalogLocation(s.dbFile)).endsWith('/v7.metadata.json'));
  });
});

describe('bad input: paths', () => {
  it('a path no rule maps fails with exit 4 naming the file and field; the catalog stays at v6', () => {
    const s = site('unmapped');
    const fresh = path.join(s.base, 'dr2');
    const args = s.args.map((a) => (a === s.dr ? fresh : a)).filter((a) => !a.startsWith(sourcePrefix));
    const withRule = [...args.slice(0, args.indexOf('--map')), ...args.slice(args.indexOf('--map') + 1)];
    const before = checksums(s.replica);
    const r = runCli(['sync', ...withRule, '--map', `hdfs://other-nn/warehouse=${s.replica}`, '--json']);
    assert.deepEqual(checksums(s.replica), before);
    assert.equal(r.code, 4, r.stderr);
    assert.equal((r.json?.error as { code?: string } | undefined)?.code, 'UNMAPPED_PATH');
    assert.match(
      r.stderr,
      /v8\.metadata\.json: .*'hdfs:\/\/prod-nn:8020\/warehouse\/sales\/orders.*' matches no --map rule/,
    );
    assert.equal(catalogLocation(path.join(fresh, 'iceberg_catalog.db')), undefined);
    assert.equal(catalogLocation(s.dbFile), s.committedV6);
  });

  it("a '..' segment in metadata.json's manifest-list is refused with exit 4 naming the file", () => {
    const s = site('dotdot');
    const v8 = path.join(s.metadataDir, 'v8.metadata.json');
    const text = readFileSync(v8, 'utf8');
    const climbing = `${sourcePrefix}/sales/orders/metadata/../metadata/${v8ManifestList}`;
    const edited = text.replace(`${sourcePrefix}/sales/orders/metadata/${v8ManifestList}`, climbing);
    assert.notEqual(edited, text);
    writeFileSync(v8, edited);
    const r = syncChecked(s);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.json?.status, 'failed');
    assert.ok(r.stderr.includes(v8), r.stderr);
    assert.ok(r.stderr.includes('..'), r.stderr);
    assert.equal(catalogLocation(s.dbFile), s.committedV6);
  });
});

describe('bad input: the DR catalog', () => {
  it('a corrupt SQLite catalog file fails with exit 6 naming the file; the file is not replaced', () => {
    const s = site('sqlite');
    garble(s.dbFile, 0, 100);
    const damaged = readFileSync(s.dbFile);
    const r = syncChecked(s);
    assert.equal(r.code, 6, r.stderr);
    assert.ok(r.stderr.includes(s.dbFile), r.stderr);
    assert.match(r.stderr, /file is not a database/);
    assert.deepEqual(readFileSync(s.dbFile), damaged, 'the damaged catalog is left for the operator');
  });

  it('a SQLite catalog locked by another writer past the busy timeout fails with exit 6 and commits nothing', async () => {
    const s = site('locked');
    // Another process holds a write lock on the catalog for longer than the 5 s busy timeout.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const { DatabaseSync } = require('node:sqlite');
         const db = new DatabaseSync(${JSON.stringify(s.dbFile)});
         db.exec('BEGIN EXCLUSIVE');
         process.stdout.write('locked\\n');
         setTimeout(() => { db.exec('ROLLBACK'); db.close(); }, 15000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const before = checksums(s.replica);
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cliBin, 'sync', ...s.args, '--json'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      child.on('close', (code) => resolve({ code, stderr }));
    });
    await new Promise<void>((resolve) => holder.on('close', () => resolve()));
    assert.deepEqual(checksums(s.replica), before);
    assert.equal(r.code, 6, r.stderr);
    assert.ok(r.stderr.includes(s.dbFile), r.stderr);
    assert.match(r.stderr, /locked|busy/i);
    assert.equal(catalogLocation(s.dbFile), s.committedV6);
    const after = syncChecked(s);
    assert.equal(after.code, 0, after.stderr);
    assert.ok(String(catalogLocation(s.dbFile)).endsWith('/v8.metadata.json'));
  });
});

describe('bad input: concurrent runs', () => {
  it('four runs at once: every one ends 0 or 5 (lock), the catalog moves once, to v8', async () => {
    const s = site('concurrent');
    const before = checksums(s.replica);
    const runs = await Promise.all(
      [0, 1, 2, 3].map(
        () =>
          new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
            const child = spawn(process.execPath, [cliBin, 'sync', ...s.args, '--json', '--quiet'], {
              stdio: ['ignore', 'pipe', 'pipe'],
            });
            let stdout = '';
            let stderr = '';
            child.stdout.on('data', (c: Buffer) => {
              stdout += c.toString();
            });
            child.stderr.on('data', (c: Buffer) => {
              stderr += c.toString();
            });
            child.on('close', (code) => resolve({ code, stdout, stderr }));
          }),
      ),
    );
    assert.deepEqual(checksums(s.replica), before);
    for (const r of runs) assert.ok(r.code === 0 || r.code === 5, `${r.code}: ${r.stderr}`);
    const committed = runs.filter((r) => r.stdout.includes('"status":"committed"'));
    assert.ok(committed.length >= 1 && committed.length <= 4);
    assert.ok(String(catalogLocation(s.dbFile)).endsWith('/v8.metadata.json'));
    const v = runCli(['verify', ...s.args, '--json']);
    assert.equal(v.code, 0, v.stdout);
  });
});

/** True when this process may mount a tmpfs (root with CAP_SYS_ADMIN). */
function canMountTmpfs(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = scratchDir('mount-probe');
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  return ok;
}

describe('bad input: disk full', {
  skip: canMountTmpfs() ? false : 'needs root to mount a small tmpfs',
}, () => {
  // The metadata root fills up during the incremental run: a small file system holding a copy of
  // the root's contents (v6's outputs) is mounted over it, with `kb` KiB to spare.
  for (const kb of [4, 12, 24, 48]) {
    it(`${kb} KiB left under the metadata root: exit 6 and the catalog stays at v6, or a whole commit; the next run commits v8`, () => {
      const s = site(`full-${kb}`);
      const root = path.join(s.dr, 'sales', 'orders', 'metadata');
      const used = Number(spawnSync('du', ['-sk', root], { encoding: 'utf8' }).stdout.split('\t')[0]);
      const saved = path.join(s.base, 'root-copy');
      cpSync(root, saved, { recursive: true });
      assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${used + kb}k`, 'tmpfs', root]).status, 0);
      let committedOnSmall = false;
      try {
        cpSync(saved, root, { recursive: true });
        const r = syncChecked(s);
        if (r.code === 0) {
          // Everything fitted: the commit is whole.
          committedOnSmall = true;
          assert.ok(String(catalogLocation(s.dbFile)).endsWith('/v8.metadata.json'));
        } else {
          assert.equal(r.code, 6, r.stderr);
          assert.match(r.stderr, /ENOSPC|no space/i);
          assert.equal(catalogLocation(s.dbFile), s.committedV6, 'the catalog keeps its last good state');
        }
      } finally {
        spawnSync('umount', [root]);
      }
      // The small file system is gone with what was written there: a commit made on it now points at
      // a missing file, which the next run notices and writes again.
      const after = syncChecked(s);
      assert.equal(after.code, 0, after.stderr);
      assert.ok(String(catalogLocation(s.dbFile)).endsWith('/v8.metadata.json'));
      if (committedOnSmall) assert.match(String(after.json?.recovered), /is gone/);
      const v = runCli(['verify', ...s.args, '--json']);
      assert.equal(v.code, 0, v.stdout);
    });
  }
});
