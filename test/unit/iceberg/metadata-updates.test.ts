/**
 * The REST changes between two metadata versions: the updates a server-side catalog applies and
 * the requirements that pin what was read. Built on the sample replica's real metadata files
 * (written by Spark), whose successive versions add snapshots, and on edited copies for schema,
 * spec, property, ref and statistics changes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { UnsupportedError } from '../../../src/errors.ts';
import { metadataUpdates, tableStateDifference } from '../../../src/iceberg/metadata-updates.ts';
import { type JsonObject, parseJson, stringifyJson } from '../../../src/util/json.ts';
import { sampleWarehouse } from '../../helpers/sample-site.ts';

const metadataDir = path.join(sampleWarehouse, 'sales', 'orders', 'metadata');
const version = (n: number) =>
  parseJson(readFileSync(path.join(metadataDir, `v${n}.metadata.json`), 'utf8')) as JsonObject;
const clone = (o: JsonObject) => parseJson(stringifyJson(o)) as JsonObject;
const actions = (u: JsonObject[]) => u.map((x) => x.action);

describe('metadataUpdates', () => {
  it('between two real versions: the new snapshots in sequence order, the moved ref, guarded by what was read', () => {
    const a = version(6);
    const b = version(8);
    const { requirements, updates } = metadataUpdates(a, b);
    const added = updates
      .filter((u) => u.action === 'add-snapshot')
      .map((u) => (u.snapshot as JsonObject)['snapshot-id']);
    const aIds = new Set((a.snapshots as JsonObject[]).map((s) => s['snapshot-id']));
    const expected = (b.snapshots as JsonObject[])
      .filter((s) => !aIds.has(s['snapshot-id']))
      .sort((x, y) =>
        BigInt(x['sequence-number'] as bigint) < BigInt(y['sequence-number'] as bigint) ? -1 : 1,
      )
      .map((s) => s['snapshot-id']);
    assert.ok(expected.length > 0, 'the sample adds snapshots between v6 and v8');
    assert.deepEqual(added, expected);
    const main = updates.find((u) => u.action === 'set-snapshot-ref' && u['ref-name'] === 'main');
    assert.equal(main?.['snapshot-id'], b['current-snapshot-id']);
    assert.equal(main?.type, 'branch');
    // The added snapshots are passed on as written: every field, 64-bit ids as bigint.
    const first = (b.snapshots as JsonObject[]).find((s) => s['snapshot-id'] === expected[0]);
    assert.deepEqual(updates.find((u) => u.action === 'add-snapshot')?.snapshot, first);
    assert.deepEqual(requirements[0], { type: 'assert-table-uuid', uuid: a['table-uuid'] });
    const refReq = requirements.find((r) => r.type === 'assert-ref-snapshot-id' && r.ref === 'main');
    assert.equal(refReq?.['snapshot-id'], a['current-snapshot-id']);
    assert.ok(requirements.some((r) => r.type === 'assert-current-schema-id'));
    assert.ok(requirements.some((r) => r.type === 'assert-default-spec-id'));
    assert.ok(requirements.some((r) => r.type === 'assert-default-sort-order-id'));
  });

  it('nothing to do between a version and itself (forced properties aside)', () => {
    const a = version(8);
    assert.deepEqual(metadataUpdates(a, a).updates, []);
    const forced = metadataUpdates(a, a, { forcedProperties: { 'write.metadata.path': '/dr/meta' } }).updates;
    assert.deepEqual(forced, [{ action: 'set-properties', updates: { 'write.metadata.path': '/dr/meta' } }]);
  });

  it('property changes: set and removed, never removing a forced one', () => {
    const a = clone(version(8));
    (a.properties as JsonObject).gone = 'x';
    (a.properties as JsonObject)['write.metadata.path'] = '/dr/meta';
    const b = clone(version(8));
    (b.properties as JsonObject).added = 'y';
    const { updates } = metadataUpdates(a, b, { forcedProperties: { 'write.metadata.path': '/dr/meta' } });
    assert.deepEqual(updates, [
      { action: 'set-properties', updates: { added: 'y' } },
      { action: 'remove-properties', removals: ['gone'] },
    ]);
  });

  it('a new schema is added with the id the server will give it, and made current', () => {
    const a = version(8);
    const b = clone(a);
    const schemas = b.schemas as JsonObject[];
    const top = schemas.at(-1)!;
    const nextId = BigInt(Math.max(...schemas.map((s) => Number(s['schema-id'])))) + 1n;
    const added = clone(top);
    added['schema-id'] = nextId;
    (added.fields as JsonObject[]).push({ id: 99n, name: 'extra', required: false, type: 'string' });
    schemas.push(added);
    b['current-schema-id'] = nextId;
    b['last-column-id'] = 99n;
    const { updates } = metadataUpdates(a, b);
    assert.deepEqual(actions(updates), ['add-schema', 'set-current-schema']);
    assert.deepEqual(updates[0]?.schema, added);
    assert.equal(updates[0]?.['last-column-id'], 99n);
    assert.equal(updates[1]?.['schema-id'], nextId);
  });

  it('refuses a schema id the server would not reproduce, and a changed uuid', () => {
    const a = version(8);
    const b = clone(a);
    const skipped = clone((b.schemas as JsonObject[]).at(-1)!);
    skipped['schema-id'] = 42n;
    (skipped.fields as JsonObject[]).push({ id: 99n, name: 'x', required: false, type: 'int' });
    (b.schemas as JsonObject[]).push(skipped);
    assert.throws(
      () => metadataUpdates(a, b),
      (e: unknown) => e instanceof UnsupportedError && /schema 42 would be given id/.test(e.message),
    );
    const c = clone(a);
    c['table-uuid'] = '00000000-0000-4000-8000-000000000000';
    assert.throws(
      () => metadataUpdates(a, c),
      (e: unknown) => e instanceof UnsupportedError && /table-uuid/.test(e.message),
    );
  });

  it('refs: a new tag is set, a dropped branch removed, each guarded (absent refs as null)', () => {
    const a = clone(version(8));
    (a.refs as JsonObject).old = { 'snapshot-id': a['current-snapshot-id']!, type: 'branch' };
    const b = clone(version(8));
    (b.refs as JsonObject).release = {
      'snapshot-id': b['current-snapshot-id']!,
      type: 'tag',
      'max-ref-age-ms': 1000n,
    };
    const { requirements, updates } = metadataUpdates(a, b);
    assert.deepEqual(updates, [
      {
        action: 'set-snapshot-ref',
        'ref-name': 'release',
        'snapshot-id': b['current-snapshot-id']!,
        type: 'tag',
        'max-ref-age-ms': 1000n,
      },
      { action: 'remove-snapshot-ref', 'ref-name': 'old' },
    ]);
    assert.ok(requirements.some((r) => r.ref === 'release' && r['snapshot-id'] === null));
    assert.ok(requirements.some((r) => r.ref === 'old' && r['snapshot-id'] === a['current-snapshot-id']));
  });

  it('expired snapshots are removed; statistics set and removed by snapshot', () => {
    const a = clone(version(8));
    const b = clone(version(8));
    const oldest = (b.snapshots as JsonObject[]).shift()!;
    const stats = {
      'snapshot-id': b['current-snapshot-id']!,
      'statistics-path': '/dr/s.puffin',
      'file-size-in-bytes': 10n,
      'file-footer-size-in-bytes': 5n,
      'blob-metadata': [],
    };
    b.statistics = [stats];
    a.statistics = [{ ...stats, 'snapshot-id': oldest['snapshot-id']! }];
    const { updates } = metadataUpdates(a, b);
    assert.deepEqual(updates, [
      { action: 'remove-snapshots', 'snapshot-ids': [oldest['snapshot-id']!] },
      { action: 'set-statistics', 'snapshot-id': stats['snapshot-id'], statistics: stats },
      { action: 'remove-statistics', 'snapshot-id': oldest['snapshot-id']! },
    ]);
  });

  it('v1 single-schema and single-spec forms are read', () => {
    const b = clone(version(8));
    const current = (b.schemas as JsonObject[]).find((x) => x['schema-id'] === b['current-schema-id'])!;
    const spec = (b['partition-specs'] as JsonObject[]).find((x) => x['spec-id'] === b['default-spec-id'])!;
    b.schemas = [current];
    b['partition-specs'] = [spec];
    const a: JsonObject = { ...clone(b), schema: current, 'partition-spec': spec.fields! };
    delete a.schemas;
    delete a['partition-specs'];
    assert.deepEqual(metadataUpdates(a, b).updates, []);
  });
});

describe('tableStateDifference', () => {
  it('agrees on equal states and names the first difference', () => {
    assert.equal(tableStateDifference(version(8), version(8)), undefined);
    assert.match(String(tableStateDifference(version(6), version(8))), /snapshots differ/);
    const b = clone(version(8));
    (b.refs as JsonObject).main = { 'snapshot-id': 1n, type: 'branch' };
    assert.match(String(tableStateDifference(version(8), b)), /ref 'main'/);
  });
});
