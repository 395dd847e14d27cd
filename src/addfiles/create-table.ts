/**
 * Creating the table on the first run: its schema, spec and properties from the first readable
 * file (and the `--partition-by` terms), and the metadata of the new, empty table.
 */
import { ConfigError } from '../errors.ts';
import type { FormatVersion } from '../iceberg/metadata.ts';
import { NAME_MAPPING_PROPERTY, nameMappingOf, nameMappingToJson } from '../iceberg/name-mapping.ts';
import { PARTITION_FIELD_ID_START, type PartitionSpec } from '../iceberg/partition.ts';
import {
  findFieldByName,
  isPrimitive,
  maxFieldId,
  type NestedField,
  type Schema,
} from '../iceberg/schema.ts';
import type { ParquetFooter } from '../parquet/footer.ts';
import { hasFieldIds, parquetToIcebergStruct, parquetTree } from '../parquet/iceberg-schema.ts';
import type { JsonObject } from '../util/json.ts';
import { newTableMetadata } from './append.ts';
import { parsePartitionTerm, partitionFieldName } from './partition-grammar.ts';
import { hivePartitionValues, type ScannedFile } from './scan.ts';

/** How to create the table when it does not exist. */
export interface CreateTableOptions {
  /**
   * Partition fields: `col` (identity), `col:type` (identity on a Hive directory column the
   * files lack, typed; default string), `day(col)`, `month(col)`, `year(col)`, `hour(col)`,
   * `truncate(W, col)`, `bucket(N, col)`.
   */
  readonly partitionBy?: readonly string[];
  /** Table format version (default 2). */
  readonly formatVersion?: FormatVersion;
  /** Table location (default: the parent of the metadata root). */
  readonly location?: string;
  /** Extra table properties. */
  readonly properties?: Readonly<Record<string, string>>;
}

/** The schema, spec and properties of a table to create. */
export interface CreatedShape {
  schema: Schema;
  spec: PartitionSpec;
  lastColumnId: number;
  properties: Record<string, string>;
}

/** The schema, spec and properties of a table created from the first readable file. */
export function createShape(
  create: CreateTableOptions,
  footer: ParquetFooter,
  first: ScannedFile,
): CreatedShape {
  const useIds = hasFieldIds(footer);
  let struct = parquetToIcebergStruct(parquetTree(footer), useIds, true);
  let nextId = maxFieldId(struct) + 1;
  const hive = hivePartitionValues(first.relative);
  const fields: PartitionSpec['fields'][number][] = [];
  const extra: NestedField[] = [];
  for (const term of create.partitionBy ?? []) {
    const p = parsePartitionTerm(term);
    let source = findFieldByName(struct, p.column) ?? extra.find((f) => f.name === p.column);
    if (!source) {
      if (p.transform !== 'identity' || !hive.has(p.column)) {
        throw new ConfigError(
          `--partition-by ${term}: column ${p.column} is neither in ${first.path} nor a '${p.column}=' directory above it`,
        );
      }
      source = { id: nextId++, name: p.column, required: false, type: p.type ?? 'string' };
      extra.push(source);
    } else if (p.type && p.type !== source.type) {
      throw new ConfigError(
        `--partition-by ${term}: column ${p.column} is ${String(source.type)} in the files`,
      );
    }
    if (!isPrimitive(source.type))
      throw new ConfigError(`--partition-by ${term}: ${p.column} is not a primitive column`);
    fields.push({
      name: partitionFieldName(p),
      transform: p.transform,
      sourceId: source.id,
      fieldId: PARTITION_FIELD_ID_START + fields.length,
    });
  }
  if (extra.length) struct = { type: 'struct', fields: [...struct.fields, ...extra] };
  const schema: Schema = { schemaId: 0, struct };
  const properties: Record<string, string> = { ...(create.properties ?? {}) };
  if (!useIds) properties[NAME_MAPPING_PROPERTY] = nameMappingToJson(nameMappingOf(struct));
  return { schema, spec: { specId: 0, fields }, lastColumnId: nextId - 1, properties };
}

/**
 * The metadata of the new, empty table: format version 2 and, without a location, the parent
 * of the metadata root when that ends in `/metadata` (else the root itself).
 */
export function createdTableMetadata(
  create: CreateTableOptions | undefined,
  metadataRoot: string,
  shape: CreatedShape,
  timestampMs: bigint,
): { json: JsonObject; formatVersion: FormatVersion } {
  const formatVersion = create?.formatVersion ?? 2;
  const location =
    create?.location ??
    (metadataRoot.endsWith('/metadata') ? metadataRoot.slice(0, -'/metadata'.length) : metadataRoot);
  const json = newTableMetadata({
    formatVersion,
    location,
    schema: shape.schema,
    spec: shape.spec,
    lastColumnId: shape.lastColumnId,
    properties: shape.properties,
    timestampMs,
  });
  return { json, formatVersion };
}
