/**
 * The catalog contract run over every catalog type and store: the SQL catalog on SQLite and on
 * PostgreSQL (when IMSYNC_PG_URL names a server), and the Hadoop layout on local disk, in memory
 * and on S3 (when IMSYNC_S3_ENDPOINT names a server), Iceberg's reference REST catalog (plain and
 * behind OAuth2 with tokens that expire during the suite), and AWS Glue on its emulator (when
 * scripts/start-glue.sh started one: each setup gets a private, empty instance). A suite whose server is absent is skipped
 * with the reason. A new catalog type adds its harness here.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { after } from 'node:test';
import pg from 'pg';
import { HadoopCatalog } from '../../src/catalog/hadoop/hadoop.ts';
import { RestCatalog } from '../../src/catalog/rest/rest.ts';
import { SqlCatalog } from '../../src/catalog/sql/sql.ts';
import { LocalStorage } from '../../src/storage/local/local.ts';
import { MemoryStorage } from '../../src/storage/memory/memory.ts';
import { S3Storage } from '../../src/storage/s3/s3.ts';
import type { Storage } from '../../src/storage/storage.ts';
import { glueSkipReason, glueTestCatalog, type PrivateGlue, startPrivateGlue } from '../helpers/glue.ts';
import { scratchDir } from '../helpers/paths.ts';
import { type RestServer, restSkipReason, startRestServer } from '../helpers/rest.ts';
import { createBucket, s3Server, s3SkipReason, storageOptions } from '../helpers/s3.ts';
import { type CatalogHarness, catalogContract } from './catalog.contract.ts';

const pgUrl = process.env.IMSYNC_PG_URL;
const pgSkip: string | false = pgUrl
  ? false
  : 'no PostgreSQL: IMSYNC_PG_URL is unset (start one with `source scripts/start-postgres.sh`; scripts/test.sh does)';

/** Storages the harnesses opened, closed at the end. */
const storages: Storage[] = [];
/** Private Glue emulators, stopped at the end. */
const glues: PrivateGlue[] = [];
/** PostgreSQL schemas made for the suite, dropped at the end. */
const schemas: string[] = [];
/** REST servers started for the suite, stopped at the end. */
const restServers: RestServer[] = [];
after(async () => {
  for (const s of storages) await s.close();
  for (const r of restServers) await r.stop();
  for (const g of glues) await g.stop();
  if (pgUrl && schemas.length > 0) {
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.end();
  }
});

/** A Hadoop-layout catalog over `storage`, its warehouse at `warehouse`. */
function hadoopOn(storage: Storage, warehouse: string) {
  storages.push(storage);
  return {
    open: async () => new HadoopCatalog({ name: 'dr', warehouse, storage }),
    warehouse,
    resolve: () => storage,
  };
}

const harnesses: CatalogHarness[] = [
  {
    name: 'SQL on SQLite',
    dropsTables: true,
    skip: false,
    listsEmptyNamespaces: true,
    setup: async () => {
      const dir = scratchDir('contract-sqlite');
      const storage = new LocalStorage();
      const warehouse = path.join(dir, 'warehouse');
      return {
        open: () =>
          SqlCatalog.open({ name: 'dr', uri: `sqlite:///${dir}/catalog.db`, storageFor: () => storage }),
        warehouse,
        resolve: () => storage,
      };
    },
  },
  {
    name: 'SQL on PostgreSQL',
    dropsTables: true,
    skip: pgSkip,
    listsEmptyNamespaces: true,
    setup: async () => {
      // A fresh schema, reached through the URI's search_path.
      const schema = `imsync_contract_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.end();
      schemas.push(schema);
      const url = new URL(pgUrl!);
      url.searchParams.set('options', `-c search_path=${schema}`);
      const storage = new LocalStorage();
      return {
        open: () => SqlCatalog.open({ name: 'dr', uri: url.toString(), storageFor: () => storage }),
        warehouse: path.join(scratchDir('contract-pg'), 'warehouse'),
        resolve: () => storage,
      };
    },
  },
  {
    name: 'Hadoop layout on local disk',
    dropsTables: false,
    skip: false,
    listsEmptyNamespaces: false,
    setup: async () => hadoopOn(new LocalStorage(), scratchDir('contract-hadoop')),
  },
  {
    name: 'Hadoop layout in memory',
    dropsTables: false,
    skip: false,
    listsEmptyNamespaces: false,
    setup: async () => hadoopOn(new MemoryStorage(), 'memory://contract/warehouse'),
  },
  {
    name: 'Hadoop layout on S3',
    dropsTables: false,
    skip: s3SkipReason,
    listsEmptyNamespaces: false,
    setup: async () => {
      const server = s3Server!;
      return hadoopOn(new S3Storage(storageOptions(server)), `s3://${await createBucket(server)}/warehouse`);
    },
  },
  {
    name: 'REST (Iceberg reference server)',
    dropsTables: true,
    skip: restSkipReason,
    listsEmptyNamespaces: true,
    setup: () => restOn({}),
  },
  {
    // Tokens live 2 s: the suite outlives several, so refresh before expiry (and on 401) is exercised.
    name: 'REST behind OAuth2 client credentials',
    dropsTables: true,
    skip: restSkipReason,
    listsEmptyNamespaces: true,
    setup: () => restOn({ credential: 'contract-client:contract-secret', tokenTtlSeconds: 2 }),
  },
  {
    name: 'AWS Glue (emulator)',
    dropsTables: true,
    skip: glueSkipReason,
    listsEmptyNamespaces: true,
    nestsNamespaces: false,
    setup: async () => {
      const glue = await startPrivateGlue();
      glues.push(glue);
      const storage = new LocalStorage();
      // A page size of 2, so that listing pages through NextToken.
      return {
        open: async () => glueTestCatalog(glue.endpoint, () => storage, { pageSize: 2 }),
        warehouse: path.join(scratchDir('contract-glue'), 'warehouse'),
        resolve: () => storage,
      };
    },
  },
];

/** A private reference REST catalog (a fresh database), its metadata under a scratch warehouse. */
async function restOn(o: { credential?: string; tokenTtlSeconds?: number }) {
  const server = await startRestServer(o);
  restServers.push(server);
  const storage = new LocalStorage();
  return {
    open: () =>
      RestCatalog.open({
        name: 'dr',
        uri: server.uri,
        storageFor: () => storage,
        ...(o.credential ? { credential: o.credential } : {}),
      }),
    warehouse: path.join(scratchDir('contract-rest'), 'warehouse'),
    resolve: () => storage,
  };
}

for (const h of harnesses) catalogContract(h);
