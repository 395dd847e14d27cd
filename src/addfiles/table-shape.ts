/** The shape data files are checked and described against: a table's schema, spec and properties. */
import { ConfigError } from '../errors.ts';
import { NAME_MAPPING_PROPERTY, type NameMapping, parseNameMapping } from '../iceberg/name-mapping.ts';
import { type PartitionSpec, partitionType } from '../iceberg/partition.ts';
import type { Schema } from '../iceberg/schema.ts';
import { parseMetricsMode } from '../parquet/metrics.ts';
import type { TableShape } from './data-file.ts';

/**
 * The {@link TableShape} of a schema, spec and table properties; a metrics-mode property that
 * does not parse is a `ConfigError`.
 */
export function shapeOf(schema: Schema, spec: PartitionSpec, properties: Record<string, string>): TableShape {
  const text = properties[NAME_MAPPING_PROPERTY];
  let nameMapping: NameMapping | undefined;
  if (text !== undefined) nameMapping = parseNameMapping(text);
  for (const [k, v] of Object.entries(properties)) {
    if (
      (k === 'write.metadata.metrics.default' || k.startsWith('write.metadata.metrics.column.')) &&
      !parseMetricsMode(v)
    ) {
      throw new ConfigError(
        `table property ${k}='${v}' is not a metrics mode (none, counts, truncate(N), full)`,
      );
    }
  }
  return {
    schema: schema.struct,
    partitionFields: partitionType(spec, schema.struct),
    nameMapping,
    properties,
  };
}
