/**
 * The command line on Azure (Azurite) and GCS (fake-gcs-server): the sample replica in a container
 * / bucket, settings from the configuration file (PyIceberg's `adls.*` / `gcs.*` catalog
 * properties, the `storage:` section). Every command: inspect, plan (writing nothing), sync
 * (re-run up to date), verify, add-files. On Azure also: a wrong account key exits 6 naming the
 * path without the key, and a `storage:` entry in the `wasbs://` spelling serves `abfss://` paths.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import {
  abfss,
  azuriteServer,
  azuriteSkipReason,
  createContainer,
  listBlobNames,
  uploadDirToAzure,
  wasbs,
} from '../../helpers/azure.ts';
import { envWithout, runCli } from '../../helpers/cli.ts';
import {
  createGcsBucket,
  gcsEndpoint,
  gcsSkipReason,
  listGcsNames,
  uploadDirToGcs,
} from '../../helpers/gcs.ts';
import { repoRoot, scratchDir } from '../../helpers/paths.ts';
import { requireServer } from '../../helpers/requires.ts';

const SOURCE_WAREHOUSE = 'hdfs://prod-nn:8020/warehouse';
const sampleWarehouse = path.join(repoRoot, 'examples', 'replica', 'warehouse');
/** No Azure, Google or tool settings of the machine. */
const cli = (args: string[]) =>
  runCli(args, envWithout(/^(AZURE_|GOOGLE_|STORAGE_EMULATOR_HOST|ICEBERG_SYNC_|PYICEBERG_)/));

interface CloudCli {
  readonly label: string;
  readonly skip: string | false;
  create(): Promise<string>;
  upload(dir: string, c: string, prefix: string): Promise<void>;
  names(c: string, prefix: string): Promise<string[]>;
  at(c: string, rest: string): string;
  /** YAML lines of catalog properties. */
  props(): string[];
}

const clouds: CloudCli[] = [
  {
    label: 'Azure',
    skip: azuriteSkipReason,
    create: () => createContainer(azuriteServer!, 'imsync-cli'),
    upload: (d, c, p) => uploadDirToAzure(azuriteServer!, d, c, p),
    names: (c, p) => listBlobNames(azuriteServer!, c, p),
    at: (c, rest) => abfss(c, rest),
    props: () => [`    adls.connection-string: '${azuriteServer!.connectionString}'`],
  },
  {
    label: 'GCS',
    skip: gcsSkipReason,
    create: () => createGcsBucket(gcsEndpoint!, 'imsync-cli'),
    upload: (d, b, p) => uploadDirToGcs(gcsEndpoint!, d, b, p),
    names: (b, p) => listGcsNames(gcsEndpoint!, b, p),
    at: (b, rest) => `gs://${b}/${rest}`,
    props: () => [`    gcs.service.host: ${gcsEndpoint}`, '    gcs.project-id: imsync-test'],
  },
];

for (const cloud of clouds) {
  describe(`iceberg-sync CLI on ${cloud.label}`, requireServer(cloud.label, cloud.skip), () => {
    let c: string;
    before(async () => {
      c = await cloud.create();
      await cloud.upload(sampleWarehouse, c, 'replica');
    });

    it('inspect, plan (writing nothing), sync, a re-run up to date, verify, and add-files', async () => {
      const base = scratchDir(`cli-${cloud.label.toLowerCase()}`);
      const config = path.join(base, '.iceberg-sync.yaml');
      writeFileSync(
        config,
        [
          'catalog:',
          '  dr:',
          `    uri: sqlite:///${base}/iceberg_catalog.db`,
          `    warehouse: ${cloud.at(c, 'dr')}`,
          ...cloud.props(),
          '',
        ].join('\n'),
      );
      const tableArgs = [
        '--config',
        config,
        '--catalog',
        'dr',
        '--database',
        'sales',
        '--table',
        'orders',
        '--replicated-path',
        cloud.at(c, 'replica'),
        '--map',
        `${SOURCE_WAREHOUSE}=${cloud.at(c, 'replica')}`,
      ];
      const inspected = cli(['inspect', cloud.at(c, 'replica/sales/orders'), '--config', config, '--json']);
      assert.equal(inspected.code, 0, inspected.stderr);
      const prefixes = ((inspected.json?.prefixes ?? []) as { prefix: string }[]).map((p) => p.prefix);
      assert.ok(
        prefixes.some((p) => p.startsWith(`${SOURCE_WAREHOUSE}/`)),
        prefixes.join(', '),
      );

      const before = await cloud.names(c, '');
      const plan = cli(['plan', ...tableArgs, '--json']);
      assert.equal(plan.code, 0, plan.stdout + plan.stderr);
      assert.deepEqual(await cloud.names(c, ''), before, 'plan wrote nothing');

      const first = cli(['sync', ...tableArgs, '--json']);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.json?.status, 'committed');
      assert.equal(first.json?.missingFiles, 0);
      assert.ok(String(first.json?.metadataLocation).startsWith(cloud.at(c, 'dr/sales/orders/metadata/')));
      const again = cli(['sync', ...tableArgs, '--json', '--quiet']);
      assert.equal(again.json?.status, 'up-to-date', again.stderr);
      const v = cli(['verify', ...tableArgs, '--json']);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.equal(v.json?.ok, true);

      const adding = [
        '--config',
        config,
        '--catalog',
        'dr',
        '--database',
        'landing',
        '--table',
        'orders',
        '--replicated-path',
        cloud.at(c, 'replica/sales/orders/data'),
      ];
      const add = cli([
        'add-files',
        ...adding,
        '--exclude',
        '**/*-deletes.parquet',
        '--settle',
        '0',
        '--create',
        '--partition-by',
        'region',
        '--json',
      ]);
      assert.equal(add.code, 0, add.stdout + add.stderr);
      assert.equal(add.json?.status, 'committed');
      assert.ok((add.json?.filesAdded as number) > 0);
      const va = cli(['verify', ...adding, '--json']);
      assert.equal(va.json?.ok, true, va.stdout + va.stderr);
    });
  });
}

describe(
  'iceberg-sync CLI on Azure: credentials and spellings',
  requireServer('Azure', azuriteSkipReason),
  () => {
    it('a wrong account key exits 6 naming the path, never the key; a storage: entry spelled wasbs:// serves abfss://', async () => {
      const server = azuriteServer!;
      const c = await createContainer(server, 'imsync-cli-keys');
      await uploadDirToAzure(server, sampleWarehouse, c, 'replica');
      const base = scratchDir('cli-azure-keys');
      const config = path.join(base, 'catalogs.yaml');
      const wrongKey = Buffer.from('definitely-not-the-account-key-0123456789').toString('base64');
      const write = (key: string) =>
        writeFileSync(
          config,
          [
            'catalog:',
            '  dr:',
            `    uri: sqlite:///${base}/c.db`,
            `    warehouse: ${abfss(c, 'dr')}`,
            'storage:',
            `  ${wasbs(c)}:`,
            `    adls.account-key: '${key}'`,
            `    adls.blob-storage-authority: '${new URL(server.blobEndpoint).host}'`,
            '    adls.blob-storage-scheme: http',
            '',
          ].join('\n'),
        );
      const args = [
        'sync',
        '--config',
        config,
        '--catalog',
        'dr',
        '--database',
        'sales',
        '--table',
        'orders',
        '--replicated-path',
        abfss(c, 'replica'),
        '--map',
        `${SOURCE_WAREHOUSE}=${abfss(c, 'replica')}`,
        '--json',
      ];
      write(wrongKey);
      const denied = cli(args);
      assert.equal(denied.code, 6, denied.stderr);
      assert.equal((denied.json?.error as { code: string } | undefined)?.code, 'PERMISSION_DENIED');
      assert.match(denied.stderr, new RegExp(`abfss://${c}@\\S+: permission denied \\(Azure `));
      for (const out of [denied.stdout, denied.stderr]) assert.ok(!out.includes(wrongKey), out);
      const key = /AccountKey=([^;]+)/.exec(server.connectionString)![1]!;
      write(key);
      const ok = cli(args);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.json?.status, 'committed');
      for (const out of [ok.stdout, ok.stderr]) assert.ok(!out.includes(key), 'no key in the output');
    });
  },
);
