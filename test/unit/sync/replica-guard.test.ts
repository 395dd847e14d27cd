/**
 * The replica guard decides on real locations: symlinks (of the location, of a parent, dangling),
 * `..`, slashes, bind mounts, letter case only where the file system ignores it; URIs by scheme
 * alias, default port, host and bucket case, exact keys. And it creates nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { addFiles } from '../../../src/addfiles/engine.ts';
import { SqlCatalog } from '../../../src/catalog/sql/index.ts';
import { ConfigError } from '../../../src/errors.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { syncTable } from '../../../src/sync/engine.ts';
import {
  assertOutsideReplica,
  findReplicaOverlaps,
  type GuardedLocation,
  metadataRootOutputs,
} from '../../../src/table/replica-guard.ts';
import { scratchDir } from '../../helpers/paths.ts';
import { treeChanges, treeDigest } from '../../helpers/tree.ts';

const rep = (p: string): GuardedLocation => ({ what: '--replicated-path', path: p });
const out = (p: string): GuardedLocation => ({ what: 'metadata root', path: p });

/** A scratch dir with a replica tree `replica/t/metadata/v1.metadata.json` and an empty `dr/`. */
function tree() {
  const base = scratchDir('guard');
  const replica = path.join(base, 'replica');
  mkdirSync(path.join(replica, 't', 'metadata'), { recursive: true });
  writeFileSync(path.join(replica, 't', 'metadata', 'v1.metadata.json'), '{}');
  mkdirSync(path.join(base, 'dr'));
  return { base, replica };
}

async function overlap(replica: string, output: string, opts = {}): Promise<string | undefined> {
  return (await findReplicaOverlaps([rep(replica)], [out(output)], opts))[0]?.message;
}

/** Whether the file system under `dir` ignores letter case (probed independently of the guard). */
function fsIgnoresCase(dir: string): boolean {
  const probe = path.join(dir, 'case-probe');
  writeFileSync(probe, '');
  return existsSync(path.join(dir, 'CASE-PROBE'));
}

describe('replica guard: local paths', () => {
  it('refuses a metadata root that is a symlink into the replica, naming where it resolves', async () => {
    const { base, replica } = tree();
    const link = path.join(base, 'dr', 'meta');
    symlinkSync(path.join(replica, 't', 'metadata'), link);
    const m = await overlap(replica, link);
    assert.equal(
      m,
      `metadata root ${link} resolves to ${path.join(replica, 't', 'metadata')}, inside the replicated tree ${replica} (--replicated-path)`,
    );
  });

  it('refuses a metadata root below a parent that is a symlink into the replica, existing or not yet', async () => {
    const { base, replica } = tree();
    symlinkSync(path.join(replica, 't'), path.join(base, 'dr', 'tbl'));
    for (const tail of ['metadata', 'not/yet/there']) {
      const p = path.join(base, 'dr', 'tbl', tail);
      const m = await overlap(replica, p);
      assert.match(m ?? '', new RegExp(`resolves to ${path.join(replica, 't', tail)}, inside`));
    }
  });

  it('follows a dangling symlink by its text: creating below it would create in the replica', async () => {
    const { base, replica } = tree();
    const link = path.join(base, 'dr', 'dangling');
    symlinkSync(path.join(replica, 'new-dir'), link);
    const m = await overlap(replica, path.join(link, 'meta'));
    assert.match(m ?? '', /resolves to .*replica\/new-dir\/meta, inside the replicated tree/);
    assert.equal(existsSync(path.join(replica, 'new-dir')), false, 'nothing was created');
  });

  it('sees through `..`, repeated and trailing slashes, and a symlinked replica', async () => {
    const { base, replica } = tree();
    assert.ok(await overlap(replica, `${base}/dr/../replica/t/metadata`));
    assert.ok(await overlap(`${replica}//`, `${replica}/t//metadata/`));
    assert.ok(await overlap(replica, replica), 'equal is inside');
    const replicaLink = path.join(base, 'replica-link');
    symlinkSync(replica, replicaLink);
    const m = await overlap(replicaLink, path.join(replica, 'dr'));
    assert.match(m ?? '', new RegExp(`inside the replicated tree ${replicaLink} \\(${replica}\\)`));
    assert.ok(await overlap(replica, `file://${replica}/t/meta`), 'file: URIs are local paths');
  });

  it('lets through siblings that share a name prefix, parents of the replica, and other trees', async () => {
    const { base, replica } = tree();
    assert.equal(await overlap(replica, `${replica}2/meta`), undefined);
    assert.equal(await overlap(replica, `${replica}-dr`), undefined);
    assert.equal(await overlap(replica, base), undefined, 'a parent of the replica is not inside it');
    assert.equal(await overlap(replica, path.join(base, 'dr', 'meta')), undefined);
    await assertOutsideReplica([rep(replica)], metadataRootOutputs(path.join(base, 'dr', 'meta')));
  });

  it('folds letter case only where the file system ignores it', async () => {
    const { base, replica } = tree();
    const ignores = fsIgnoresCase(base);
    // The replica exists: its identity (device and inode) decides, whatever the spelling.
    const upper = path.join(base, 'REPLICA', 't', 'meta');
    assert.equal((await overlap(replica, upper)) !== undefined, ignores);
    // The replica does not exist yet: the text decides, folded only on a case-insensitive file system.
    const future = path.join(base, 'future-replica');
    assert.equal((await overlap(future, path.join(base, 'FUTURE-replica', 'm'))) !== undefined, ignores);
    assert.ok(await overlap(future, path.join(future, 'm')));
  });

  it('recognises a bind mount of the replica by device and inode', async (t) => {
    const { base, replica } = tree();
    const mnt = path.join(base, 'mnt');
    mkdirSync(mnt);
    const mount = spawnSync('mount', ['--bind', replica, mnt], { encoding: 'utf8' });
    if (mount.status !== 0) {
      t.skip(`bind mounts need privileges here (${mount.stderr.trim() || 'mount failed'})`);
      return;
    }
    try {
      assert.equal(statSync(mnt).ino, statSync(replica).ino);
      const m = await overlap(replica, path.join(mnt, 't', 'dr-meta'));
      assert.match(
        m ?? '',
        new RegExp(
          `^metadata root ${mnt}/t/dr-meta lies in ${mnt}, which is the directory of the replicated tree ${replica} .*same device and inode`,
        ),
      );
    } finally {
      spawnSync('umount', [mnt]);
    }
  });

  it('checks the sub-directories a run writes to: a state directory that is a symlink into the replica', async () => {
    const { base, replica } = tree();
    const root = path.join(base, 'dr', 'meta');
    mkdirSync(root);
    symlinkSync(path.join(replica, 't'), path.join(root, '.iceberg-sync'));
    await assert.rejects(
      assertOutsideReplica([rep(replica)], metadataRootOutputs(root)),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.startsWith(
          `state directory ${root}/.iceberg-sync resolves to ${replica}/t, inside the replicated tree ${replica} (--replicated-path)`,
        ) &&
        err.message.endsWith('The replica is never written: choose a location outside it'),
    );
  });

  it('names every overlap in one error, and creates nothing while checking', async () => {
    const { base, replica } = tree();
    const before = treeDigest(base);
    const err = await assertOutsideReplica(
      [rep(replica), { what: '--map target', path: path.join(base, 'other') }],
      [
        { what: 'SQLite catalog file', path: path.join(replica, 'iceberg_catalog.db') },
        ...metadataRootOutputs(path.join(replica, 'x', 'y', 'metadata')),
        { what: 'copy plan', path: path.join(base, 'other', 'plan.csv') },
      ],
    ).catch((e: unknown) => e);
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /SQLite catalog file .*iceberg_catalog\.db is inside the replicated tree/);
    assert.match(err.message, /metadata root .*x\/y\/metadata is inside/);
    assert.match(
      err.message,
      /copy plan .*other\/plan\.csv is inside the replicated tree .*other \(--map target\)/,
    );
    assert.deepEqual(treeChanges(before, treeDigest(base)), []);
  });
});

describe('replica guard: URIs', () => {
  it('S3: scheme aliases and bucket names compare alike, object keys exactly, at segment boundaries', async () => {
    const m = await overlap('s3://dr-bucket/replica', 's3a://DR-Bucket/replica/sales/metadata');
    assert.equal(
      m,
      'metadata root s3a://DR-Bucket/replica/sales/metadata is inside the replicated tree s3://dr-bucket/replica (--replicated-path): same bucket, and its key prefix lies within the replicated one',
    );
    assert.ok(await overlap('s3n://b/replica/', 's3://b/replica'), 'equal, trailing slash');
    assert.equal(
      await overlap('s3://b/replica', 's3://b/Replica/meta'),
      undefined,
      'keys are case-sensitive',
    );
    assert.equal(await overlap('s3://b/replica', 's3://b/replica-dr/meta'), undefined);
    assert.equal(await overlap('s3://b/replica', 's3://other/replica/meta'), undefined);
    assert.equal(await overlap('s3://b/replica', 's3://b/dr'), undefined);
    assert.ok(await overlap('s3://b', 's3://b/anything'), 'a whole replicated bucket');
  });

  it('HDFS: hdfs, webhdfs and swebhdfs on one host are one file system; default ports; configured NameNodes', async () => {
    assert.ok(await overlap('hdfs://nn:8020/replica', 'webhdfs://NN:9870/replica/meta'));
    assert.ok(await overlap('hdfs://nn/replica', 'hdfs://nn:8020/replica/t'));
    assert.ok(await overlap('swebhdfs://nn:9871/replica', 'hdfs://nn/replica/t'));
    assert.equal(
      await overlap('hdfs://nn/replica', 'hdfs://nn/Replica/t'),
      undefined,
      'paths are case-sensitive',
    );
    assert.equal(await overlap('hdfs://nn/replica', 'hdfs://other/replica/t'), undefined);
    // An HA nameservice and one of its NameNodes spelled as a WebHDFS address.
    const hdfsNamenodes = (p: string) =>
      p.startsWith('hdfs://drns') ? ['http://dr-nn1:9870', 'http://dr-nn2:9870'] : [];
    assert.ok(await overlap('hdfs://drns/replica', 'webhdfs://dr-nn2:9870/replica/meta', { hdfsNamenodes }));
    assert.equal(
      await overlap('hdfs://drns/replica', 'webhdfs://dr-nn3:9870/replica/meta', { hdfsNamenodes }),
      undefined,
    );
  });

  it('never confuses a local path with a remote one', async () => {
    assert.equal(await overlap('s3://replica/x', '/replica/x/meta'), undefined);
    assert.equal(await overlap('/replica', 's3://replica/meta'), undefined);
    assert.equal(await overlap('/replica', 'file://otherhost/replica/meta'), undefined);
  });
});

describe('replica guard in the library calls (before the lock or any output)', () => {
  it('syncTable and addFiles refuse a metadata root that resolves into the replica, writing nothing', async () => {
    const { base, replica } = tree();
    const link = path.join(base, 'dr', 'into-replica');
    symlinkSync(path.join(replica, 't'), link);
    const catalog = await SqlCatalog.open({ name: 'dr', uri: 'sqlite://' });
    try {
      const before = treeDigest(base);
      const table = { namespace: ['db'], name: 't' };
      const refused = (err: unknown) =>
        err instanceof ConfigError &&
        err.message.includes(`resolves to ${path.join(replica, 't', 'metadata')}, inside`);
      await assert.rejects(
        syncTable({
          table,
          catalog,
          tableLocation: path.join(replica, 't'),
          metadataRoot: path.join(link, 'metadata'),
        }),
        refused,
      );
      await assert.rejects(
        addFiles({
          table,
          catalog,
          resolve: new StorageRouter().resolver,
          dataPath: replica,
          metadataRoot: path.join(link, 'metadata'),
          create: {},
        }),
        refused,
      );
      assert.deepEqual(treeChanges(before, treeDigest(base)), []);
    } finally {
      await catalog.close();
    }
  });
});
