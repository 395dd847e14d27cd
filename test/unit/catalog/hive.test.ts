/**
 * The Hive catalog's pure parts: metastore URIs, configuration, the table shape Iceberg's
 * HiveCatalog writes (types, parameters), and the Thrift struct codec (unknown fields kept).
 * Its behaviour against real metastores is in the contract suite and test/interop/hive-*.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import thrift from 'thrift';
import { parseCatalogsConfig } from '../../../src/catalog/config.ts';
import {
  hiveParameters,
  hiveType,
  newHiveTable,
  parseMetadata,
} from '../../../src/catalog/hive/hive-table.ts';
import { parseMetastoreUris } from '../../../src/catalog/hive/index.ts';
import { Table } from '../../../src/catalog/hive/metastore-api.ts';
import { readStruct, struct, UNKNOWN, writeStruct } from '../../../src/catalog/hive/thrift-codec.ts';
import { ConfigError } from '../../../src/errors.ts';
import { parseJson } from '../../../src/util/json.ts';

const metadata = () =>
  parseMetadata(
    new TextEncoder().encode(
      JSON.stringify({
        'format-version': 2,
        'table-uuid': 'b2c1c9b6-0000-4000-8000-000000000001',
        location: 's3://dr/wh/db/t',
        'current-schema-id': 1,
        schemas: [
          { 'schema-id': 0, type: 'struct', fields: [] },
          {
            'schema-id': 1,
            type: 'struct',
            fields: [
              { id: 1, name: 'id', required: true, type: 'long', doc: 'the key' },
              { id: 2, name: 'ts', required: false, type: 'timestamptz' },
              { id: 3, name: 'amount', required: false, type: 'decimal(10, 2)' },
              {
                id: 4,
                name: 'tags',
                required: false,
                type: {
                  type: 'map',
                  'key-id': 5,
                  key: 'string',
                  'value-id': 6,
                  value: { type: 'list', 'element-id': 7, element: 'int' },
                },
              },
            ],
          },
        ],
        properties: {
          'gc.enabled': 'true',
          'write.parquet.compression-codec': 'zstd',
          owner: 'x',
          custom: 'kept',
        },
        'current-snapshot-id': 'BIG_ID',
        snapshots: [
          {
            'snapshot-id': 'BIG_ID',
            'timestamp-ms': 1700000000000,
            summary: {
              operation: 'append',
              'total-records': '42',
              'total-data-files': '3',
              'total-files-size': '1000',
            },
          },
        ],
        'default-spec-id': 0,
        'partition-specs': [{ 'spec-id': 0, fields: [] }],
      }).replaceAll('"BIG_ID"', '9007199254740993'), // above 2^53: exact only as text
    ),
    'm.json',
  );

describe('Hive catalog: URIs and configuration', () => {
  it('parses single and HA metastore URIs', () => {
    assert.deepEqual(parseMetastoreUris('thrift://a:9083'), [{ host: 'a', port: 9083 }]);
    assert.deepEqual(parseMetastoreUris('thrift://a:1, thrift://b'), [
      { host: 'a', port: 1 },
      { host: 'b', port: 9083 },
    ]);
    assert.throws(() => parseMetastoreUris('http://a:1'), ConfigError);
    assert.throws(() => parseMetastoreUris('thrift://a:99999'), ConfigError);
  });

  it('reads type: hive (or a thrift uri) with Java lock settings, and refuses Kerberos', () => {
    const c = parseCatalogsConfig(
      'catalog:\n  dr:\n    uri: thrift://h1:9083,thrift://h2:9083\n    iceberg.hive.lock-timeout-ms: 5000\n    connect-retries: 0\n',
      { env: {} },
    ).catalogs.dr!;
    assert.equal(c.type, 'hive');
    assert.equal((c as { lockTimeoutMs?: number }).lockTimeoutMs, 5000);
    assert.equal((c as { connectRetries?: number }).connectRetries, 0);
    assert.throws(
      () =>
        parseCatalogsConfig(
          'catalog:\n  dr:\n    type: hive\n    uri: thrift://h:1\n    hive.kerberos-authentication: true\n',
          { env: {} },
        ),
      /Kerberos/,
    );
    assert.throws(
      () => parseCatalogsConfig('catalog:\n  dr:\n    type: hive\n    uri: sqlite:///x\n', { env: {} }),
      ConfigError,
    );
  });
});

describe('Hive catalog: the table as HiveCatalog writes it', () => {
  it('maps Iceberg types to Hive type strings', () => {
    const t = (s: string) => hiveType(parseJson(s), 'x');
    assert.equal(t('"long"'), 'bigint');
    assert.equal(t('"int"'), 'int');
    assert.equal(t('"decimal(10, 2)"'), 'decimal(10,2)');
    assert.equal(t('"fixed[16]"'), 'binary');
    assert.equal(t('"uuid"'), 'string');
    assert.equal(t('"time"'), 'string');
    assert.equal(t('"timestamptz"'), 'timestamp with local time zone');
    assert.equal(
      t(
        '{"type":"struct","fields":[{"id":1,"name":"a","required":true,"type":{"type":"list","element-id":2,"element":"double"}}]}',
      ),
      'struct<a:array<double>>',
    );
  });

  it('builds an EXTERNAL_TABLE with Iceberg parameters, never external.table.purge', () => {
    const m = metadata();
    const table = newHiveTable('db', 't', 'me', m, 's3://dr/meta/00001.metadata.json');
    assert.equal(table.tableType, 'EXTERNAL_TABLE');
    assert.equal(table.sd?.location, 's3://dr/wh/db/t');
    assert.equal(table.sd?.serdeInfo?.serializationLib, 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe');
    assert.equal(table.sd?.inputFormat, 'org.apache.hadoop.mapred.FileInputFormat');
    assert.deepEqual(
      table.sd?.cols?.map((c) => [c.name, c.type, c.comment]),
      [
        ['id', 'bigint', 'the key'],
        ['ts', 'timestamp with local time zone', undefined],
        ['amount', 'decimal(10,2)', undefined],
        ['tags', 'map<string,array<int>>', undefined],
      ],
    );
    const p = table.parameters!;
    assert.equal(p.table_type, 'ICEBERG');
    assert.equal(p.EXTERNAL, 'TRUE');
    assert.equal(p.metadata_location, 's3://dr/meta/00001.metadata.json');
    assert.equal(p.previous_metadata_location, undefined);
    assert.equal(p.uuid, 'b2c1c9b6-0000-4000-8000-000000000001');
    assert.equal(p['current-snapshot-id'], '9007199254740993', '64-bit ids exact');
    assert.equal(p.numRows, '42');
    assert.equal(p.numFiles, '3');
    assert.equal(p.totalSize, '1000');
    assert.equal(p['parquet.compression'], 'zstd');
    assert.equal(p.custom, 'kept');
    assert.equal(p['external.table.purge'], undefined);
    assert.equal(p['gc.enabled'], undefined);
    assert.equal(p.owner, undefined);
    assert.equal(p['default-partition-spec'], undefined, 'unpartitioned');
    assert.match(p['current-schema']!, /"schema-id":1/);
  });

  it('keeps parameters others set, and moves the pointers', () => {
    const p = hiveParameters({ 'someone.else': 'x', 'current-snapshot-id': '1' }, metadata(), 'new', 'old');
    assert.equal(p['someone.else'], 'x');
    assert.equal(p.metadata_location, 'new');
    assert.equal(p.previous_metadata_location, 'old');
    assert.equal(p['current-snapshot-id'], '9007199254740993');
  });
});

describe('Hive catalog: Thrift struct codec', () => {
  it('round-trips a table and keeps fields it does not describe', () => {
    // A "newer" table: Table's fields plus field 17 (catName) and 19 (writeId) as Hive 4 sends them.
    const Newer = struct('Table', [
      ...Table.fields.map((f) => [f.id, f.name, f.type] as [number, string, typeof f.type]),
      [17, 'catName', 'string'],
      [19, 'writeId', 'i64'],
    ]);
    const bytes: Buffer[] = [];
    const out = new thrift.TBufferedTransport(undefined, (b?: Buffer) => {
      if (b) bytes.push(b);
    });
    writeStruct(new thrift.TBinaryProtocol(out), Newer, {
      tableName: 't',
      dbName: 'db',
      parameters: { a: 'b' },
      catName: 'hive',
      writeId: -1n,
    });
    out.flush();
    const decode = (buf: Buffer, def = Table) => {
      let value: ReturnType<typeof readStruct> | undefined;
      thrift.TBufferedTransport.receiver((reader) => {
        value = readStruct(new thrift.TBinaryProtocol(reader), def);
      }, 0)(buf);
      return value!;
    };
    const read = decode(Buffer.concat(bytes));
    assert.equal(read.tableName, 't');
    assert.deepEqual(read.parameters, { a: 'b' });
    assert.equal(read[UNKNOWN]?.length, 2);
    // Written back with our descriptor, the unknown fields go along unchanged.
    const again: Buffer[] = [];
    const out2 = new thrift.TBufferedTransport(undefined, (b?: Buffer) => {
      if (b) again.push(b);
    });
    writeStruct(new thrift.TBinaryProtocol(out2), Table, read);
    out2.flush();
    const back = decode(Buffer.concat(again), Newer);
    assert.equal(back.catName, 'hive');
    assert.equal(back.writeId, -1n);
    assert.equal(back.tableName, 't');
  });
});
