import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ByteReader, ByteWriter } from '../../../src/avro/binary.ts';
import { encodeAvroFile, readAvroFile } from '../../../src/avro/container.ts';
import { createDecoder } from '../../../src/avro/decode.ts';
import { createEncoder } from '../../../src/avro/encode.ts';
import { type AvroRecordType, type AvroType, parseAvroSchema } from '../../../src/avro/schema.ts';
import { CorruptFileError } from '../../../src/errors.ts';
import { impalaFixtures, walk } from '../../helpers/paths.ts';
import { requireFixtures } from '../../helpers/requires.ts';

const manifests = walk(impalaFixtures, (p) => /metadata\/[^/]+-m\d+\.avro$/.test(p));

/** Every value of attribute `key` anywhere in a JSON tree. */
function attributeValues(json: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(json)) for (const x of json) attributeValues(x, key, out);
  else if (typeof json === 'object' && json !== null) {
    for (const [k, v] of Object.entries(json)) {
      if (k === key) out.push(v);
      attributeValues(v, key, out);
    }
  }
  return out;
}

function roundTrip(t: AvroType, value: unknown): unknown {
  const w = new ByteWriter();
  createEncoder(t)(w, value);
  const r = new ByteReader(w.toBytes());
  const v = createDecoder(t)(r);
  assert.equal(r.remaining, 0);
  return v;
}

describe('Avro schemas', requireFixtures(), () => {
  it('keeps Iceberg attributes of fixture manifest schemas and their header bytes', () => {
    assert.ok(manifests.length > 50, `found ${manifests.length} manifests`);
    const seen = new Set<string>();
    for (const file of manifests) {
      const bytes = readFileSync(file);
      const { header, records, blockRecordCounts } = readAvroFile(bytes, file);
      const json = header.schemaJson;
      const text = new TextDecoder().decode(header.meta.get('avro.schema'));
      assert.deepEqual(json, JSON.parse(text));
      assert.ok(attributeValues(json, 'field-id').length > 10, `${file}: field-id`);
      if (attributeValues(json, 'element-id').length > 0) seen.add('element-id');
      if (attributeValues(json, 'logicalType').includes('map')) seen.add('logicalType: map');
      // The resolved type carries the attributes too.
      const root = header.schema as AvroRecordType;
      assert.equal(root.kind, 'record');
      assert.equal(root.fields.find((f) => f.name === 'status')?.json['field-id'], 0, file);
      // Re-encoding writes the metadata (schema text included) byte for byte.
      const out = encodeAvroFile(header, records, { blockSizes: blockRecordCounts });
      assert.deepEqual(
        out.subarray(0, header.bytes.length),
        new Uint8Array(bytes.subarray(0, header.bytes.length)),
      );
    }
    assert.deepEqual([...seen].sort(), ['element-id', 'logicalType: map']);
  });

  it('keeps key-id and value-id (on Avro maps) through parse and re-encode', () => {
    const schema = {
      type: 'record',
      name: 'r',
      fields: [
        {
          name: 'props',
          type: { type: 'map', values: ['null', 'string'], 'key-id': 7, 'value-id': 8 },
          'field-id': 6,
        },
        {
          name: 'counts',
          type: {
            type: 'array',
            logicalType: 'map',
            items: {
              type: 'record',
              name: 'k9_v10',
              fields: [
                { name: 'key', type: 'int', 'field-id': 9 },
                { name: 'value', type: 'long', 'field-id': 10 },
              ],
            },
          },
          'field-id': 11,
        },
        { name: 'tags', type: { type: 'array', items: 'string', 'element-id': 12 }, 'field-id': 13 },
      ],
    };
    const text = JSON.stringify(schema);
    const meta = new Map([['avro.schema', new TextEncoder().encode(text)]]);
    const rec = {
      props: new Map<string, string | null>([
        ['a', 'b'],
        ['c', null],
      ]),
      counts: [{ key: 1, value: 1n << 60n }],
      tags: ['x'],
    };
    const bytes = encodeAvroFile({ meta }, [rec]);
    const file = readAvroFile(bytes, 'r.avro');
    assert.deepEqual(file.header.schemaJson, schema);
    const props = (file.header.schema as AvroRecordType).fields[0]!.type;
    assert.equal(props.kind, 'map');
    assert.deepEqual([props.json['key-id' as never], props.json['value-id' as never]], [7, 8]);
    assert.equal(new TextDecoder().decode(file.header.meta.get('avro.schema')), text);
    assert.deepEqual(file.records, [rec]);
    assert.ok(Buffer.from(encodeAvroFile(file.header, file.records)).equals(bytes));
  });

  it('resolves named types with namespaces, and recursive records', () => {
    const t = parseAvroSchema(
      {
        type: 'record',
        name: 'node',
        namespace: 'a.b',
        fields: [
          { name: 'id', type: { type: 'fixed', name: 'id8', size: 8 } },
          { name: 'other', type: ['null', 'a.b.id8'] },
          { name: 'same', type: 'id8' },
          { name: 'next', type: ['null', 'node'] },
          { name: 'ext', type: { type: 'enum', name: 'x.color', symbols: ['RED', 'GREEN'] } },
          { name: 'ext2', type: 'x.color' },
        ],
      },
      's.avro',
    ) as AvroRecordType;
    assert.equal(t.name, 'a.b.node');
    assert.equal(t.fields[1]!.type.kind, 'union');
    assert.equal(t.fields[2]!.type, t.fields[0]!.type);
    const next = t.fields[3]!.type;
    assert.ok(next.kind === 'union' && next.branches[1] === t);
    assert.equal(t.fields[5]!.type, t.fields[4]!.type);
    const id = new Uint8Array(8).fill(1);
    const value = {
      id,
      other: null,
      same: id,
      next: { id, other: id, same: id, next: null, ext: 'GREEN', ext2: 'RED' },
      ext: 'RED',
      ext2: 'GREEN',
    };
    assert.deepEqual(roundTrip(t, value), value);
  });

  it('picks the first fitting union branch when encoding', () => {
    const t = parseAvroSchema(
      ['null', 'int', 'long', 'double', 'string', 'bytes', { type: 'array', items: 'int' }],
      'u',
    );
    for (const v of [null, 5, 1.5, 'x', Uint8Array.of(1), [1, 2], 1n << 62n])
      assert.deepEqual(roundTrip(t, v), v);
    // An integer number beyond 32 bits fits the long branch first, and decodes as a bigint.
    assert.equal(roundTrip(t, 2 ** 40), 2n ** 40n);
    assert.throws(() => createEncoder(t)(new ByteWriter(), true), /expected one of/);
  });

  it('ignores logical types when decoding', () => {
    const t = parseAvroSchema(
      {
        type: 'record',
        name: 'l',
        fields: [
          { name: 'ts', type: { type: 'long', logicalType: 'timestamp-micros' } },
          { name: 'd', type: { type: 'int', logicalType: 'date' } },
          { name: 'dec', type: { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 } },
          { name: 'u', type: { type: 'string', logicalType: 'uuid' } },
        ],
      },
      'l',
    );
    const v = {
      ts: 1_700_000_000_000_000n,
      d: 19_000,
      dec: Uint8Array.of(0x30, 0x39),
      u: 'f79c3e09-677c-4bbd-a479-3f349cb785e7',
    };
    assert.deepEqual(roundTrip(t, v), v);
  });

  it('rejects bad schemas with a message naming the file', () => {
    assert.throws(
      () => parseAvroSchema({ type: 'record', name: 'r', fields: [{ name: 'a', type: 'nope' }] }, 'f.avro'),
      {
        constructor: CorruptFileError,
        message: "f.avro: bad Avro schema: unknown type 'nope'",
      },
    );
    assert.throws(() => parseAvroSchema({ type: 'fixed', name: 'f' }, 'f.avro'), /fixed f has no valid size/);
  });
});
