/**
 * The SQL catalog on a real PostgreSQL server. Runs only when IMSYNC_PG_URL names one
 * (e.g. `postgresql://imsync:imsync@localhost:5432/imsync`); each test works in a fresh
 * schema, dropped afterwards.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { SqlCatalog } from '../../../src/catalog/sql/sql.ts';
import { CommitConflictError } from '../../../src/errors.ts';
import { requireServer } from '../../helpers/requires.ts';

const baseUrl = process.env.IMSYNC_PG_URL;
const skip = baseUrl ? false : 'IMSYNC_PG_URL is not set (a PostgreSQL server to test against)';
const t1 = { namespace: ['db'], name: 't1' };

describe('SqlCatalog on PostgreSQL', requireServer('PostgreSQL', skip), () => {
  let admin: pg.Client;
  const schemas: string[] = [];

  before(async () => {
    admin = new pg.Client({ connectionString: baseUrl });
    await admin.connect();
  });

  after(async () => {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.end();
  });

  /** A fresh schema, and a catalog URI whose search_path points at it. */
  async function freshSchema(): Promise<{ schema: string; uri: string }> {
    const schema = `imsync_test_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    await admin.query(`CREATE SCHEMA ${schema}`);
    const url = new URL(baseUrl!);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return { schema, uri: url.toString() };
  }

  it('creates the JdbcCatalog V1 schema exactly', async () => {
    const { schema, uri } = await freshSchema();
    // Two openers racing to create the tables both succeed.
    const cats = await Promise.all([1, 2, 3].map(() => SqlCatalog.open({ name: 'dr', uri })));
    for (const cat of cats) {
      assert.equal(cat.schemaVersion, 'V1');
      await cat.close();
    }
    const cols = await admin.query(
      `SELECT table_name, column_name, data_type, character_maximum_length AS len, is_nullable
         FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
      [schema],
    );
    assert.deepEqual(
      cols.rows.map((r) => `${r.table_name}.${r.column_name} ${r.data_type}(${r.len}) ${r.is_nullable}`),
      [
        'iceberg_namespace_properties.catalog_name character varying(255) NO',
        'iceberg_namespace_properties.namespace character varying(255) NO',
        'iceberg_namespace_properties.property_key character varying(255) NO', // primary key
        'iceberg_namespace_properties.property_value character varying(1000) YES',
        'iceberg_tables.catalog_name character varying(255) NO',
        'iceberg_tables.table_namespace character varying(255) NO',
        'iceberg_tables.table_name character varying(255) NO',
        'iceberg_tables.metadata_location character varying(1000) YES',
        'iceberg_tables.previous_metadata_location character varying(1000) YES',
        'iceberg_tables.iceberg_type character varying(5) YES',
      ],
    );
    const pks = await admin.query(
      `SELECT tc.table_name, string_agg(kcu.column_name, ',' ORDER BY kcu.ordinal_position) AS cols
         FROM information_schema.table_constraints tc
         JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
        WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = $1
        GROUP BY tc.table_name ORDER BY tc.table_name`,
      [schema],
    );
    assert.deepEqual(pks.rows, [
      { table_name: 'iceberg_namespace_properties', cols: 'catalog_name,namespace,property_key' },
      { table_name: 'iceberg_tables', cols: 'catalog_name,table_namespace,table_name' },
    ]);
  });

  // The catalog contract (test/contract/catalog.contract.ts) runs over PostgreSQL too: CAS,
  // conflicts, two racing committers, namespaces, listing, drop. What follows checks the rows.
  it('registers and commits with compare-and-swap through either URI form, in JdbcCatalog rows', async () => {
    const { schema, uri } = await freshSchema();
    const one = await SqlCatalog.open({ name: 'dr', uri });
    const two = await SqlCatalog.open({ name: 'dr', uri: uri.replace(/^postgresql:/, 'jdbc:postgresql:') });
    try {
      assert.equal(await one.loadTable(t1), undefined);
      await one.commitTable(t1, undefined, '/m0.metadata.json');
      await assert.rejects(two.commitTable(t1, undefined, '/x.metadata.json'), CommitConflictError);
      await two.commitTable(t1, '/m0.metadata.json', '/two-1.metadata.json');
      const current = await one.commitTable(t1, '/two-1.metadata.json', '/one-2.metadata.json');
      const row = await admin.query(`SELECT * FROM ${schema}.iceberg_tables`);
      assert.equal(row.rows.length, 1);
      assert.equal(row.rows[0].metadata_location, current);
      assert.equal(row.rows[0].iceberg_type, 'TABLE');
      assert.equal(row.rows[0].previous_metadata_location, '/two-1.metadata.json');

      // 'db' exists through its table already; 'other' is created once even when both race.
      await one.ensureNamespace(['db']);
      await Promise.all([one.ensureNamespace(['other']), two.ensureNamespace(['other'])]);
      await one.ensureNamespace(['a_b', 'c']);
      assert.equal(await one.namespaceExists(['axb']), false);
      const ns = await admin.query(
        `SELECT namespace, property_key, property_value FROM ${schema}.iceberg_namespace_properties ORDER BY 1`,
      );
      assert.deepEqual(ns.rows, [
        { namespace: 'a_b.c', property_key: 'exists', property_value: 'true' },
        { namespace: 'other', property_key: 'exists', property_value: 'true' },
      ]);
      assert.equal(await one.dropTable(t1), true);
      assert.equal(await one.loadTable(t1), undefined);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('works on a PyIceberg-created database (no iceberg_type) and skips views in a V1 one', async () => {
    const { schema, uri } = await freshSchema();
    await admin.query(`CREATE TABLE ${schema}.iceberg_tables (
      catalog_name VARCHAR(255) NOT NULL, table_namespace VARCHAR(255) NOT NULL, table_name VARCHAR(255) NOT NULL,
      metadata_location VARCHAR(1000), previous_metadata_location VARCHAR(1000),
      PRIMARY KEY (catalog_name, table_namespace, table_name))`);
    await admin.query(`CREATE TABLE ${schema}.iceberg_namespace_properties (
      catalog_name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, property_key VARCHAR(255) NOT NULL,
      property_value VARCHAR(1000) NOT NULL, PRIMARY KEY (catalog_name, namespace, property_key))`);
    await admin.query(
      `INSERT INTO ${schema}.iceberg_tables VALUES ('dr', 'db', 't1', '/py1.metadata.json', NULL)`,
    );
    const v0 = await SqlCatalog.open({ name: 'dr', uri });
    try {
      assert.equal(v0.schemaVersion, 'V0');
      await v0.commitTable(t1, '/py1.metadata.json', '/py2.metadata.json');
      await v0.ensureNamespace(['db2']);
    } finally {
      await v0.close();
    }

    // JdbcCatalog's own migration to V1, then a view row beside a PyIceberg (NULL-typed) table.
    await admin.query(`ALTER TABLE ${schema}.iceberg_tables ADD COLUMN iceberg_type VARCHAR(5)`);
    await admin.query(
      `INSERT INTO ${schema}.iceberg_tables VALUES ('dr', 'db', 'v', '/view.metadata.json', NULL, 'VIEW')`,
    );
    const v1 = await SqlCatalog.open({ name: 'dr', uri });
    try {
      assert.equal(v1.schemaVersion, 'V1');
      assert.deepEqual(await v1.loadTable(t1), { metadataLocation: '/py2.metadata.json' });
      await v1.commitTable(t1, '/py2.metadata.json', '/py3.metadata.json');
      assert.equal(await v1.loadTable({ namespace: ['db'], name: 'v' }), undefined);
      await assert.rejects(
        v1.commitTable({ namespace: ['db'], name: 'v' }, undefined, '/t.metadata.json'),
        /a view of that name exists/,
      );
    } finally {
      await v1.close();
    }
  });
});
