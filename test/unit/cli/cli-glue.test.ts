/**
 * The command line with an AWS Glue catalog (the emulator): `--catalog-type glue --catalog-uri`
 * without a configuration file (credentials from the AWS default chain), a `.pyiceberg.yaml`-style
 * file with `glue.*` settings, and plan, sync, verify and add-files through both. Plan creates
 * nothing; the replica is byte-identical after every run; secrets never appear in the output.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetDatabaseCommand, GetTableCommand, type GlueClient } from '@aws-sdk/client-glue';
import { envWithout, runCli, runCliAsync } from '../../helpers/cli.ts';
import { glueEndpoint, glueEnv, glueSkipReason, glueTestClient, uniqueDatabase } from '../../helpers/glue.ts';
import { writeDataFile } from '../../helpers/parquet-files.ts';
import { scratchDir } from '../../helpers/paths.ts';
import { requireServer } from '../../helpers/requires.ts';
import { sampleSite, sampleSourcePrefix } from '../../helpers/sample-site.ts';
import { treeChanges, treeDigest } from '../../helpers/tree.ts';

/** The environment without any AWS settings of the machine, plus the emulator's dummy keys. */
const awsEnv = () => envWithout(/^AWS_|^PYICEBERG_|^ICEBERG_SYNC_/, glueEnv());
const noKeysEnv = () => envWithout(/^AWS_|^PYICEBERG_|^ICEBERG_SYNC_/, { AWS_EC2_METADATA_DISABLED: 'true' });

/** The sample site's table arguments with the DR metadata under `<dr>/<db>/orders/metadata`. */
function tableArgs(site: ReturnType<typeof sampleSite>, db: string): string[] {
  return [
    '--database',
    db,
    '--table',
    'orders',
    '--table-location',
    site.table,
    '--map',
    `${sampleSourcePrefix}=${site.replica}`,
    '--metadata-root',
    path.join(site.dr, db, 'orders', 'metadata'),
  ];
}

describe('iceberg-sync with a Glue catalog', requireServer('Glue emulator', glueSkipReason), () => {
  const endpoint = glueEndpoint!;
  let client: GlueClient;
  before(() => {
    client = glueTestClient(endpoint);
  });
  after(() => client?.destroy());
  const location = async (db: string, table = 'orders') =>
    (await client.send(new GetTableCommand({ DatabaseName: db, Name: table }))).Table?.Parameters
      ?.metadata_location;

  it('plans (creating nothing), syncs, verifies and is then up to date, with --catalog-type glue --catalog-uri', async () => {
    const site = sampleSite('cli-glue-flags');
    const db = uniqueDatabase('cli');
    const args = ['--catalog-type', 'glue', '--catalog-uri', endpoint, ...tableArgs(site, db)];
    const replica = treeDigest(site.replica);

    const plan = runCli(['plan', ...args, '--json'], awsEnv());
    assert.equal(plan.code, 0, plan.stderr);
    assert.equal(plan.json?.status, 'planned');
    await assert.rejects(client.send(new GetDatabaseCommand({ Name: db })), {
      name: 'EntityNotFoundException',
    });
    assert.equal(existsSync(site.dr), false, 'plan wrote nothing');

    const sync = runCli(['sync', ...args, '--json'], awsEnv());
    assert.equal(sync.code, 0, sync.stderr);
    assert.equal(sync.json?.status, 'committed');
    assert.equal(await location(db), sync.json?.metadataLocation);
    assert.ok(existsSync(String(sync.json?.metadataLocation)));

    const verify = runCli(['verify', ...args, '--json'], awsEnv());
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    const again = runCli(['sync', ...args, '--json'], awsEnv());
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json?.status, 'up-to-date');
    assert.deepEqual(treeChanges(replica, treeDigest(site.replica)), []);
  });

  it('reads glue.* settings from a configuration file, and keeps its secrets out of every message', async () => {
    const site = sampleSite('cli-glue-config');
    const db = uniqueDatabase('cfg');
    const secret = 'SeCrEt-glue-key-5f1c9a';
    const token = 'ToKeN-glue-session-77b2';
    const config = (ep: string) => {
      const file = path.join(site.base, `glue-${ep.replace(/\W/g, '')}.yaml`);
      writeFileSync(
        file,
        [
          'catalog:',
          '  dr:',
          '    type: glue',
          `    glue.endpoint: ${ep}`,
          '    glue.region: us-east-1',
          '    glue.access-key-id: imsync-test',
          `    glue.secret-access-key: ${secret}`,
          `    glue.session-token: ${token}`,
          '    glue.max-retries: 1',
          `    warehouse: ${site.dr}`,
          '',
        ].join('\n'),
      );
      return file;
    };
    const args = ['--database', db, '--table', 'orders', '--table-location', site.table];
    const map = ['--map', `${sampleSourcePrefix}=${site.replica}`];
    const ok = runCli(['sync', '--config', config(endpoint), ...args, ...map, '--json'], noKeysEnv());
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.json?.status, 'committed');
    // The default metadata root is under the warehouse.
    assert.ok(String(ok.json?.metadataLocation).startsWith(path.join(site.dr, db, 'orders', 'metadata')));
    assert.equal(await location(db), ok.json?.metadataLocation);
    for (const out of [ok.stdout, ok.stderr]) {
      assert.ok(!out.includes(secret) && !out.includes(token), 'no secret in the output');
    }

    // Glue unreachable: a clear error naming the endpoint, exit 6, no secret anywhere.
    const down = 'http://127.0.0.1:9';
    const failed = runCli(['sync', '--config', config(down), ...args, ...map, '--json'], noKeysEnv());
    assert.equal(failed.code, 6, failed.stderr);
    assert.match(failed.stderr + failed.stdout, /cannot reach Glue at http:\/\/127\.0\.0\.1:9/);
    for (const out of [failed.stdout, failed.stderr]) {
      assert.ok(!out.includes(secret) && !out.includes(token), 'no secret in the output');
    }
    // A key without its secret is a usage error.
    const half = path.join(site.base, 'half.yaml');
    writeFileSync(
      half,
      `catalog:\n  dr:\n    type: glue\n    glue.access-key-id: imsync-test\n    warehouse: ${site.dr}\n`,
    );
    const bad = runCli(['plan', '--config', half, ...args, ...map], noKeysEnv());
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /glue\.secret-access-key/);
  });

  it('takes credentials from a named AWS profile (glue.profile-name)', async () => {
    const site = sampleSite('cli-glue-profile');
    const db = uniqueDatabase('prof');
    const credentials = path.join(site.base, 'aws-credentials');
    writeFileSync(
      credentials,
      '[dr-site]\naws_access_key_id = imsync-profile\naws_secret_access_key = profile-secret\n',
    );
    const file = path.join(site.base, 'profile.yaml');
    writeFileSync(
      file,
      `catalog:\n  dr:\n    type: glue\n    glue.endpoint: ${endpoint}\n    glue.region: us-east-1\n    glue.profile-name: dr-site\n    glue.max-retries: 0\n`,
    );
    const args = ['sync', '--config', file, ...tableArgs(site, db), '--json'];
    const env = {
      ...noKeysEnv(),
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_CONFIG_FILE: `${credentials}.none`,
    };
    const ok = runCli(args, env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.json?.status, 'committed');
    assert.ok(!ok.stderr.includes('profile-secret'));
    // A profile that does not exist: no credentials, a clear error (exit 6), nothing committed.
    const db2 = uniqueDatabase('noprof');
    writeFileSync(
      file,
      `catalog:\n  dr:\n    type: glue\n    glue.endpoint: ${endpoint}\n    glue.region: us-east-1\n    glue.profile-name: nowhere\n`,
    );
    const missing = runCli(['sync', '--config', file, ...tableArgs(site, db2), '--json'], env);
    assert.equal(missing.code, 6, missing.stderr);
    assert.match(missing.stderr, /credential|profile/i);
    await assert.rejects(client.send(new GetDatabaseCommand({ Name: db2 })), {
      name: 'EntityNotFoundException',
    });
  });

  it('adds files into a Glue table (add-files --create), then appends', async () => {
    const base = scratchDir('cli-glue-addfiles');
    const data = path.join(base, 'replica', 'clicks');
    const db = uniqueDatabase('web');
    writeDataFile(path.join(data, 'a.parquet'), [1n, 2n], { notes: false });
    const common = [
      '--catalog-type',
      'glue',
      '--catalog-uri',
      endpoint,
      '--warehouse',
      path.join(base, 'dr'),
      '--database',
      db,
      '--table',
      'clicks',
      '--replicated-path',
      data,
    ];
    const replica = treeDigest(data);
    const created = runCli(['add-files', ...common, '--create', '--json'], awsEnv());
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.json?.status, 'committed');
    assert.equal(created.json?.filesAdded, 1);
    const first = await location(db, 'clicks');
    assert.ok(first && existsSync(first), String(first));
    assert.deepEqual(treeChanges(replica, treeDigest(data)), []);
    writeDataFile(path.join(data, 'b.parquet'), [3n], { notes: false });
    const appended = runCli(['add-files', ...common, '--json'], awsEnv());
    assert.equal(appended.code, 0, appended.stderr);
    assert.equal(appended.json?.filesAdded, 1);
    const second = await location(db, 'clicks');
    assert.notEqual(second, first);
    const t = (await client.send(new GetTableCommand({ DatabaseName: db, Name: 'clicks' }))).Table;
    assert.equal(t?.Parameters?.previous_metadata_location, first);
    assert.deepEqual(
      t?.StorageDescriptor?.Columns?.map((c) => [c.Name, c.Type]),
      [['id', 'bigint']],
    );
    const verify = runCli(['verify', ...common], awsEnv());
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
  });

  it('lets one of two syncs started at once win; the other is up to date or refused with exit 5', async () => {
    const site = sampleSite('cli-glue-two');
    const db = uniqueDatabase('two');
    const args = [
      'sync',
      '--catalog-type',
      'glue',
      '--catalog-uri',
      endpoint,
      ...tableArgs(site, db),
      '--json',
    ];
    const runs = await Promise.all([runCliAsync(args, awsEnv()), runCliAsync(args, awsEnv())]);
    const reports = runs.map((r) => {
      try {
        return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as { status?: string };
      } catch {
        return {};
      }
    });
    const won = reports.filter((r) => r.status === 'committed');
    assert.equal(won.length, 1, runs.map((r) => `${r.code} ${r.stderr}`).join('\n'));
    for (const [i, r] of runs.entries()) {
      if (reports[i]?.status === 'committed') assert.equal(r.code, 0);
      else
        assert.ok(
          r.code === 5 || (r.code === 0 && reports[i]?.status === 'up-to-date'),
          `${r.code} ${r.stderr}`,
        );
    }
    const now = await location(db);
    assert.ok(now && existsSync(now));
  });
});
