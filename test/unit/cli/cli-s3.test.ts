/**
 * The command line on S3 (a real versitygw server, started by scripts/start-s3.sh): the sample
 * replica in a bucket, S3 settings from the configuration file (PyIceberg's `s3.*` catalog
 * properties, the `storage:` section) or from the standard AWS environment variables. Skipped,
 * saying why, without a server.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { envWithout, runCli } from '../../helpers/cli.ts';
import { repoRoot, scratchDir } from '../../helpers/paths.ts';
import { requireServer } from '../../helpers/requires.ts';
import { createBucket, s3Server, s3SkipReason, uploadDir } from '../../helpers/s3.ts';

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, cleanEnv(env));
const SOURCE_WAREHOUSE = 'hdfs://prod-nn:8020/warehouse';
const sampleWarehouse = path.join(repoRoot, 'examples', 'replica', 'warehouse');

/** The environment without any AWS_* or ICEBERG_SYNC_* / PYICEBERG_* settings of the machine. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  // No shared AWS config files of the machine either.
  return envWithout(/^(AWS_|ICEBERG_SYNC_|PYICEBERG_)/, {
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    ...extra,
  });
}

describe('iceberg-sync CLI on S3', requireServer('S3', s3SkipReason), () => {
  const server = s3Server!;
  let bucket: string;

  before(async () => {
    bucket = await createBucket(server, 'imsync-cli');
    await uploadDir(server, sampleWarehouse, bucket, 'replica');
  });

  const tableArgs = () => [
    '--database',
    'sales',
    '--table',
    'orders',
    '--replicated-path',
    `s3://${bucket}/replica`,
    '--map',
    `${SOURCE_WAREHOUSE}=s3://${bucket}/replica`,
  ];

  it('syncs with s3.* catalog properties from the config file; re-run up to date; verify and inspect pass', () => {
    const base = scratchDir('cli-s3');
    const config = path.join(base, '.iceberg-sync.yaml');
    writeFileSync(
      config,
      [
        'catalog:',
        '  dr:',
        `    uri: sqlite:///${base}/iceberg_catalog.db`,
        `    warehouse: s3://${bucket}/dr-props`,
        `    s3.endpoint: ${server.endpoint}`,
        `    s3.access-key-id: ${server.accessKeyId}`,
        `    s3.secret-access-key: ${server.secretAccessKey}`,
        '    s3.path-style-access: true',
        '',
      ].join('\n'),
    );
    const args = ['--config', config, '--catalog', 'dr', ...tableArgs()];
    const first = cli(['sync', ...args, '--json']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json?.status, 'committed');
    assert.equal(first.json?.missingFiles, 0);
    assert.match(
      first.json?.metadataLocation as string,
      new RegExp(`^s3://${bucket}/dr-props/sales/orders/metadata/[^/]+\\.metadata\\.json$`),
    );
    const again = cli(['sync', ...args, '--json', '--quiet']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json?.status, 'up-to-date');
    assert.equal(again.json?.metadataLocation, first.json?.metadataLocation);
    const v = cli(['verify', ...args, '--json']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.equal(v.json?.ok, true);
    const inspected = cli(['inspect', `s3://${bucket}/replica/sales/orders`, '--config', config, '--json']);
    assert.equal(inspected.code, 0, inspected.stderr);
    const prefixes = ((inspected.json?.prefixes ?? []) as { prefix: string }[]).map((p) => p.prefix);
    assert.ok(
      prefixes.some((p) => p.startsWith(`${SOURCE_WAREHOUSE}/`)),
      prefixes.join(', '),
    );
  });

  it('adds the data files of an S3 landing area with add-files; re-run up to date; verify passes', () => {
    const base = scratchDir('cli-s3-addfiles');
    const config = path.join(base, 'catalogs.yaml');
    writeFileSync(
      config,
      [
        'catalog:',
        '  dr:',
        `    uri: sqlite:///${base}/iceberg_catalog.db`,
        `    warehouse: s3://${bucket}/dr-addfiles`,
        `    s3.endpoint: ${server.endpoint}`,
        `    s3.access-key-id: ${server.accessKeyId}`,
        `    s3.secret-access-key: ${server.secretAccessKey}`,
        '',
      ].join('\n'),
    );
    const args = [
      '--config',
      config,
      '--catalog',
      'dr',
      '--database',
      'landing',
      '--table',
      'orders',
      '--replicated-path',
      `s3://${bucket}/replica/sales/orders/data`,
    ];
    // Just uploaded: without --settle 0 the files would wait for the settle time.
    const adding = [...args, '--exclude', '**/*-deletes.parquet', '--settle', '0', '--json'];
    const first = cli(['add-files', ...adding, '--create', '--partition-by', 'region']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(first.json?.status, 'committed');
    assert.ok((first.json?.filesAdded as number) > 0);
    assert.match(
      first.json?.metadataLocation as string,
      new RegExp(`^s3://${bucket}/dr-addfiles/landing/orders/metadata/`),
    );
    const again = cli(['add-files', ...adding, '--quiet']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json?.status, 'up-to-date');
    assert.equal(again.json?.footersRead, 0);
    const v = cli(['verify', ...args, '--json']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.equal(v.json?.ok, true);
  });

  it('takes the endpoint and keys from AWS_ENDPOINT_URL_S3 and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY', () => {
    const base = scratchDir('cli-s3-env');
    const config = path.join(base, 'catalogs.yaml');
    writeFileSync(
      config,
      `catalog:\n  dr:\n    uri: sqlite:///${base}/c.db\n    warehouse: s3://${bucket}/dr-env\n`,
    );
    const env = {
      AWS_ENDPOINT_URL_S3: server.endpoint,
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
    };
    const r = cli(['sync', '--config', config, '--catalog', 'dr', ...tableArgs(), '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json?.status, 'committed');
    assert.match(r.json?.metadataLocation as string, new RegExp(`^s3://${bucket}/dr-env/`));
  });

  it('applies the storage: section per bucket, and exits 6 naming the path when its keys are refused', () => {
    const base = scratchDir('cli-s3-storage');
    const config = path.join(base, 'catalogs.yaml');
    const write = (secret: string) =>
      writeFileSync(
        config,
        [
          'catalog:',
          '  dr:',
          `    uri: sqlite:///${base}/c.db`,
          `    warehouse: s3://${bucket}/dr-storage`,
          'storage:',
          `  s3://${bucket}:`,
          `    s3.endpoint: ${server.endpoint}`,
          `    s3.access-key-id: ${server.accessKeyId}`,
          `    s3.secret-access-key: ${secret}`,
          '',
        ].join('\n'),
      );
    write(`${server.secretAccessKey}-wrong`);
    const denied = cli(['sync', '--config', config, '--catalog', 'dr', ...tableArgs(), '--json']);
    assert.equal(denied.code, 6, denied.stderr);
    assert.equal((denied.json?.error as { code: string } | undefined)?.code, 'PERMISSION_DENIED');
    assert.match(
      denied.stderr,
      new RegExp(`^iceberg-sync: error: s3://${bucket}/\\S+: permission denied \\(S3 \\w+: `, 'm'),
    );
    write(server.secretAccessKey);
    const ok = cli(['sync', '--config', config, '--catalog', 'dr', ...tableArgs(), '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.json?.status, 'committed');
    // A typo in the storage: section is a usage error naming the setting.
    writeFileSync(
      config,
      `catalog:\n  dr:\n    uri: sqlite:///${base}/c.db\nstorage:\n  s3://${bucket}:\n    s3.endpiont: http://x\n`,
    );
    const typo = cli(['sync', '--config', config, '--catalog', 'dr', ...tableArgs(), '--json']);
    assert.equal(typo.code, 2, typo.stderr);
    assert.match(typo.stderr, new RegExp(`storage\\.s3://${bucket}\\.s3\\.endpiont: unknown setting`));
  });
});
