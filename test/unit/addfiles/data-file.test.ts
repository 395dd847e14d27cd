/**
 * Data file entries from footers: nullability, partition values from directories and from bounds,
 * and the single-value helpers (truncation of bounds, two's complement decimals).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { dataFileFromFooter, type TableShape } from '../../../src/addfiles/data-file.ts';
import { nameMappingOf } from '../../../src/iceberg/name-mapping.ts';
import { partitionType } from '../../../src/iceberg/partition.ts';
import type { StructType } from '../../../src/iceberg/schema.ts';
import {
  bigintToTwosComplement,
  truncateBinaryMax,
  truncateStringMax,
  truncateStringMin,
  twosComplementToBigint,
} from '../../../src/iceberg/values.ts';
import { readParquetFooter } from '../../../src/parquet/footer.ts';
import { bytesRangeReader } from '../../../src/storage/storage.ts';

const schema = (required: boolean): StructType => ({
  type: 'struct',
  fields: [
    { id: 1, name: 'id', required, type: 'long' },
    { id: 2, name: 'day', required: false, type: 'date' },
    { id: 3, name: 'region', required: false, type: 'string' },
  ],
});

function shape(
  struct: StructType,
  partitionBy: { name: string; transform: string; sourceId: number }[],
): TableShape {
  const spec = { specId: 0, fields: partitionBy.map((p, i) => ({ ...p, fieldId: 1000 + i })) };
  return {
    schema: struct,
    partitionFields: partitionType(spec, struct),
    nameMapping: nameMappingOf(struct),
    properties: {},
  };
}

const ELEMENTS: Record<string, object> = {
  INT64: { type: 'INT64' },
  STRING: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  DATE: { type: 'INT32', converted_type: 'DATE' },
};

/** A footer of optional columns (DATE data as days since the epoch). */
async function footer(columns: { name: string; data: unknown[]; type: string }[]) {
  const bytes = new Uint8Array(
    parquetWriteBuffer({
      columnData: columns.map((c) => ({ name: c.name, data: c.data })) as never,
      schema: [
        { name: 'root', num_children: columns.length },
        ...columns.map((c) => ({ name: c.name, repetition_type: 'OPTIONAL', ...ELEMENTS[c.type] })),
      ] as never,
      statisticsTruncateLength: Number.POSITIVE_INFINITY,
    }),
  );
  return readParquetFooter(bytesRangeReader(bytes), 'f.parquet');
}

const noHive = new Map<string, string>();

describe('data file entries from footers', () => {
  it('accepts an optional file column for a required table column only when it holds no null', async () => {
    const s = shape(schema(true), []);
    const clean = await footer([{ name: 'id', data: [1n, 2n], type: 'INT64' }]);
    assert.ok('ok' in dataFileFromFooter(s, '/f', 1, noHive, clean));
    const withNull = await footer([{ name: 'id', data: [1n, null], type: 'INT64' }]);
    const r = dataFileFromFooter(s, '/f', 1, noHive, withNull);
    assert.ok('rejected' in r);
    assert.match(r.rejected, /column id is required in the table but optional in the file with 1 nulls/);
  });

  it('infers identity and day partitions from bounds, and rejects what spans partitions or mixes nulls', async () => {
    const byDay = shape(schema(false), [{ name: 'day', transform: 'identity', sourceId: 2 }]);
    const oneDay = await footer([{ name: 'day', data: [19783, 19783], type: 'DATE' }]);
    const r1 = dataFileFromFooter(byDay, '/f', 1, noHive, oneDay);
    assert.ok('ok' in r1);
    assert.deepEqual(r1.ok.partition, [19783]);
    const twoDays = await footer([{ name: 'day', data: [19783, 19784], type: 'DATE' }]);
    const r2 = dataFileFromFooter(byDay, '/f', 1, noHive, twoDays);
    assert.ok('rejected' in r2);
    assert.match(r2.rejected, /spans .* more than one partition/);
    const mixed = await footer([{ name: 'day', data: [19783, null], type: 'DATE' }]);
    const r3 = dataFileFromFooter(byDay, '/f', 1, noHive, mixed);
    assert.ok('rejected' in r3);
    assert.match(r3.rejected, /mixes nulls and values/);
    const allNull = await footer([{ name: 'day', data: [null, null], type: 'DATE' }]);
    const r4 = dataFileFromFooter(byDay, '/f', 1, noHive, allNull);
    assert.ok('ok' in r4);
    assert.deepEqual(r4.ok.partition, [null]);
  });

  it('takes Hive directory values, checks them against the file, and refuses bucket inference', async () => {
    const byRegion = shape(schema(false), [{ name: 'region', transform: 'identity', sourceId: 3 }]);
    const ids = await footer([{ name: 'id', data: [1n], type: 'INT64' }]);
    const r1 = dataFileFromFooter(byRegion, '/f', 1, new Map([['region', 'eu%2Fwest']]), ids);
    assert.ok('ok' in r1);
    const r0 = dataFileFromFooter(
      byRegion,
      '/f',
      1,
      new Map([['region', '__HIVE_DEFAULT_PARTITION__']]),
      ids,
    );
    assert.ok('ok' in r0);
    assert.deepEqual(r0.ok.partition, [null]);
    const holds = await footer([{ name: 'region', data: ['us', 'us'], type: 'STRING' }]);
    const r2 = dataFileFromFooter(byRegion, '/f', 1, new Map([['region', 'eu']]), holds);
    assert.ok('rejected' in r2);
    assert.match(r2.rejected, /directory says region=eu but column region holds us \.\. us/);
    const byBucket = shape(schema(false), [{ name: 'id_bucket', transform: 'bucket[4]', sourceId: 1 }]);
    const r3 = dataFileFromFooter(byBucket, '/f', 1, noHive, ids);
    assert.ok('rejected' in r3);
    assert.match(r3.rejected, /bucket\[4\]\) cannot be inferred/);
  });
});

describe('single values', () => {
  it('truncates string bounds by code point and increments the upper bound past surrogates and the maximum', () => {
    assert.equal(truncateStringMin('ab🎉cd', 3), 'ab🎉');
    assert.equal(truncateStringMax('ab🎉cd', 3), 'ab🎊');
    assert.equal(truncateStringMax('a\u{d7ff}z', 2), 'a\u{e000}');
    assert.equal(truncateStringMax('a\u{10ffff}z', 2), 'b');
    assert.equal(truncateStringMax('\u{10ffff}\u{10ffff}z', 2), undefined);
    assert.equal(truncateStringMax('short', 16), 'short');
  });

  it('truncates binary upper bounds, dropping 0xFF bytes, or gives none', () => {
    assert.deepEqual(truncateBinaryMax(Uint8Array.of(1, 0xff, 3), 2), Uint8Array.of(2));
    assert.equal(truncateBinaryMax(Uint8Array.of(0xff, 0xff, 3), 2), undefined);
  });

  it('writes decimals as minimal two-s complement, as Java BigInteger.toByteArray does', () => {
    assert.deepEqual(bigintToTwosComplement(0n), Uint8Array.of(0));
    assert.deepEqual(bigintToTwosComplement(127n), Uint8Array.of(0x7f));
    assert.deepEqual(bigintToTwosComplement(128n), Uint8Array.of(0, 0x80));
    assert.deepEqual(bigintToTwosComplement(-1n), Uint8Array.of(0xff));
    assert.deepEqual(bigintToTwosComplement(-129n), Uint8Array.of(0xff, 0x7f));
    for (const v of [0n, 1n, -1n, 12345678901234567890n, -(10n ** 37n)]) {
      assert.equal(twosComplementToBigint(bigintToTwosComplement(v)), v);
    }
  });
});
