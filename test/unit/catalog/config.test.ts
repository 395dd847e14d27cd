import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { catalogConfig, loadCatalogsConfig, parseCatalogsConfig } from '../../../src/catalog/config.ts';
import { createCatalog } from '../../../src/catalog/index.ts';
import { storageRouter } from '../../../src/cli/context.ts';
import { ConfigError } from '../../../src/errors.ts';
import { LocalStorage } from '../../../src/storage/local/local.ts';
import type { S3Storage } from '../../../src/storage/s3/s3.ts';
import type { WebHdfsStorage } from '../../../src/storage/webhdfs/index.ts';
import { scratchDir } from '../../helpers/paths.ts';

const noEnv = { env: {} };

function configError(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof ConfigError, `${e}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

describe('catalog config', () => {
  it('reads a .pyiceberg.yaml-shaped file', () => {
    const cfg = parseCatalogsConfig(
      `
catalog:
  dr:
    type: sql
    uri: sqlite:////srv/dr/catalog.db
    warehouse: file:///srv/dr/wh
    s3.endpoint: http://minio:9000
  files:
    type: hadoop
    warehouse: /srv/dr/hadoop
`,
      noEnv,
    );
    assert.deepEqual(cfg.catalogs.dr, {
      type: 'sql',
      uri: 'sqlite:////srv/dr/catalog.db',
      warehouse: 'file:///srv/dr/wh',
      initTables: true,
      properties: {
        type: 'sql',
        uri: 'sqlite:////srv/dr/catalog.db',
        warehouse: 'file:///srv/dr/wh',
        's3.endpoint': 'http://minio:9000',
      },
    });
    assert.deepEqual(cfg.catalogs.files, {
      type: 'hadoop',
      warehouse: '/srv/dr/hadoop',
      properties: { type: 'hadoop', warehouse: '/srv/dr/hadoop' },
    });
  });

  it('accepts `catalogs`, type aliases, upper-case keys, a type inferred from the uri, and Java options', () => {
    const cfg = parseCatalogsConfig(
      `
catalogs:
  DR:
    TYPE: JDBC
    URI: jdbc:postgresql://db:5432/iceberg
    jdbc.user: sync
    jdbc.password: pw
    jdbc.init-catalog-tables: false
    busy-timeout-ms: "2500"
    catalog-name: DR
  py:
    uri: postgresql+psycopg2://u:p@db/iceberg
    init_catalog_tables: "False"
  fs:
    type: file
    warehouse: s3://bucket/wh
`,
      noEnv,
    );
    assert.deepEqual(Object.keys(cfg.catalogs), ['dr', 'py', 'fs']);
    const dr = cfg.catalogs.dr;
    assert.ok(dr?.type === 'sql');
    assert.equal(dr.user, 'sync');
    assert.equal(dr.password, 'pw');
    assert.equal(dr.initTables, false);
    assert.equal(dr.busyTimeoutMs, 2500);
    assert.equal(dr.catalogName, 'DR');
    assert.equal(cfg.catalogs.py?.type, 'sql');
    assert.equal((cfg.catalogs.py as { initTables: boolean }).initTables, false);
    assert.equal(cfg.catalogs.fs?.type, 'hadoop');
  });

  it('applies PYICEBERG_ and then ICEBERG_SYNC_ environment overrides', () => {
    const env = {
      PYICEBERG_CATALOG__DR__URI: 'sqlite:////from/pyiceberg.db',
      PYICEBERG_CATALOG__DR__JDBC__USER: 'py-user',
      ICEBERG_SYNC_CATALOG__DR__JDBC__USER: 'sync-user',
      ICEBERG_SYNC_CATALOG__DR__BUSY_TIMEOUT_MS: '100',
      PYICEBERG_CATALOG__NEW_ONE__TYPE: 'hadoop',
      PYICEBERG_CATALOG__NEW_ONE__WAREHOUSE: '/wh',
      PYICEBERG_DEFAULT_CATALOG: 'dr',
      PYICEBERG_HOME: '/home/x',
      PYICEBERG_MAX_WORKERS: '8',
      UNRELATED: 'x',
    };
    const cfg = parseCatalogsConfig('catalog:\n  dr:\n    type: sql\n    uri: sqlite:////from/file.db\n', {
      env,
    });
    const dr = catalogConfig(cfg);
    assert.ok(dr.type === 'sql');
    assert.equal(dr.uri, 'sqlite:////from/pyiceberg.db');
    assert.equal(dr.user, 'sync-user');
    assert.equal(dr.busyTimeoutMs, 100);
    // A catalog can come from the environment alone; `_` in the name reads as `-`, as in PyIceberg.
    assert.deepEqual(cfg.catalogs['new-one'], {
      type: 'hadoop',
      warehouse: '/wh',
      properties: { type: 'hadoop', warehouse: '/wh' },
    });
    // Overrides land in whichever section the file uses.
    const plural = parseCatalogsConfig('catalogs: {}', {
      env: { ICEBERG_SYNC_CATALOG__X__URI: 'sqlite://' },
    });
    assert.equal(catalogConfig(plural, 'X').type, 'sql');
    // And with no file at all.
    assert.equal(
      catalogConfig(parseCatalogsConfig('', { env: { PYICEBERG_CATALOG__X__URI: 'sqlite://' } })).type,
      'sql',
    );
  });

  it('names the offending key in errors', () => {
    configError(
      () => parseCatalogsConfig('catalog:\n  dr:\n    type: sql\n', noEnv),
      'catalog config: catalog.dr.uri: required',
    );
    configError(
      () =>
        parseCatalogsConfig('catalog:\n  dr:\n    type: rest\n    uri: http://x\n', {
          ...noEnv,
          source: 'a.yaml',
        }),
      "a.yaml: catalog.dr.type: unsupported catalog type 'rest' (expected sql, jdbc, hadoop, file or hive)",
    );
    configError(
      () => parseCatalogsConfig('catalog:\n  dr:\n    warehouse: /wh\n', noEnv),
      'catalog config: catalog.dr.type: required (sql, jdbc, hadoop, file or hive)',
    );
    configError(
      () => parseCatalogsConfig('catalogs:\n  dr:\n    type: hadoop\n    warehouse: rel/wh\n', noEnv),
      'catalog config: catalogs.dr.warehouse: must be an absolute path or a URI',
    );
    configError(
      () => parseCatalogsConfig('catalog:\n  dr:\n    type: sql\n    uri: mysql://x\n', noEnv),
      'catalog config: catalog.dr.uri: must be a sqlite:///, jdbc:sqlite:, postgresql:// or jdbc:postgresql:// URI',
    );
    configError(
      () => parseCatalogsConfig('catalog:\n  dr:\n    uri: sqlite://\n    busy-timeout-ms: soon\n', noEnv),
      "catalog config: catalog.dr.busy-timeout-ms: must be a positive whole number (got 'soon')",
    );
    configError(
      () =>
        parseCatalogsConfig('catalog:\n  dr:\n    uri: sqlite://\n    init_catalog_tables: maybe\n', noEnv),
      "catalog config: catalog.dr.init_catalog_tables: must be true or false (got 'maybe')",
    );
    configError(
      () => parseCatalogsConfig('catalog:\n  dr:\n    uri: sqlite://\n    s3: {a: 1}\n', noEnv),
      'catalog config: catalog.dr.s3: must be a string, number or boolean',
    );
    configError(
      () => parseCatalogsConfig('catalog:\n  dr: sqlite://\n', noEnv),
      'catalog config: catalog.dr: must be a mapping of settings',
    );
    configError(
      () => parseCatalogsConfig('catalog: {}\ncatalogs: {}\n', noEnv),
      "catalog config: has both 'catalog' and 'catalogs'; use one",
    );
    configError(
      () => parseCatalogsConfig('- a\n', noEnv),
      "catalog config: must be a mapping with a 'catalog' key",
    );
    assert.throws(() => parseCatalogsConfig('catalog: [\n', noEnv), /catalog config: not valid YAML/);
  });

  it('picks a catalog by name, default-catalog, or as the only one', () => {
    const two = parseCatalogsConfig('catalog:\n  a: {uri: "sqlite://"}\n  b: {uri: "sqlite://"}\n', noEnv);
    configError(() => catalogConfig(two), 'name a catalog: one of a, b');
    configError(() => catalogConfig(two, 'c'), "catalog 'c' is not configured (configured: a, b)");
    assert.equal(catalogConfig(two, 'B').type, 'sql');
    const withDefault = parseCatalogsConfig(
      'default-catalog: B\ncatalog:\n  a: {uri: "sqlite://"}\n  b: {type: file, warehouse: /w}\n',
      noEnv,
    );
    assert.equal(catalogConfig(withDefault).type, 'hadoop');
    configError(() => catalogConfig(parseCatalogsConfig('', noEnv)), 'name a catalog: none configured');
  });

  it('loads a file and builds working catalogs from it', async () => {
    const dir = scratchDir('catalog-config');
    const file = path.join(dir, '.pyiceberg.yaml');
    writeFileSync(
      file,
      `catalog:\n  dr:\n    type: sql\n    uri: sqlite:///catalog.db\n  fs:\n    type: hadoop\n    warehouse: file://${dir}/wh\n`,
    );
    const cfg = await loadCatalogsConfig(file, noEnv);
    const storageFor = () => new LocalStorage();
    const id = { namespace: ['db'], name: 't' };

    const sql = await createCatalog('dr', catalogConfig(cfg, 'dr'), storageFor, { cwd: dir });
    try {
      await sql.ensureNamespace(['db']);
      const at = await sql.commitTable(
        id,
        undefined,
        `${dir}/wh2/db/t/metadata/00000-a.metadata.json`,
        new Uint8Array([123, 125]),
      );
      assert.deepEqual(await sql.loadTable(id), { metadataLocation: at });
    } finally {
      await sql.close();
    }

    const fs = await createCatalog('fs', catalogConfig(cfg, 'fs'), storageFor);
    try {
      const at = await fs.commitTable(
        id,
        undefined,
        fs.nextMetadataLocation(id, undefined)!,
        new Uint8Array([123, 125]),
      );
      assert.equal(at, `file://${dir}/wh/db/t/metadata/v1.metadata.json`);
    } finally {
      await fs.close();
    }

    await assert.rejects(loadCatalogsConfig(path.join(dir, 'missing.yaml')), ConfigError);
  });

  it('reads the storage: section: locations kept as written, settings keys lower-cased, in file order', () => {
    const cfg = parseCatalogsConfig(
      `
catalog:
  dr:
    uri: sqlite:///c.db
    S3.Endpoint: http://catalog-wide:9000
Storage:
  s3://Replica-Bucket/Tables/:
    S3.Endpoint: https://onefs-replica:9021
    s3.path-style-access: true
  s3a://dr-bucket:
    s3.max-attempts: 3
`,
      noEnv,
    );
    assert.deepEqual(cfg.storage, [
      {
        prefix: 's3://Replica-Bucket/Tables',
        properties: { 's3.endpoint': 'https://onefs-replica:9021', 's3.path-style-access': 'true' },
      },
      { prefix: 's3a://dr-bucket', properties: { 's3.max-attempts': '3' } },
    ]);
    assert.equal(catalogConfig(cfg, 'dr').properties['s3.endpoint'], 'http://catalog-wide:9000');
    assert.equal(parseCatalogsConfig('catalog:\n  dr:\n    uri: sqlite:///c.db\n', noEnv).storage, undefined);
    // The catalog-wide s3.* properties can come from the environment too, as PyIceberg's do.
    const fromEnv = parseCatalogsConfig('catalog:\n  dr:\n    uri: sqlite:///c.db\n', {
      env: { PYICEBERG_CATALOG__DR__S3__ENDPOINT: 'http://env:9000' },
    });
    assert.equal(catalogConfig(fromEnv, 'dr').properties['s3.endpoint'], 'http://env:9000');
  });

  it('names the offending entry of the storage: section', () => {
    const doc = (storage: string) => `catalog:\n  dr:\n    uri: sqlite:///c.db\nstorage:\n${storage}`;
    configError(
      () => parseCatalogsConfig(doc('  - s3://b\n'), { ...noEnv, source: 'dr.yaml' }),
      'dr.yaml: storage: must be a mapping of locations (s3://bucket/prefix) to settings',
    );
    configError(
      () =>
        parseCatalogsConfig(doc('  replica-bucket:\n    s3.endpoint: http://x\n'), {
          ...noEnv,
          source: 'dr.yaml',
        }),
      'dr.yaml: storage.replica-bucket: the key must be a location with a scheme and authority (s3://bucket)',
    );
    configError(
      () => parseCatalogsConfig(doc('  abfs://c@acct:\n    x: y\n'), { ...noEnv, source: 'dr.yaml' }),
      "dr.yaml: storage.abfs://c@acct: no storage backend for scheme 'abfs' (known: file, s3, s3a, s3n, hdfs, webhdfs, swebhdfs, memory)",
    );
    configError(
      () => parseCatalogsConfig(doc('  s3://b: http://x\n'), { ...noEnv, source: 'dr.yaml' }),
      'dr.yaml: storage.s3://b: must be a mapping of settings',
    );
    configError(
      () => parseCatalogsConfig(doc('  s3://b:\n    s3.endpoint: [1]\n'), { ...noEnv, source: 'dr.yaml' }),
      'dr.yaml: storage.s3://b.s3.endpoint: must be a string, number or boolean',
    );
  });

  it('routes S3 paths with the catalog settings and the storage: overrides; other schemes are refused', () => {
    const router = storageRouter({ 's3.endpoint': 'http://catalog-wide:9000' }, [
      { prefix: 's3://replica', properties: { 's3.endpoint': 'https://onefs-replica:9021' } },
    ]);
    const wide = router.resolve('s3://dr/x') as S3Storage;
    const replica = router.resolve('s3a://replica/t/x') as S3Storage;
    assert.equal(wide.endpointLabel, 'http://catalog-wide:9000');
    assert.equal(replica.endpointLabel, 'https://onefs-replica:9021');
    assert.equal(router.resolve('s3n://replica'), replica);
    configError(
      () => storageRouter({}, [{ prefix: 'abfs://c@acct', properties: {} }]),
      "storage.abfs://c@acct: no storage backend for scheme 'abfs' (known: file, s3, s3a, s3n, hdfs, webhdfs, swebhdfs, memory)",
    );
    configError(
      () => storageRouter({ 's3.max-attempts': 'x' }, [], 'catalog.dr'),
      "catalog.dr.s3.max-attempts: must be a positive whole number (got 'x')",
    );
  });

  it('routes HDFS paths: hdfs.* catalog settings, Hadoop-style nameservices, storage: overrides', () => {
    const router = storageRouter(
      {
        'hdfs.user': 'etl',
        'dfs.ha.namenodes.prod': 'nn1,nn2',
        'dfs.namenode.http-address.prod.nn1': 'nn1.example.com:9870',
        'dfs.namenode.http-address.prod.nn2': 'nn2.example.com:9870',
      },
      [
        { prefix: 'hdfs://dr', properties: { 'hdfs.namenodes': 'drnn1:9870,drnn2:9870' } },
        { prefix: 'hdfs://prod/restricted', properties: { 'hdfs.delegation-token': 'T' } },
      ],
    );
    const prod = router.resolve('hdfs://prod/warehouse/t') as WebHdfsStorage;
    assert.deepEqual(prod.namenodes, ['http://nn1.example.com:9870', 'http://nn2.example.com:9870']);
    const dr = router.resolve('hdfs://dr/x') as WebHdfsStorage;
    assert.deepEqual(dr.namenodes, ['http://drnn1:9870', 'http://drnn2:9870']);
    assert.notEqual(router.resolve('hdfs://prod/restricted/x'), prod);
    assert.deepEqual((router.resolve('webhdfs://nn:9870/x') as WebHdfsStorage).namenodes, []);
    configError(
      () => storageRouter({}, [{ prefix: 'hdfs://dr', properties: { 'hdfs.namenode': 'x' } }]),
      /storage\.hdfs:\/\/dr\.hdfs\.namenode: unknown setting/,
    );
  });
});
