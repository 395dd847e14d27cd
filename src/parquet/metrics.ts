/**
 * Iceberg column metrics of a data file from its Parquet footer alone, following Iceberg's
 * own footer metrics (Java `ParquetUtil.footerMetrics`): column sizes, value counts, null
 * counts, NaN counts where the file records them, and lower/upper bounds under the table's
 * metrics modes (`write.metadata.metrics.default`, default `truncate(16)`, and
 * `write.metadata.metrics.column.<name>`).
 */
import type { PrimitiveType } from '../iceberg/schema.ts';
import { decimalOf } from '../iceberg/schema.ts';
import {
  compareValues,
  decodeUtf8,
  type IcebergValue,
  serializeValue,
  truncateBinaryMax,
  truncateBinaryMin,
  truncateStringMax,
  truncateStringMin,
  twosComplementToBigint,
} from '../iceberg/values.ts';
import type { ParquetFooter, ParquetSchemaElement } from './footer.ts';
import { type ColumnResolution, columnKey, type ResolvedColumn } from './iceberg-schema.ts';

/** A metrics mode: none, counts, truncate(N) or full. */
export type MetricsMode =
  | { kind: 'none' }
  | { kind: 'counts' }
  | { kind: 'full' }
  | { kind: 'truncate'; length: number };

export const DEFAULT_METRICS_MODE = 'truncate(16)';
const DEFAULT_PROPERTY = 'write.metadata.metrics.default';
const COLUMN_PROPERTY_PREFIX = 'write.metadata.metrics.column.';

/** Parses a metrics mode as the table properties spell it; `undefined` when malformed. */
export function parseMetricsMode(text: string): MetricsMode | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'none' || t === 'counts' || t === 'full') return { kind: t };
  const m = /^truncate\((\d+)\)$/.exec(t);
  if (m && Number(m[1]) > 0) return { kind: 'truncate', length: Number(m[1]) };
  return undefined;
}

/** The metrics mode of one column under the table's properties. */
export function metricsModeFor(properties: Readonly<Record<string, string>>, column: string): MetricsMode {
  const text =
    properties[`${COLUMN_PROPERTY_PREFIX}${column}`] ?? properties[DEFAULT_PROPERTY] ?? DEFAULT_METRICS_MODE;
  const mode = parseMetricsMode(text);
  if (!mode) throw new Error(`malformed metrics mode '${text}' for column ${column}`);
  return mode;
}

/** Metrics of one data file, keyed by field id. */
export interface DataFileMetrics {
  readonly recordCount: bigint;
  readonly columnSizes: Map<number, bigint>;
  readonly valueCounts: Map<number, bigint>;
  readonly nullValueCounts: Map<number, bigint>;
  readonly nanValueCounts: Map<number, bigint>;
  /** Bounds as the spec's single-value serialization. */
  readonly lowerBounds: Map<number, Uint8Array>;
  readonly upperBounds: Map<number, Uint8Array>;
  /** Bounds as values (for partition inference from min = max). */
  readonly lowerValues: Map<number, IcebergValue>;
  readonly upperValues: Map<number, IcebergValue>;
  readonly splitOffsets: readonly bigint[];
}

function isTimestampMillis(e: ParquetSchemaElement): boolean {
  const lt = e.logicalType;
  return (lt?.type === 'TIMESTAMP' && lt.unit === 'MILLIS') || e.convertedType === 'TIMESTAMP_MILLIS';
}

function isTimeMillis(e: ParquetSchemaElement): boolean {
  const lt = e.logicalType;
  return (lt?.type === 'TIME' && lt.unit === 'MILLIS') || e.convertedType === 'TIME_MILLIS';
}

/**
 * Decodes a PLAIN-encoded statistics value of a Parquet column as a value of the table type,
 * or `undefined` when it cannot serve as a bound (NaN, INT96, malformed bytes). A zero bound of
 * a float column is widened to the other sign, as the Parquet spec tells readers to (a min of +0
 * may hide -0 values, a max of -0 may hide +0), so the bound holds under Iceberg's ordering where
 * -0 < +0.
 */
export function statValue(
  raw: Uint8Array,
  e: ParquetSchemaElement,
  type: PrimitiveType,
  bound: 'min' | 'max' = 'min',
): IcebergValue | undefined {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dec = decimalOf(type);
  switch (e.type) {
    case 'BOOLEAN':
      return raw.length >= 1 ? (raw[0] as number) !== 0 : undefined;
    case 'INT32': {
      if (raw.length !== 4) return undefined;
      const unsigned = e.logicalType?.type === 'INTEGER' && !e.logicalType.isSigned;
      const v = unsigned ? view.getUint32(0, true) : view.getInt32(0, true);
      if (dec) return BigInt(v);
      if (type === 'long') return BigInt(v);
      if (type === 'time') return BigInt(v) * (isTimeMillis(e) ? 1000n : 1n);
      return v;
    }
    case 'INT64': {
      if (raw.length !== 8) return undefined;
      const v = view.getBigInt64(0, true);
      if (type.startsWith('timestamp') && isTimestampMillis(e)) return v * 1000n;
      return v;
    }
    case 'FLOAT': {
      if (raw.length !== 4) return undefined;
      return widenZero(view.getFloat32(0, true), bound);
    }
    case 'DOUBLE': {
      if (raw.length !== 8) return undefined;
      return widenZero(view.getFloat64(0, true), bound);
    }
    case 'BYTE_ARRAY':
    case 'FIXED_LEN_BYTE_ARRAY':
      if (dec) return twosComplementToBigint(raw);
      if (type === 'string') return decodeUtf8(raw);
      return raw.slice();
    default:
      return undefined; // INT96: Iceberg keeps no bounds for it
  }
}

function widenZero(v: number, bound: 'min' | 'max'): number | undefined {
  if (Number.isNaN(v)) return undefined;
  if (v === 0) return bound === 'min' ? -0 : 0;
  return v;
}

/** Parquet sort order of a column is unsigned, so the deprecated signed min/max are unreliable. */
function unsignedOrder(e: ParquetSchemaElement): boolean {
  if (e.type === 'BYTE_ARRAY' || e.type === 'FIXED_LEN_BYTE_ARRAY') return true;
  const lt = e.logicalType;
  return (lt?.type === 'INTEGER' && !lt.isSigned) || /^UINT_/.test(e.convertedType ?? '');
}

const add = (m: Map<number, bigint>, id: number, v: bigint) => m.set(id, (m.get(id) ?? 0n) + v);

/**
 * Computes the metrics of a file whose columns were resolved with `resolution`. Columns the
 * table does not know are left out. A column whose statistics are missing in any row group
 * gets no null count and no bounds, rather than wrong ones.
 */
export function footerMetrics(
  footer: ParquetFooter,
  resolution: ColumnResolution,
  properties: Readonly<Record<string, string>>,
): DataFileMetrics {
  const columnSizes = new Map<number, bigint>();
  const valueCounts = new Map<number, bigint>();
  const nullValueCounts = new Map<number, bigint>();
  const nanValueCounts = new Map<number, bigint>();
  const lowerValues = new Map<number, IcebergValue>();
  const upperValues = new Map<number, IcebergValue>();
  const noNulls = new Set<number>();
  const noNans = new Set<number>();
  const noBounds = new Set<number>();
  const modes = new Map<number, MetricsMode>();
  const cols = new Map<number, ResolvedColumn>();

  for (const rg of footer.rowGroups) {
    for (const chunk of rg.columns) {
      const col = resolution.columns.get(columnKey(chunk.path));
      if (!col) continue;
      const id = col.fieldId;
      cols.set(id, col);
      add(columnSizes, id, BigInt(chunk.totalCompressedSize));
      let mode = modes.get(id);
      if (!mode) {
        mode = metricsModeFor(properties, col.name);
        // Only strings and binary are truncated; other types keep full bounds.
        if (
          mode.kind === 'truncate' &&
          !['string', 'binary'].includes(col.type) &&
          !col.type.startsWith('fixed[')
        ) {
          mode = { kind: 'full' };
        }
        modes.set(id, mode);
      }
      if (mode.kind === 'none') continue;
      add(valueCounts, id, chunk.numValues);
      const stats = chunk.statistics;
      if (!stats || (stats.nullCount === undefined && stats.min === undefined && stats.max === undefined)) {
        noNulls.add(id);
        noNans.add(id);
        noBounds.add(id);
        continue;
      }
      if (stats.nullCount !== undefined) add(nullValueCounts, id, stats.nullCount);
      else noNulls.add(id);
      if (col.type === 'float' || col.type === 'double') {
        if (stats.nanCount !== undefined) add(nanValueCounts, id, stats.nanCount);
        else noNans.add(id);
      }
      if (mode.kind === 'counts') continue;
      const eligible =
        col.onlyStructs &&
        !col.repeated &&
        col.element.type !== 'INT96' &&
        !(stats.legacyMinMax && unsignedOrder(col.element));
      const allNull = stats.nullCount !== undefined && stats.nullCount === chunk.numValues;
      if (!eligible) {
        noBounds.add(id);
        continue;
      }
      if (allNull) continue; // a group of nulls says nothing about bounds
      const min = stats.min && statValue(stats.min, col.element, col.type, 'min');
      const max = stats.max && statValue(stats.max, col.element, col.type, 'max');
      if (min === undefined || max === undefined) {
        noBounds.add(id);
        continue;
      }
      const lo = lowerValues.get(id);
      if (lo === undefined || compareValues(min, lo) < 0) lowerValues.set(id, min);
      const hi = upperValues.get(id);
      if (hi === undefined || compareValues(max, hi) > 0) upperValues.set(id, max);
    }
  }
  for (const id of noNulls) nullValueCounts.delete(id);
  for (const id of noNans) nanValueCounts.delete(id);
  for (const id of noBounds) {
    lowerValues.delete(id);
    upperValues.delete(id);
  }

  const lowerBounds = new Map<number, Uint8Array>();
  const upperBounds = new Map<number, Uint8Array>();
  for (const [id, v] of lowerValues) {
    const col = cols.get(id) as ResolvedColumn;
    const mode = modes.get(id) as MetricsMode;
    let b: IcebergValue = v;
    if (mode.kind === 'truncate') {
      if (typeof v === 'string') b = truncateStringMin(v, mode.length);
      else if (v instanceof Uint8Array) b = truncateBinaryMin(v, mode.length);
    }
    lowerBounds.set(id, serializeValue(col.type, b));
  }
  for (const [id, v] of upperValues) {
    const col = cols.get(id) as ResolvedColumn;
    const mode = modes.get(id) as MetricsMode;
    let b: IcebergValue | undefined = v;
    if (mode.kind === 'truncate') {
      if (typeof v === 'string') b = truncateStringMax(v, mode.length);
      else if (v instanceof Uint8Array) b = truncateBinaryMax(v, mode.length);
    }
    if (b !== undefined) upperBounds.set(id, serializeValue(col.type, b));
  }

  return {
    recordCount: footer.rowCount,
    columnSizes,
    valueCounts,
    nullValueCounts,
    nanValueCounts,
    lowerBounds,
    upperBounds,
    lowerValues,
    upperValues,
    splitOffsets: footer.splitOffsets.map((o) => BigInt(o)),
  };
}
