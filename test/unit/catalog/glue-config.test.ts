/**
 * The Glue catalog's settings (PyIceberg's `glue.*` keys, their `client.*` fallbacks, the command
 * line's flags) and the Glue table it writes (Hive type names and the iceberg.field.* column
 * parameters Iceberg's GlueCatalog sets). No server needed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogConfig, parseCatalogsConfig } from '../../../src/catalog/config.ts';
import { type GlueCatalogConfig, glueCatalogType } from '../../../src/catalog/glue/index.ts';
import {
  glueColumns,
  glueShapeOf,
  glueTableInput,
  glueTypeName,
} from '../../../src/catalog/glue/table-input.ts';
import { ConfigError } from '../../../src/errors.ts';
import { parseSchema } from '../../../src/iceberg/schema.ts';
import { parseJson } from '../../../src/util/json.ts';

const noEnv = { env: {} };
const glue = (yaml: string, env: Record<string, string> = {}) =>
  catalogConfig(
    parseCatalogsConfig(`catalog:\n  dr:\n    type: glue\n${yaml}`, { env }),
  ) as GlueCatalogConfig;

describe('Glue catalog settings', () => {
  it('reads glue.* keys, falling back to client.*; glue.* wins', () => {
    const c = glue(
      [
        '    glue.region: eu-west-1',
        '    client.region: us-east-2',
        '    glue.endpoint: https://glue.example.com',
        '    glue.id: "123456789012"',
        '    client.access-key-id: AKIDCLIENT',
        '    client.secret-access-key: client-secret',
        '    client.session-token: client-token',
        '    glue.profile-name: dr-site',
        '    glue.max-retries: 3',
        '    glue.retry-mode: adaptive',
        '    glue.skip-archive: false',
        '    warehouse: s3://dr/warehouse',
        '',
      ].join('\n'),
    );
    assert.equal(c.type, 'glue');
    assert.equal(c.region, 'eu-west-1');
    assert.equal(c.endpoint, 'https://glue.example.com');
    assert.equal(c.catalogId, '123456789012');
    assert.equal(c.accessKeyId, 'AKIDCLIENT');
    assert.equal(c.secretAccessKey, 'client-secret');
    assert.equal(c.sessionToken, 'client-token');
    assert.equal(c.profile, 'dr-site');
    assert.equal(c.maxRetries, 3);
    assert.equal(c.retryMode, 'adaptive');
    assert.equal(c.skipArchive, false);
    assert.equal(c.warehouse, 's3://dr/warehouse');
    // Defaults: PyIceberg's 10 retries in standard mode, archive skipped as Java and PyIceberg do.
    const d = glue('    glue.region: us-east-1\n');
    assert.equal(d.maxRetries, 10);
    assert.equal(d.retryMode, 'standard');
    assert.equal(d.skipArchive, true);
    assert.equal(d.accessKeyId, undefined);
    // Environment overrides, as for every catalog.
    assert.equal(glue('', { PYICEBERG_CATALOG__DR__GLUE__REGION: 'ap-south-1' }).region, 'ap-south-1');
  });

  it('refuses bad settings, naming the key and never echoing a secret', () => {
    const bad = (yaml: string, pattern: RegExp) =>
      assert.throws(
        () => parseCatalogsConfig(`catalog:\n  dr:\n    type: glue\n${yaml}`, noEnv),
        (e: unknown) => e instanceof ConfigError && pattern.test(e.message),
      );
    bad('    glue.endpoint: glue.example.com\n', /catalog\.dr\.glue\.endpoint: must be an http/);
    bad('    glue.max-retries: lots\n', /catalog\.dr\.glue\.max-retries/);
    bad('    glue.retry-mode: sometimes\n', /catalog\.dr\.glue\.retry-mode/);
    bad('    glue.access-key-id: AKID\n', /glue\.access-key-id and glue\.secret-access-key together/);
    assert.throws(
      () =>
        parseCatalogsConfig(
          'catalog:\n  dr:\n    type: glue\n    glue.secret-access-key: do-not-print-me\n',
          noEnv,
        ),
      (e: unknown) => e instanceof ConfigError && !e.message.includes('do-not-print-me'),
    );
    bad('    glue.session-token: tok\n', /session-token needs/);
  });

  it('takes the endpoint from --catalog-uri and the warehouse from --warehouse, over the configured catalog', async () => {
    const configured = glue(
      '    glue.region: eu-west-1\n    glue.access-key-id: A\n    glue.secret-access-key: S\n    glue.endpoint: https://old.example.com\n',
    );
    const c = await glueCatalogType.fromFlags({ uri: 'http://127.0.0.1:5000', warehouse: '/dr' }, configured);
    assert.equal(c.endpoint, 'http://127.0.0.1:5000');
    assert.equal(c.warehouse, '/dr');
    assert.equal(c.region, 'eu-west-1');
    assert.equal(c.secretAccessKey, 'S');
    // Without any configuration: the endpoint alone (credentials from the AWS default chain).
    const bare = await glueCatalogType.fromFlags({ uri: 'http://127.0.0.1:5000' }, undefined);
    assert.equal(bare.endpoint, 'http://127.0.0.1:5000');
    assert.equal(bare.accessKeyId, undefined);
    assert.equal(bare.maxRetries, 10);
    await assert.rejects(glueCatalogType.fromFlags({ uri: 'sqlite:///x.db' }, undefined), ConfigError);
  });
});

describe('the Glue table of an Iceberg table', () => {
  const schema = (json: string) => parseSchema(parseJson(json), 'test');

  it('names types as Hive does, as Iceberg’s GlueCatalog writes them', () => {
    const cases: [string, string][] = [
      ['boolean', 'boolean'],
      ['int', 'int'],
      ['long', 'bigint'],
      ['float', 'float'],
      ['double', 'double'],
      ['date', 'date'],
      ['time', 'string'],
      ['timestamp', 'timestamp'],
      ['timestamptz', 'timestamp'],
      ['string', 'string'],
      ['uuid', 'string'],
      ['fixed[16]', 'binary'],
      ['binary', 'binary'],
      ['decimal(9, 2)', 'decimal(9,2)'],
    ];
    for (const [iceberg, hive] of cases) assert.equal(glueTypeName(iceberg), hive, iceberg);
    const nested = schema(
      '{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"s","required":false,"type":{"type":"struct","fields":[' +
        '{"id":2,"name":"a","required":true,"type":"long"},' +
        '{"id":3,"name":"l","required":false,"type":{"type":"list","element-id":4,"element":"string","element-required":false}},' +
        '{"id":5,"name":"m","required":false,"type":{"type":"map","key-id":6,"key":"string","value-id":7,"value":"decimal(38,10)","value-required":false}}]}}]}',
    );
    assert.equal(
      glueTypeName(nested.struct.fields[0]!.type),
      'struct<a:bigint,l:array<string>,m:map<string,decimal(38,10)>>',
    );
  });

  it('lists the current schema’s columns first, then those only older schemas have', () => {
    const v0 = schema(
      '{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"id","required":true,"type":"long"},{"id":2,"name":"gone","required":false,"type":"string"}]}',
    );
    const v1 = schema(
      '{"type":"struct","schema-id":1,"fields":[{"id":1,"name":"id","required":true,"type":"long"},{"id":3,"name":"note","required":false,"type":"string","doc":"free text"}]}',
    );
    assert.deepEqual(glueColumns([v0, v1], 1), [
      {
        Name: 'id',
        Type: 'bigint',
        Parameters: {
          'iceberg.field.id': '1',
          'iceberg.field.optional': 'false',
          'iceberg.field.current': 'true',
        },
      },
      {
        Name: 'note',
        Type: 'string',
        Comment: 'free text',
        Parameters: {
          'iceberg.field.id': '3',
          'iceberg.field.optional': 'true',
          'iceberg.field.current': 'true',
        },
      },
      {
        Name: 'gone',
        Type: 'string',
        Parameters: {
          'iceberg.field.id': '2',
          'iceberg.field.optional': 'true',
          'iceberg.field.current': 'false',
        },
      },
    ]);
  });

  it('builds the table input: EXTERNAL_TABLE, table_type=ICEBERG, the pointers, kept parameters', () => {
    const shape = glueShapeOf(
      new TextEncoder().encode(
        JSON.stringify({
          'format-version': 2,
          'table-uuid': '9c12d441-03fe-4693-9a96-a0705ddf69c1',
          location: 's3://dr/wh/db/t',
          'last-sequence-number': 0,
          'last-updated-ms': 1,
          'last-column-id': 1,
          'current-schema-id': 0,
          schemas: [
            { type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'id', required: true, type: 'long' }] },
          ],
          'default-spec-id': 0,
          'partition-specs': [{ 'spec-id': 0, fields: [] }],
          'last-partition-id': 999,
          'default-sort-order-id': 0,
          'sort-orders': [{ 'order-id': 0, fields: [] }],
          properties: { comment: 'orders at the DR site', 'write.format.default': 'parquet' },
        }),
      ),
      'm.json',
    );
    const input = glueTableInput('t', 's3://dr/meta/2.metadata.json', 's3://dr/meta/1.metadata.json', shape, {
      Parameters: { owner: 'dr-team', metadata_location: 's3://dr/meta/1.metadata.json' },
    });
    assert.equal(input.TableType, 'EXTERNAL_TABLE');
    assert.equal(input.Description, 'orders at the DR site');
    assert.deepEqual(input.Parameters, {
      owner: 'dr-team',
      comment: 'orders at the DR site',
      'write.format.default': 'parquet',
      table_type: 'ICEBERG',
      metadata_location: 's3://dr/meta/2.metadata.json',
      previous_metadata_location: 's3://dr/meta/1.metadata.json',
    });
    assert.equal(input.StorageDescriptor?.Location, 's3://dr/wh/db/t');
    assert.deepEqual(
      input.StorageDescriptor?.Columns?.map((c) => c.Name),
      ['id'],
    );
    // Bytes that are not metadata give the pointer alone.
    const bare = glueTableInput('t', 'x', undefined, glueShapeOf(new Uint8Array([1, 2]), 'x'));
    assert.deepEqual(bare.StorageDescriptor, { Columns: [] });
    assert.equal(bare.Parameters?.previous_metadata_location, undefined);
  });
});
