/**
 * Record scanners find what a projected decoder finds (spans, integers, where a record ends) on
 * records of every Avro type, and refuse what it refuses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AvroDataError, ByteReader, ByteWriter, NeedMoreBytes } from '../../../src/avro/binary.ts';
import { type AvroSpan, createProjectedDecoder } from '../../../src/avro/decode.ts';
import { createEncoder } from '../../../src/avro/encode.ts';
import { createScanner } from '../../../src/avro/scan.ts';
import { type AvroRecord, parseAvroSchema } from '../../../src/avro/schema.ts';

// A manifest entry's shape with a field of every other kind around the captured ones.
const SCHEMA = parseAvroSchema(
  {
    type: 'record',
    name: 'entry',
    fields: [
      { name: 'status', type: 'int' },
      { name: 'snapshot_id', type: ['null', 'long'] },
      { name: 'flag', type: 'boolean' },
      { name: 'f', type: 'float' },
      { name: 'd', type: 'double' },
      { name: 'kind', type: { type: 'enum', name: 'k', symbols: ['A', 'B', 'C'] } },
      { name: 'id', type: { type: 'fixed', name: 'uuid', size: 16 } },
      {
        name: 'data_file',
        type: {
          type: 'record',
          name: 'df',
          fields: [
            { name: 'content', type: 'int' },
            { name: 'file_path', type: 'string' },
            {
              name: 'partition',
              type: { type: 'record', name: 'p', fields: [{ name: 'x', type: ['null', 'string'] }] },
            },
            { name: 'file_size_in_bytes', type: 'long' },
            {
              name: 'column_sizes',
              type: [
                'null',
                {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'kv',
                    fields: [
                      { name: 'key', type: 'int' },
                      { name: 'value', type: 'long' },
                    ],
                  },
                },
              ],
            },
            { name: 'props', type: { type: 'map', values: 'bytes' } },
            { name: 'nulls', type: { type: 'array', items: 'null' } },
            { name: 'referenced_data_file', type: ['null', 'string'] },
          ],
        },
      },
      { name: 'tail', type: 'string' },
    ],
  },
  'scan.avro',
);

const SPEC = {
  status: 'int',
  snapshot_id: 'long',
  data_file: {
    content: 'int',
    file_path: 'span',
    file_size_in_bytes: 'long',
    referenced_data_file: 'present',
  },
} as const;
const PROJECTION = {
  status: true,
  snapshot_id: true,
  data_file: { content: true, file_path: 'span', file_size_in_bytes: true, referenced_data_file: true },
} as const;

const long = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const records = fc.record({
  status: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  snapshot_id: fc.option(long, { nil: null }),
  flag: fc.boolean(),
  f: fc.float({ noNaN: true }),
  d: fc.double({ noNaN: true }),
  kind: fc.constantFrom('A', 'B', 'C'),
  id: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  data_file: fc.record({
    content: fc.integer({ min: 0, max: 2 }),
    file_path: fc.string({ unit: 'grapheme', maxLength: 40 }),
    partition: fc.record({ x: fc.option(fc.string(), { nil: null }) }),
    file_size_in_bytes: long,
    column_sizes: fc.option(
      fc.array(fc.record({ key: fc.integer({ min: 0, max: 1000 }), value: long }), { maxLength: 6 }),
      {
        nil: null,
      },
    ),
    props: fc
      .dictionary(fc.string({ maxLength: 5 }), fc.uint8Array({ maxLength: 8 }), { maxKeys: 4 })
      .map((o) => new Map(Object.entries(o))),
    nulls: fc.array(fc.constant(null), { maxLength: 3 }),
    referenced_data_file: fc.option(fc.string({ maxLength: 10 }), { nil: null }),
  }),
  tail: fc.string({ maxLength: 10 }),
});

const scanner = createScanner(SCHEMA, SPEC);
const decode = createProjectedDecoder(SCHEMA, PROJECTION);
const encode = createEncoder(SCHEMA);

function encoded(values: unknown[]): Uint8Array {
  const w = new ByteWriter();
  for (const v of values) encode(w, v);
  return w.toBytes();
}

/** What a scan finds, as the decoder's values would give it. */
function expectedSlots(r: AvroRecord): number[] {
  const df = r.data_file as AvroRecord;
  const span = df.file_path as unknown as AvroSpan;
  const asNumber = (v: bigint | null) =>
    v === null
      ? Number.NaN
      : v > BigInt(Number.MAX_SAFE_INTEGER)
        ? Number.POSITIVE_INFINITY
        : v < -BigInt(Number.MAX_SAFE_INTEGER)
          ? Number.NEGATIVE_INFINITY
          : Number(v);
  const out: number[] = new Array(scanner.width).fill(Number.NaN);
  out[scanner.slot('status')] = r.status as number;
  out[scanner.slot('snapshot_id')] = asNumber(r.snapshot_id as bigint | null);
  out[scanner.slot('data_file.content')] = df.content as number;
  out[scanner.slot('data_file.file_path')] = span.start;
  out[scanner.slot('data_file.file_path') + 1] = span.end;
  out[scanner.slot('data_file.file_size_in_bytes')] = asNumber(df.file_size_in_bytes as bigint);
  out[scanner.slot('data_file.referenced_data_file')] = df.referenced_data_file === null ? 0 : 1;
  return out;
}

describe('createScanner', () => {
  it('finds the spans, values and record ends the projected decoder finds, on random records', () => {
    fc.assert(
      fc.property(fc.array(records, { minLength: 1, maxLength: 5 }), (values) => {
        const bytes = encoded(values);
        const r = new ByteReader(bytes);
        const got = new Float64Array(scanner.width);
        let pos = 0;
        for (let i = 0; i < values.length; i++) {
          const record = decode(r) as AvroRecord;
          pos = scanner.scan(bytes, pos, bytes.length, got);
          assert.equal(pos, r.pos);
          assert.deepEqual([...got], expectedSlots(record));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('leaves NaN for a field the schema lacks or a union holding null', () => {
    const t = parseAvroSchema(
      { type: 'record', name: 'r', fields: [{ name: 'a', type: ['null', 'int'] }] },
      'x.avro',
    );
    const s = createScanner(t, { a: 'int', missing: 'long' });
    const got = new Float64Array(s.width);
    assert.equal(s.scan(Uint8Array.of(0), 0, 1, got), 1);
    assert.ok(Number.isNaN(got[s.slot('a')]!));
    assert.throws(() => s.slot('missing'), /no captured field 'missing'/);
    assert.equal(s.scan(Uint8Array.of(2, 84), 0, 2, got), 2);
    assert.equal(got[s.slot('a')], 42);
  });

  it('refuses what a decoder refuses: bytes ending early, long varints, bad branches and lengths, ints over 32 bits', () => {
    const t = parseAvroSchema(
      {
        type: 'record',
        name: 'r',
        fields: [
          { name: 'i', type: 'int' },
          { name: 'u', type: ['null', 'long'] },
          { name: 's', type: 'string' },
        ],
      },
      'x.avro',
    );
    const s = createScanner(t, { i: 'int', s: 'span' });
    const out = new Float64Array(s.width);
    const scan = (...b: number[]) => s.scan(Uint8Array.from(b), 0, b.length, out);
    assert.equal(scan(2, 0, 2, 65), 4);
    assert.throws(() => scan(2, 0, 4, 65), NeedMoreBytes); // a string longer than what is left
    assert.throws(() => scan(2), NeedMoreBytes);
    assert.throws(() => scan(2, 4, 0, 0), /bad union branch 2 \(union has 2 branches\)/);
    assert.throws(() => scan(2, 0, 3, 65), /negative length -2/);
    assert.throws(() => scan(2, 2, ...Array(10).fill(0x80), 0, 0), /varint longer than 10 bytes/);
    assert.throws(
      () => scan(0x80, 0x80, 0x80, 0x80, 0x10, 0, 0),
      (e: unknown) => e instanceof AvroDataError && /32-bit/.test(e.message),
    );
  });

  it('does not compile a spec the type does not fit, nor a recursive schema', () => {
    const t = parseAvroSchema(
      {
        type: 'record',
        name: 'node',
        fields: [
          { name: 'n', type: 'int' },
          { name: 'next', type: ['null', 'node'] },
        ],
      },
      'x.avro',
    );
    assert.throws(() => createScanner(t, { n: 'span' }), /a span captures strings and bytes/);
    assert.throws(() => createScanner(t, { n: 'int' }), /recursive schema/);
  });
});
