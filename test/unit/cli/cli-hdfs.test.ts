/**
 * The command line on HDFS (Hadoop's MiniDFSCluster, started by scripts/start-hdfs.sh): the sample
 * replica copied to a DR nameservice, HDFS settings from the configuration file (Hadoop-style
 * `dfs.namenode.http-address.<ns>.<nn>` catalog properties with `hdfs.user`, or the `storage:`
 * section). Skipped, saying why, without a cluster.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { envWithout, runCli } from '../../helpers/cli.ts';
import { hdfsServer, hdfsSkipReason, uniqueDir, uploadDirToHdfs } from '../../helpers/hdfs.ts';
import { repoRoot, scratchDir } from '../../helpers/paths.ts';
import { requireServer } from '../../helpers/requires.ts';
import { freePort } from '../../helpers/s3.ts';

/** The CLI without the machine's own ICEBERG_SYNC_* / PYICEBERG_* settings. */
const cli = (args: string[]) => runCli(args, envWithout(/^(ICEBERG_SYNC_|PYICEBERG_)/), 120_000);
const SOURCE_WAREHOUSE = 'hdfs://prod-nn:8020/warehouse';
const sampleWarehouse = path.join(repoRoot, 'examples', 'replica', 'warehouse');

describe('iceberg-sync CLI on HDFS', requireServer('HDFS', hdfsSkipReason), () => {
  const server = hdfsServer!;
  const nn = hdfsServer ? new URL(hdfsServer.namenode).host : '';
  let dir: string;

  before(async () => {
    dir = uniqueDir('cli');
    await uploadDirToHdfs(server, sampleWarehouse, `${dir}/replica`);
  });

  const tableArgs = () => [
    '--database',
    'sales',
    '--table',
    'orders',
    '--replicated-path',
    `hdfs://drns${dir}/replica`,
    '--map',
    `${SOURCE_WAREHOUSE}=hdfs://drns${dir}/replica`,
  ];

  it('plans and syncs with Hadoop-style nameservice properties; re-run up to date; verify, inspect and add-files pass', () => {
    const base = scratchDir('cli-hdfs');
    const config = path.join(base, '.iceberg-sync.yaml');
    writeFileSync(
      config,
      [
        'catalog:',
        '  dr:',
        `    uri: sqlite:///${base}/iceberg_catalog.db`,
        `    warehouse: hdfs://drns${dir}/dr-props`,
        '    dfs.ha.namenodes.drns: nn1',
        `    dfs.namenode.http-address.drns.nn1: ${nn}`,
        `    hdfs.user: ${server.user}`,
        '',
      ].join('\n'),
    );
    const args = ['--config', config, '--catalog', 'dr', ...tableArgs()];
    const plan = cli(['plan', ...args, '--json']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.equal(plan.json?.status, 'planned');
    const first = cli(['sync', ...args, '--json']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json?.status, 'committed');
    assert.equal(first.json?.missingFiles, 0);
    assert.match(
      first.json?.metadataLocation as string,
      new RegExp(`^hdfs://drns${dir}/dr-props/sales/orders/metadata/[^/]+\\.metadata\\.json$`),
    );
    const again = cli(['sync', ...args, '--json', '--quiet']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json?.status, 'up-to-date');
    const v = cli(['verify', ...args, '--json']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.equal(v.json?.ok, true);
    const inspected = cli([
      'inspect',
      `hdfs://drns${dir}/replica/sales/orders`,
      '--config',
      config,
      '--json',
    ]);
    assert.equal(inspected.code, 0, inspected.stderr);
    const prefixes = ((inspected.json?.prefixes ?? []) as { prefix: string }[]).map((p) => p.prefix);
    assert.ok(
      prefixes.some((p) => p.startsWith(`${SOURCE_WAREHOUSE}/`)),
      prefixes.join(', '),
    );

    // add-files from the replica's data directory on HDFS into another table, metadata on HDFS.
    const landing = [
      '--config',
      config,
      '--catalog',
      'dr',
      '--database',
      'landing',
      '--table',
      'orders',
      '--replicated-path',
      `hdfs://drns${dir}/replica/sales/orders/data`,
    ];
    const adding = [...landing, '--exclude', '**/*-deletes.parquet', '--settle', '0', '--json'];
    const added = cli(['add-files', ...adding, '--create', '--partition-by', 'region']);
    assert.equal(added.code, 0, added.stdout + added.stderr);
    assert.equal(added.json?.status, 'committed');
    assert.ok((added.json?.filesAdded as number) > 0);
    assert.match(
      added.json?.metadataLocation as string,
      new RegExp(`^hdfs://drns${dir}/dr-props/landing/orders/metadata/`),
    );
    const addedAgain = cli(['add-files', ...adding, '--quiet']);
    assert.equal(addedAgain.json?.status, 'up-to-date');
    assert.equal(addedAgain.json?.footersRead, 0);
    const v2 = cli(['verify', ...landing, '--json']);
    assert.equal(v2.code, 0, v2.stdout + v2.stderr);
  });

  it('applies the storage: section; exits 6 naming the path on a permission error and on a NameNode that is gone', async () => {
    const base = scratchDir('cli-hdfs-storage');
    const config = path.join(base, 'catalogs.yaml');
    const write = (namenodes: string, user: string) =>
      writeFileSync(
        config,
        [
          'catalog:',
          '  dr:',
          `    uri: sqlite:///${base}/c.db`,
          `    warehouse: hdfs://drns${dir}/dr-storage`,
          'storage:',
          '  hdfs://drns:',
          `    hdfs.namenodes: ${namenodes}`,
          `    hdfs.user: ${user}`,
          '    hdfs.max-attempts: 2',
          '    hdfs.request-timeout: 5',
          '',
        ].join('\n'),
      );
    // Another user may read the replica but not write under the superuser's directories.
    write(server.namenode, 'alice');
    const denied = cli(['sync', '--config', config, '--catalog', 'dr', ...tableArgs(), '--json']);
    assert.equal(denied.code, 6, denied.stderr);
    assert.equal((denied.json?.error as { code: string } | undefined)?.code, 'PERMISSION_DENIED');
    assert.match(
      denied.stderr,
      new RegExp(
        `^iceberg-sync: error: hdfs://drns${dir}/\\S+: permission denied \\(WebHDFS \\w+.*AccessControlException`,
        'm',
      ),
    );
    // Nobody listens on the NameNode address: a storage error naming the path, no hang.
    write(`http://127.0.0.1:${await freePort()}`, server.user);
    const t0 = Date.now();
    const gone = cli(['sync', '--config', config, '--catalog', 'dr', ...tableArgs(), '--json']);
    assert.equal(gone.code, 6, gone.stderr);
    assert.match(
      gone.stderr,
      new RegExp(`hdfs://drns${dir}/\\S+: WebHDFS \\w+ failed: cannot reach .*ECONNREFUSED`),
    );
    assert.ok(Date.now() - t0 < 30_000);
    write(server.namenode, server.user);
    const ok = cli(['sync', '--config', config, '--catalog', 'dr', ...tableArgs(), '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.json?.status, 'committed');
    // A typo in the storage: section is a usage error naming the setting.
    writeFileSync(
      config,
      `catalog:\n  dr:\n    uri: sqlite:///${base}/c.db\nstorage:\n  hdfs://drns:\n    hdfs.usr: x\n`,
    );
    const typo = cli(['sync', '--config', config, '--catalog', 'dr', ...tableArgs(), '--json']);
    assert.equal(typo.code, 2, typo.stderr);
    assert.match(typo.stderr, /storage\.hdfs:\/\/drns\.hdfs\.usr: unknown setting/);
  });
});
