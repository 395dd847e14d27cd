/**
 * Partition specs: parsing, transforms applied to single values, the partition tuple's Avro
 * type in manifests, and partition values spelled as text (Hive directory names).
 */
import { CorruptFileError } from '../errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../util/json.ts';
import {
  decimalOf,
  findFieldById,
  fixedLengthOf,
  isPrimitive,
  type PrimitiveType,
  type StructType,
} from './schema.ts';
import { bigintToFixed, compareValues, decimalRequiredBytes, type IcebergValue } from './values.ts';

/** One partition field. */
export interface PartitionField {
  readonly name: string;
  readonly transform: string;
  readonly sourceId: number;
  readonly fieldId: number;
}

/** A partition spec. */
export interface PartitionSpec {
  readonly specId: number;
  readonly fields: readonly PartitionField[];
}

/** The first partition field id Iceberg assigns. */
export const PARTITION_FIELD_ID_START = 1000;

function int(v: JsonValue | undefined, what: string, file: string): number {
  if (typeof v !== 'bigint') throw new CorruptFileError(file, `${what} is not an integer`);
  return Number(v);
}

function parseFields(fields: JsonValue, file: string, where: string): PartitionField[] {
  if (!Array.isArray(fields)) throw new CorruptFileError(file, `${where} is not an array`);
  return fields.map((f, i) => {
    if (!isJsonObject(f)) throw new CorruptFileError(file, `${where}[${i}] is not an object`);
    return {
      name: String(f.name),
      transform: String(f.transform),
      sourceId: int(f['source-id'], `${where}[${i}].source-id`, file),
      // v1 specs written before field ids existed number them from 1000 in order.
      fieldId:
        f['field-id'] === undefined
          ? PARTITION_FIELD_ID_START + i
          : int(f['field-id'], `${where}[${i}].field-id`, file),
    };
  });
}

/** The default partition spec of table metadata JSON. */
export function defaultSpec(metadata: JsonObject, file: string): PartitionSpec {
  const specs = metadata['partition-specs'];
  if (Array.isArray(specs) && specs.length) {
    const id = metadata['default-spec-id'];
    const found = specs.find((s) => isJsonObject(s) && s['spec-id'] === id) ?? specs[0];
    if (!isJsonObject(found)) throw new CorruptFileError(file, 'partition-specs entry is not an object');
    return {
      specId: int(found['spec-id'], 'spec-id', file),
      fields: parseFields(found.fields ?? [], file, 'fields'),
    };
  }
  if (Array.isArray(metadata['partition-spec'])) {
    return { specId: 0, fields: parseFields(metadata['partition-spec'], file, 'partition-spec') };
  }
  return { specId: 0, fields: [] };
}

/** A spec as an entry of `partition-specs`. */
export function specToJson(spec: PartitionSpec): JsonObject {
  return {
    'spec-id': BigInt(spec.specId),
    fields: spec.fields.map((f) => ({
      name: f.name,
      transform: f.transform,
      'source-id': BigInt(f.sourceId),
      'field-id': BigInt(f.fieldId),
    })),
  };
}

/** The type of a transform's result for a source type. */
export function transformResultType(transform: string, source: PrimitiveType): PrimitiveType {
  if (transform === 'identity' || transform === 'void' || transform.startsWith('truncate[')) return source;
  if (transform === 'day') return 'date';
  return 'int'; // year, month, hour, bucket[N]
}

const MICROS_PER_HOUR = 3_600_000_000n;
const MICROS_PER_DAY = 86_400_000_000n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** Days since the epoch of a date or timestamp value. */
function daysOf(source: PrimitiveType, v: IcebergValue): number {
  if (source === 'date') return v as number;
  const perDay = source.endsWith('_ns') ? MICROS_PER_DAY * 1000n : MICROS_PER_DAY;
  return Number(floorDiv(v as bigint, perDay));
}

function civil(days: number): { year: number; month: number } {
  const d = new Date(days * 86_400_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() };
}

/**
 * Applies a transform to one value, or returns `undefined` when the transform cannot be
 * computed here (bucket: the hash is not implemented; unknown transforms).
 */
export function applyTransform(
  transform: string,
  source: PrimitiveType,
  v: IcebergValue | null,
): IcebergValue | null | undefined {
  if (v === null) return null;
  if (transform === 'identity') return v;
  if (transform === 'void') return null;
  if (transform === 'day') return daysOf(source, v);
  if (transform === 'year') return civil(daysOf(source, v)).year - 1970;
  if (transform === 'month') {
    const c = civil(daysOf(source, v));
    return (c.year - 1970) * 12 + c.month;
  }
  if (transform === 'hour') {
    const per = source.endsWith('_ns') ? MICROS_PER_HOUR * 1000n : MICROS_PER_HOUR;
    return Number(floorDiv(v as bigint, per));
  }
  const trunc = /^truncate\[(\d+)\]$/.exec(transform);
  if (trunc) {
    const w = Number(trunc[1]);
    if (typeof v === 'number') return v - (((v % w) + w) % w);
    if (typeof v === 'bigint') {
      const W = BigInt(w);
      return v - (((v % W) + W) % W);
    }
    if (typeof v === 'string') return Array.from(v).slice(0, w).join('');
    if (v instanceof Uint8Array) return v.slice(0, w);
  }
  return undefined;
}

/** Whether a transform preserves order, so that equal results at min and max fix the value. */
export function isMonotonic(transform: string): boolean {
  return (
    ['identity', 'year', 'month', 'day', 'hour', 'void'].includes(transform) ||
    transform.startsWith('truncate[')
  );
}

/** The Avro schema (JSON) of one Iceberg primitive type, as Iceberg writes it in manifests. */
export function avroTypeOf(type: PrimitiveType): unknown {
  switch (type) {
    case 'boolean':
    case 'int':
    case 'long':
    case 'float':
    case 'double':
    case 'string':
      return type;
    case 'binary':
      return 'bytes';
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'time':
      return { type: 'long', logicalType: 'time-micros' };
    case 'timestamp':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false };
    case 'timestamptz':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true };
    case 'timestamp_ns':
      return { type: 'long', logicalType: 'timestamp-nanos', 'adjust-to-utc': false };
    case 'timestamptz_ns':
      return { type: 'long', logicalType: 'timestamp-nanos', 'adjust-to-utc': true };
    case 'uuid':
      return { type: 'fixed', name: 'uuid_fixed', size: 16, logicalType: 'uuid' };
  }
  const dec = decimalOf(type);
  if (dec) {
    return {
      type: 'fixed',
      name: `decimal_${dec.precision}_${dec.scale}`,
      size: decimalRequiredBytes(dec.precision),
      logicalType: 'decimal',
      precision: dec.precision,
      scale: dec.scale,
    };
  }
  const len = fixedLengthOf(type);
  if (len !== undefined) return { type: 'fixed', name: `fixed_${len}`, size: len };
  throw new CorruptFileError('partition spec', `type ${type} cannot be a partition value`);
}

/** A value as the Avro encoder takes it for `type` (decimals become sign-extended fixed bytes). */
export function avroValueOf(type: PrimitiveType, v: IcebergValue | null): IcebergValue | null {
  if (v === null) return null;
  const dec = decimalOf(type);
  if (dec) return bigintToFixed(v as bigint, decimalRequiredBytes(dec.precision));
  return v;
}

/** The partition tuple's fields with their result types, for a spec over a schema. */
export function partitionType(
  spec: PartitionSpec,
  schema: StructType,
): { field: PartitionField; type: PrimitiveType; sourceType: PrimitiveType }[] {
  return spec.fields.map((f) => {
    const source = findFieldById(schema, f.sourceId);
    if (!source || !isPrimitive(source.type)) {
      throw new CorruptFileError(
        'partition spec',
        `partition field ${f.name}: source column ${f.sourceId} is not a primitive column of the schema`,
      );
    }
    return { field: f, type: transformResultType(f.transform, source.type), sourceType: source.type };
  });
}

/** Hive's spelling of a null partition value. */
export const HIVE_DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/**
 * Parses a partition value written as text (a Hive directory name, already percent-decoded) as
 * `type`; `undefined` when the text is not a value of that type.
 */
export function parsePartitionText(type: PrimitiveType, text: string): IcebergValue | null | undefined {
  if (text === HIVE_DEFAULT_PARTITION) return null;
  switch (type) {
    case 'string':
      return text;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : undefined;
    case 'int': {
      if (!/^-?\d+$/.test(text)) return undefined;
      const n = Number(text);
      return n >= -(2 ** 31) && n < 2 ** 31 ? n : undefined;
    }
    case 'long': {
      if (!/^-?\d+$/.test(text)) return undefined;
      const n = BigInt(text);
      return n >= -(1n << 63n) && n < 1n << 63n ? n : undefined;
    }
    case 'float':
    case 'double': {
      const n = Number(text);
      return text.trim() !== '' && !Number.isNaN(n) ? n : undefined;
    }
    case 'date': {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
      if (!m) return undefined;
      const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
      const back = new Date(ms).toISOString().slice(0, 10);
      return back === text ? ms / 86_400_000 : undefined;
    }
  }
  const dec = decimalOf(type);
  if (dec) {
    const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
    if (!m) return undefined;
    const frac = m[3] ?? '';
    if (frac.length > dec.scale) return undefined;
    const unscaled = BigInt(`${m[2]}${frac.padEnd(dec.scale, '0')}`);
    return m[1] ? -unscaled : unscaled;
  }
  return undefined;
}

/** Lower and upper bound and null/NaN flags of one partition field across files. */
export class PartitionSummary {
  containsNull = false;
  containsNan = false;
  lower: IcebergValue | undefined;
  upper: IcebergValue | undefined;

  add(v: IcebergValue | null): void {
    if (v === null) {
      this.containsNull = true;
      return;
    }
    if (typeof v === 'number' && Number.isNaN(v)) {
      this.containsNan = true;
      return;
    }
    if (this.lower === undefined || compareValues(v, this.lower) < 0) this.lower = v;
    if (this.upper === undefined || compareValues(v, this.upper) > 0) this.upper = v;
  }
}
