/**
 * A new data file entry from a Parquet footer: columns resolved to the table schema, metrics,
 * and the partition tuple from Hive-style directory names or from the footer's bounds. A file
 * that does not fit, or is an Iceberg delete file, is rejected with the reason, never guessed.
 */
import type { NameMapping } from '../iceberg/name-mapping.ts';
import {
  applyTransform,
  isMonotonic,
  type PartitionField,
  parsePartitionText,
} from '../iceberg/partition.ts';
import { findFieldById, type PrimitiveType, type StructType } from '../iceberg/schema.ts';
import { compareValues, type IcebergValue } from '../iceberg/values.ts';
import type { ParquetFooter } from '../parquet/footer.ts';
import { hasFieldIds, parquetTree, resolveColumns } from '../parquet/iceberg-schema.ts';
import { type DataFileMetrics, footerMetrics } from '../parquet/metrics.ts';
import { deleteFileEvidence, deleteFileRejection } from './delete-files.ts';

/** The table as add-files needs it. */
export interface TableShape {
  readonly schema: StructType;
  readonly partitionFields: readonly {
    field: PartitionField;
    type: PrimitiveType;
    sourceType: PrimitiveType;
  }[];
  readonly nameMapping: NameMapping | undefined;
  readonly properties: Readonly<Record<string, string>>;
}

/** A file ready to be added. */
export interface NewDataFile {
  readonly path: string;
  readonly size: number;
  readonly metrics: DataFileMetrics;
  /** One value per partition field, in spec order. */
  readonly partition: readonly (IcebergValue | null)[];
}

export type DataFileOutcome = { readonly ok: NewDataFile } | { readonly rejected: string };

/** Spells a value for messages. */
function show(v: IcebergValue | null): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`;
  return String(v);
}

/**
 * The partition value of one field: from the directory names when they name it (checked
 * against the footer when the file holds the column), else from the footer when the column's
 * transformed lower and upper bounds agree.
 */
function partitionValue(
  pf: TableShape['partitionFields'][number],
  schema: StructType,
  hive: ReadonlyMap<string, string>,
  metrics: DataFileMetrics,
  inFile: boolean,
): { value: IcebergValue | null } | { reason: string } {
  const { field, type, sourceType } = pf;
  const sourceName = findFieldById(schema, field.sourceId)?.name ?? String(field.sourceId);
  const text = hive.get(field.name) ?? (field.transform === 'identity' ? hive.get(sourceName) : undefined);
  const lower = metrics.lowerValues.get(field.sourceId);
  const upper = metrics.upperValues.get(field.sourceId);
  const nulls = metrics.nullValueCounts.get(field.sourceId);
  const values = metrics.valueCounts.get(field.sourceId);
  const allNull = nulls !== undefined && values !== undefined && nulls === values;

  if (text !== undefined) {
    const parsed =
      field.transform === 'identity' ? parsePartitionText(sourceType, text) : parsePartitionText(type, text);
    if (parsed === undefined) {
      return {
        reason: `directory value '${text}' of partition ${field.name} is not a ${field.transform === 'identity' ? sourceType : type}`,
      };
    }
    if (field.transform !== 'identity' && field.transform !== 'day') {
      return {
        reason: `partition ${field.name} (${field.transform}) cannot be read from a directory name; only identity and day can`,
      };
    }
    if (inFile && !allNull && lower !== undefined && upper !== undefined) {
      const lo = applyTransform(field.transform, sourceType, lower);
      const hi = applyTransform(field.transform, sourceType, upper);
      if (
        parsed === null ||
        lo === undefined ||
        hi === undefined ||
        lo === null ||
        hi === null ||
        compareValues(lo, parsed) !== 0 ||
        compareValues(hi, parsed) !== 0
      ) {
        return {
          reason: `directory says ${field.name}=${text} but column ${sourceName} holds ${show(lower)} .. ${show(upper)}`,
        };
      }
    }
    return { value: parsed };
  }
  if (!inFile)
    return {
      reason: `partition ${field.name}: no '${field.name}=' directory and column ${sourceName} is not in the file`,
    };
  if (allNull) return { value: null };
  if (!isMonotonic(field.transform)) {
    return {
      reason: `partition ${field.name} (${field.transform}) cannot be inferred from column bounds; name it in a '${field.name}=' directory`,
    };
  }
  if (lower === undefined || upper === undefined) {
    return { reason: `partition ${field.name}: column ${sourceName} has no usable min/max statistics` };
  }
  if (nulls !== undefined && nulls > 0n) {
    return {
      reason: `partition ${field.name}: column ${sourceName} mixes nulls and values, so the file spans partitions`,
    };
  }
  const lo = applyTransform(field.transform, sourceType, lower);
  const hi = applyTransform(field.transform, sourceType, upper);
  if (lo === undefined || hi === undefined || lo === null || hi === null) {
    return { reason: `partition ${field.name}: transform ${field.transform} is not supported for inference` };
  }
  if (compareValues(lo, hi) !== 0) {
    return {
      reason: `partition ${field.name}: column ${sourceName} spans ${show(lower)} .. ${show(upper)}, more than one partition`,
    };
  }
  return { value: lo };
}

/**
 * Builds the entry of one file from its footer, or the reason it cannot be added. A delete file
 * (see delete-files.ts) is always rejected, whatever its columns.
 * @param hive the Hive-style partition values of the file's directories.
 */
export function dataFileFromFooter(
  table: TableShape,
  path: string,
  size: number,
  hive: ReadonlyMap<string, string>,
  footer: ParquetFooter,
): DataFileOutcome {
  const deletes = deleteFileEvidence(footer, path, table.schema);
  if (deletes) return { rejected: deleteFileRejection(deletes) };
  const root = parquetTree(footer);
  const useIds = hasFieldIds(footer);
  const resolution = resolveColumns(root, table.schema, table.nameMapping, useIds);
  if (resolution.problems.length) {
    return { rejected: `schema does not fit the table: ${resolution.problems.slice(0, 5).join('; ')}` };
  }
  let metrics: DataFileMetrics;
  try {
    metrics = footerMetrics(footer, resolution, table.properties);
  } catch (err) {
    return { rejected: (err as Error).message };
  }
  for (const col of resolution.optionalForRequired) {
    const nulls = metrics.nullValueCounts.get(col.fieldId);
    if (nulls !== 0n) {
      return {
        rejected: `schema does not fit the table: column ${col.name} is required in the table but optional in the file ${nulls === undefined ? 'without a null count' : `with ${nulls} nulls`}`,
      };
    }
  }
  const fileIds = new Set([...resolution.columns.values()].map((c) => c.fieldId));
  const partition: (IcebergValue | null)[] = [];
  for (const pf of table.partitionFields) {
    const r = partitionValue(pf, table.schema, hive, metrics, fileIds.has(pf.field.sourceId));
    if ('reason' in r) return { rejected: r.reason };
    partition.push(r.value);
  }
  return { ok: { path, size, metrics, partition } };
}
