/**
 * Small, valid table metadata files for catalog tests and benchmarks: one table's successive
 * versions, each with one snapshot more, all with the table's uuid.
 */
import { createHash } from 'node:crypto';
import type { TableIdentifier } from '../../src/catalog/catalog.ts';

/**
 * A valid v2 table metadata file for `id`, tagged `tag` (a table property), with `snapshots`
 * snapshots on `main`. Catalogs that read what they register (REST servers, Hive's columns) get
 * real metadata; every version of a table keeps its uuid, and each commit adds a snapshot, as a
 * sync does, so that a server-side catalog sees a change of `main` it can guard.
 */
export function contractMetadata(id: TableIdentifier, tag: string, snapshots: number): Uint8Array {
  const hex = createHash('sha256')
    .update([...id.namespace, id.name].join('\u0000'))
    .digest('hex');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  const location = `/contract/${[...id.namespace, id.name].join('/')}`;
  const snaps = Array.from({ length: snapshots }, (_, i) => ({
    'sequence-number': i + 1,
    'snapshot-id': 1000 + i,
    ...(i > 0 ? { 'parent-snapshot-id': 1000 + i - 1 } : {}),
    'timestamp-ms': 1_700_000_000_000 + i * 1000,
    summary: { operation: 'append' },
    'manifest-list': `${location}/metadata/snap-${1000 + i}.avro`,
    'schema-id': 0,
  }));
  const doc = {
    'format-version': 2,
    'table-uuid': uuid,
    location,
    'last-sequence-number': snapshots,
    'last-updated-ms': 1_700_000_000_000 + snapshots * 1000,
    'last-column-id': 2,
    'current-schema-id': 0,
    schemas: [
      {
        type: 'struct',
        'schema-id': 0,
        fields: [
          { id: 1, name: 'id', required: false, type: 'long' },
          { id: 2, name: 'name', required: false, type: 'string' },
        ],
      },
    ],
    'default-spec-id': 0,
    'partition-specs': [{ 'spec-id': 0, fields: [] }],
    'last-partition-id': 999,
    'default-sort-order-id': 0,
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    properties: { 'contract.tag': tag },
    'current-snapshot-id': snapshots > 0 ? 1000 + snapshots - 1 : -1,
    refs: snapshots > 0 ? { main: { 'snapshot-id': 1000 + snapshots - 1, type: 'branch' } } : {},
    snapshots: snaps,
    'snapshot-log': [],
    'metadata-log': [],
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}
