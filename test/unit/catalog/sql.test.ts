import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseSqlUri, redactUri, SqlCatalog } from '../../../src/catalog/sql/sql.ts';
import { NodeSqliteDriver, numberPlaceholders } from '../../../src/catalog/sql/sql-driver.ts';
import { CommitConflictError, ConfigError } from '../../../src/errors.ts';
import { LocalStorage } from '../../../src/storage/local/local.ts';
import { scratchDir } from '../../helpers/paths.ts';

const t1 = { namespace: ['db'], name: 't1' };

function dbFile(prefix: string): string {
  return path.join(scratchDir(prefix), 'catalog.db');
}

async function open(file: string, name = 'dr'): Promise<SqlCatalog> {
  return SqlCatalog.open({ name, uri: `sqlite:///${file}`, storageFor: () => new LocalStorage() });
}

/** Reads the file with a separate connection, as another engine would. */
function rows(file: string, sql: string): Record<string, unknown>[] {
  const db = new DatabaseSync(file);
  try {
    return db
      .prepare(sql)
      .all()
      .map((r) => ({ ...r }));
  } finally {
    db.close();
  }
}

describe('parseSqlUri', () => {
  it('reads SQLAlchemy sqlite URIs', () => {
    assert.deepEqual(parseSqlUri('sqlite:////abs/cat.db'), { dialect: 'sqlite', file: '/abs/cat.db' });
    assert.deepEqual(parseSqlUri('sqlite:///rel/cat.db', '/base'), {
      dialect: 'sqlite',
      file: '/base/rel/cat.db',
    });
    assert.deepEqual(parseSqlUri('sqlite:///:memory:'), { dialect: 'sqlite', file: ':memory:' });
    assert.deepEqual(parseSqlUri('sqlite://'), { dialect: 'sqlite', file: ':memory:' });
    assert.deepEqual(parseSqlUri('sqlite+pysqlite:////a/b.db?check_same_thread=false'), {
      dialect: 'sqlite',
      file: '/a/b.db',
    });
  });

  it('reads JDBC sqlite URIs', () => {
    assert.deepEqual(parseSqlUri('jdbc:sqlite:/abs/cat.db'), { dialect: 'sqlite', file: '/abs/cat.db' });
    assert.deepEqual(parseSqlUri('jdbc:sqlite:file:/abs/cat.db'), { dialect: 'sqlite', file: '/abs/cat.db' });
    assert.deepEqual(parseSqlUri('jdbc:sqlite:cat.db', '/base'), { dialect: 'sqlite', file: '/base/cat.db' });
    assert.deepEqual(parseSqlUri('jdbc:sqlite::memory:'), { dialect: 'sqlite', file: ':memory:' });
  });

  it('reads PostgreSQL URIs and keeps passwords out of labels', () => {
    for (const uri of [
      'postgresql://u:secret@h:5433/cat',
      'postgres://u:secret@h:5433/cat',
      'postgresql+psycopg2://u:secret@h:5433/cat',
      'jdbc:postgresql://h:5433/cat',
    ]) {
      const t = parseSqlUri(uri);
      assert.equal(t.dialect, 'postgres', uri);
      if (t.dialect !== 'postgres') continue;
      assert.match(t.connectionString, /^postgresql:\/\/.*h:5433\/cat$/);
      assert.equal(t.label, 'postgres h:5433/cat');
    }
    assert.equal(redactUri('postgresql://u:secret@h/db'), 'postgresql://u:***@h/db');
    assert.equal(
      redactUri('jdbc:postgresql://h/db?user=u&password=secret'),
      'jdbc:postgresql://h/db?user=u&password=***',
    );
  });

  it('rejects other schemes without echoing passwords', () => {
    assert.throws(
      () => parseSqlUri('mysql://u:secret@h/db'),
      (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.doesNotMatch(e.message, /secret/);
        return true;
      },
    );
    assert.throws(() => parseSqlUri('sqlite:relative.db'), ConfigError);
  });
});

describe('numberPlaceholders', () => {
  it('numbers ? outside quoted literals', () => {
    assert.equal(
      numberPlaceholders("SELECT ? WHERE a LIKE ? ESCAPE '!' AND b = '?'"),
      "SELECT $1 WHERE a LIKE $2 ESCAPE '!' AND b = '?'",
    );
  });
});

// The catalog contract (test/contract/catalog.contract.ts) runs over SQLite too: load, register,
// compare-and-swap, two racing committers, namespaces, listing, drop. What follows is SQL's own.
describe('SqlCatalog on SQLite', () => {
  it('creates the JdbcCatalog V1 schema exactly', async () => {
    const file = dbFile('sql-schema');
    const cat = await open(file);
    assert.equal(cat.schemaVersion, 'V1');
    await cat.close();
    const info = (table: string) =>
      rows(file, `SELECT name, type, "notnull" AS nn, pk FROM pragma_table_info('${table}') ORDER BY cid`);
    assert.deepEqual(info('iceberg_tables'), [
      { name: 'catalog_name', type: 'VARCHAR(255)', nn: 1, pk: 1 },
      { name: 'table_namespace', type: 'VARCHAR(255)', nn: 1, pk: 2 },
      { name: 'table_name', type: 'VARCHAR(255)', nn: 1, pk: 3 },
      { name: 'metadata_location', type: 'VARCHAR(1000)', nn: 0, pk: 0 },
      { name: 'previous_metadata_location', type: 'VARCHAR(1000)', nn: 0, pk: 0 },
      { name: 'iceberg_type', type: 'VARCHAR(5)', nn: 0, pk: 0 },
    ]);
    assert.deepEqual(info('iceberg_namespace_properties'), [
      { name: 'catalog_name', type: 'VARCHAR(255)', nn: 1, pk: 1 },
      { name: 'namespace', type: 'VARCHAR(255)', nn: 1, pk: 2 },
      { name: 'property_key', type: 'VARCHAR(255)', nn: 0, pk: 3 },
      { name: 'property_value', type: 'VARCHAR(1000)', nn: 0, pk: 0 },
    ]);
    const master = rows(file, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    assert.deepEqual(
      master.map((r) => r.name),
      ['iceberg_namespace_properties', 'iceberg_tables'],
    );
    // Reopening finds the schema and changes nothing.
    const again = await open(file);
    assert.equal(again.schemaVersion, 'V1');
    await again.close();
  });

  it('registers, loads and commits with compare-and-swap', async () => {
    const file = dbFile('sql-commit');
    const cat = await open(file);
    try {
      assert.equal(await cat.loadTable(t1), undefined);
      assert.equal(
        await cat.commitTable(t1, undefined, '/wh/db/t1/metadata/00000-a.metadata.json'),
        '/wh/db/t1/metadata/00000-a.metadata.json',
      );
      assert.deepEqual(await cat.loadTable(t1), {
        metadataLocation: '/wh/db/t1/metadata/00000-a.metadata.json',
      });
      await cat.commitTable(
        t1,
        '/wh/db/t1/metadata/00000-a.metadata.json',
        '/wh/db/t1/metadata/00001-b.metadata.json',
      );
      assert.deepEqual(rows(file, 'SELECT * FROM iceberg_tables'), [
        {
          catalog_name: 'dr',
          table_namespace: 'db',
          table_name: 't1',
          metadata_location: '/wh/db/t1/metadata/00001-b.metadata.json',
          previous_metadata_location: '/wh/db/t1/metadata/00000-a.metadata.json',
          iceberg_type: 'TABLE',
        },
      ]);

      // A stale expectation, and a second registration, both lose.
      await assert.rejects(
        cat.commitTable(t1, '/wh/db/t1/metadata/00000-a.metadata.json', '/x.metadata.json'),
        (e: Error) =>
          e instanceof CommitConflictError &&
          e.message ===
            'dr.db.t1: metadata location is /wh/db/t1/metadata/00001-b.metadata.json, expected /wh/db/t1/metadata/00000-a.metadata.json',
      );
      await assert.rejects(cat.commitTable(t1, undefined, '/y.metadata.json'), CommitConflictError);
      await assert.rejects(
        cat.commitTable({ namespace: ['db'], name: 'missing' }, '/a.metadata.json', '/b.metadata.json'),
        /dr\.db\.missing: not registered/,
      );
      assert.deepEqual(await cat.loadTable(t1), {
        metadataLocation: '/wh/db/t1/metadata/00001-b.metadata.json',
      });
    } finally {
      await cat.close();
    }
  });

  it('keeps catalogs apart by catalog_name and namespaces by their dot-joined form', async () => {
    const file = dbFile('sql-names');
    const a = await open(file, 'a');
    const b = await open(file, 'b');
    try {
      const nested = { namespace: ['x', 'y'], name: 't' };
      await a.commitTable(nested, undefined, '/a.metadata.json');
      assert.equal(await b.loadTable(nested), undefined);
      assert.equal(await a.loadTable({ namespace: ['x'], name: 't' }), undefined);
      assert.deepEqual(rows(file, 'SELECT catalog_name, table_namespace FROM iceberg_tables'), [
        { catalog_name: 'a', table_namespace: 'x.y' },
      ]);
      await assert.rejects(a.loadTable({ namespace: ['x.y'], name: 't' }), ConfigError);
      await assert.rejects(a.loadTable({ namespace: [], name: 't' }), ConfigError);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('lets exactly one of several processes win the same swap', async () => {
    const file = dbFile('sql-race-processes');
    const cat = await open(file);
    await cat.commitTable(t1, undefined, '/v0.metadata.json');
    await cat.close();
    const child = fileURLToPath(new URL('./sql-race-child.ts', import.meta.url));
    const startAt = String(Date.now() + 1500); // after every child has started and opened the file
    const outs = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        promisify(execFile)(process.execPath, [
          child,
          file,
          startAt,
          `/p${i}.metadata.json`,
          '/v0.metadata.json',
        ]),
      ),
    );
    const results = outs.map((o) => o.stdout);
    assert.equal(results.filter((r) => r === 'won').length, 1, results.join(','));
    assert.equal(results.filter((r) => r === 'lost').length, 3, results.join(','));
    const winner = `/p${results.indexOf('won') + 1}.metadata.json`;
    assert.deepEqual(rows(file, 'SELECT metadata_location FROM iceberg_tables'), [
      { metadata_location: winner },
    ]);
  });

  it('creates namespaces as JdbcCatalog and PyIceberg do', async () => {
    const file = dbFile('sql-ns');
    const cat = await open(file);
    try {
      assert.equal(await cat.namespaceExists(['db']), false);
      await cat.ensureNamespace(['db']);
      await cat.ensureNamespace(['db']);
      await cat.ensureNamespace(['x', 'y']);
      assert.deepEqual(rows(file, 'SELECT * FROM iceberg_namespace_properties ORDER BY namespace'), [
        { catalog_name: 'dr', namespace: 'db', property_key: 'exists', property_value: 'true' },
        { catalog_name: 'dr', namespace: 'x.y', property_key: 'exists', property_value: 'true' },
      ]);
      // A parent exists through its children, as both engines judge it.
      assert.equal(await cat.namespaceExists(['x']), true);
      await cat.ensureNamespace(['x']);
      assert.equal(rows(file, 'SELECT * FROM iceberg_namespace_properties').length, 2);
      // So does a namespace that only has tables.
      await cat.commitTable({ namespace: ['only', 'tables'], name: 't' }, undefined, '/m.metadata.json');
      assert.equal(await cat.namespaceExists(['only']), true);
      // LIKE wildcards in names are escaped: 'a_c' is not 'abc'.
      await cat.ensureNamespace(['abc', 'd']);
      assert.equal(await cat.namespaceExists(['a_c']), false);
      await cat.ensureNamespace(['a_c']);
      assert.equal(await cat.namespaceExists(['a_c']), true);
    } finally {
      await cat.close();
    }
  });

  it('works on a database PyIceberg created (no iceberg_type column) and leaves its schema alone', async () => {
    const file = dbFile('sql-pyiceberg');
    // The DDL SQLAlchemy emits for PyIceberg's SqlCatalog models.
    const db = new DatabaseSync(file);
    db.exec(`CREATE TABLE iceberg_tables (
      catalog_name VARCHAR(255) NOT NULL,
      table_namespace VARCHAR(255) NOT NULL,
      table_name VARCHAR(255) NOT NULL,
      metadata_location VARCHAR(1000),
      previous_metadata_location VARCHAR(1000),
      PRIMARY KEY (catalog_name, table_namespace, table_name))`);
    db.exec(`CREATE TABLE iceberg_namespace_properties (
      catalog_name VARCHAR(255) NOT NULL,
      namespace VARCHAR(255) NOT NULL,
      property_key VARCHAR(255) NOT NULL,
      property_value VARCHAR(1000) NOT NULL,
      PRIMARY KEY (catalog_name, namespace, property_key))`);
    db.exec(`INSERT INTO iceberg_tables VALUES ('dr', 'db', 't1', '/py/v1.metadata.json', NULL)`);
    db.close();

    const cat = await open(file);
    try {
      assert.equal(cat.schemaVersion, 'V0');
      assert.deepEqual(await cat.loadTable(t1), { metadataLocation: '/py/v1.metadata.json' });
      await cat.commitTable(t1, '/py/v1.metadata.json', '/py/v2.metadata.json');
      await cat.commitTable({ namespace: ['db'], name: 't2' }, undefined, '/py/t2.metadata.json');
      await cat.ensureNamespace(['db2']);
      assert.equal(await cat.dropTable({ namespace: ['db'], name: 't2' }), true);
      assert.equal(await cat.dropTable({ namespace: ['db'], name: 't2' }), false);
    } finally {
      await cat.close();
    }
    const cols = rows(file, "SELECT name FROM pragma_table_info('iceberg_tables')").map((r) => r.name);
    assert.ok(!cols.includes('iceberg_type'));
    assert.deepEqual(rows(file, 'SELECT metadata_location, previous_metadata_location FROM iceberg_tables'), [
      { metadata_location: '/py/v2.metadata.json', previous_metadata_location: '/py/v1.metadata.json' },
    ]);
  });

  it('treats NULL iceberg_type as a table and never touches views', async () => {
    const file = dbFile('sql-views');
    const cat = await open(file);
    try {
      const db = new DatabaseSync(file);
      // A row PyIceberg inserted into a V1 table, and a view JdbcCatalog registered.
      db.exec(`INSERT INTO iceberg_tables VALUES ('dr', 'db', 't1', '/py.metadata.json', NULL, NULL)`);
      db.exec(`INSERT INTO iceberg_tables VALUES ('dr', 'db', 'v', '/view.metadata.json', NULL, 'VIEW')`);
      db.close();
      assert.deepEqual(await cat.loadTable(t1), { metadataLocation: '/py.metadata.json' });
      await cat.commitTable(t1, '/py.metadata.json', '/next.metadata.json');

      const view = { namespace: ['db'], name: 'v' };
      assert.equal(await cat.loadTable(view), undefined);
      await assert.rejects(
        cat.commitTable(view, undefined, '/t.metadata.json'),
        (e: Error) => e instanceof CommitConflictError && /a view of that name exists/.test(e.message),
      );
      await assert.rejects(
        cat.commitTable(view, '/view.metadata.json', '/t.metadata.json'),
        CommitConflictError,
      );
      assert.equal(await cat.dropTable(view), false);
    } finally {
      await cat.close();
    }
  });

  it('writes the metadata bytes it is given, and removes them when the swap loses', async () => {
    const dir = scratchDir('sql-bytes');
    const cat = await open(path.join(dir, 'catalog.db'));
    try {
      const first = path.join(dir, 'wh/db/t1/metadata/00000-a.metadata.json');
      await cat.commitTable(t1, undefined, first, new TextEncoder().encode('{"a":1}'));
      assert.equal(readFileSync(first, 'utf8'), '{"a":1}');
      // A retry with the same bytes is accepted; different bytes are not.
      await assert.rejects(
        cat.commitTable(t1, undefined, first, new TextEncoder().encode('{"a":1}')),
        CommitConflictError,
      );
      await assert.rejects(
        cat.commitTable(t1, first, first, new TextEncoder().encode('{"b":2}')),
        /already exists/,
      );

      const lost = path.join(dir, 'wh/db/t1/metadata/00001-lost.metadata.json');
      await assert.rejects(
        cat.commitTable(t1, '/stale.metadata.json', lost, new Uint8Array([1])),
        CommitConflictError,
      );
      assert.equal(existsSync(lost), false);
    } finally {
      await cat.close();
    }
  });

  it('reports unusable databases clearly', async () => {
    const dir = scratchDir('sql-bad');
    await assert.rejects(
      SqlCatalog.open({ name: 'dr', uri: `sqlite:///${path.join(dir, 'none.db')}`, initTables: false }),
      /table iceberg_tables does not exist and table creation is off/,
    );
    const file = path.join(dir, 'other.db');
    const db = new DatabaseSync(file);
    db.exec('CREATE TABLE iceberg_tables (catalog_name TEXT, table_name TEXT)');
    db.close();
    await assert.rejects(
      SqlCatalog.open({ name: 'dr', uri: `jdbc:sqlite:${file}` }),
      /table iceberg_tables lacks column\(s\) table_namespace, metadata_location, previous_metadata_location/,
    );
    await assert.rejects(open(file, ''), ConfigError);
  });

  it('runs driver transactions atomically', async () => {
    const driver = new NodeSqliteDriver(':memory:');
    await driver.execute('CREATE TABLE t (a INTEGER)');
    await assert.rejects(
      driver.transaction(async (tx) => {
        await tx.execute('INSERT INTO t VALUES (?)', [1]);
        throw new Error('boom');
      }),
      /boom/,
    );
    await driver.transaction(async (tx) => {
      await tx.execute('INSERT INTO t VALUES (?)', [2]);
    });
    assert.deepEqual(
      (await driver.query('SELECT a FROM t')).map((r) => r.a),
      [2],
    );
    await driver.close();
  });
});
