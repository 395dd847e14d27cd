/**
 * The Glue table an Iceberg table is registered as, in the shape Apache Iceberg's GlueCatalog
 * (Java `IcebergToGlueConverter`) and PyIceberg's `GlueCatalog` write it, so that Athena, EMR,
 * Spark and PyIceberg all see the same table:
 *
 * - `TableType` `EXTERNAL_TABLE`;
 * - `Parameters`: `table_type=ICEBERG`, `metadata_location`, `previous_metadata_location` (on a
 *   commit), the table's properties as strings, over whatever the Glue table already had;
 * - `StorageDescriptor.Location`: the table's location; `Columns`: every column of the current
 *   schema, then those only older schemas have, with Hive type names and the
 *   `iceberg.field.id` / `iceberg.field.optional` / `iceberg.field.current` parameters.
 *
 * Glue reads none of this to resolve the table: readers follow `metadata_location` alone. The
 * columns are for Glue's own consoles and for Athena's listing.
 */
import type { Column, TableInput } from '@aws-sdk/client-glue';
import { decodeMetadata } from '../../iceberg/metadata-json.ts';
import { type IcebergType, isPrimitive, parseSchema, type Schema } from '../../iceberg/schema.ts';
import { isJsonObject } from '../../util/json.ts';

/** The Glue parameter marking an Iceberg table (its value is `ICEBERG`, any case on reading). */
export const TABLE_TYPE = 'table_type';
export const ICEBERG = 'ICEBERG';
export const METADATA_LOCATION = 'metadata_location';
export const PREVIOUS_METADATA_LOCATION = 'previous_metadata_location';
/** Glue's limit on a table description. */
const MAX_DESCRIPTION = 2048;

/** The Hive type name Glue shows for an Iceberg type (Java's and PyIceberg's mapping). */
export function glueTypeName(t: IcebergType): string {
  if (isPrimitive(t)) {
    if (t.startsWith('decimal')) return t.replace(/\s+/g, '');
    if (t.startsWith('fixed')) return 'binary';
    switch (t) {
      case 'boolean':
      case 'int':
      case 'float':
      case 'double':
      case 'date':
      case 'string':
      case 'binary':
        return t;
      case 'long':
        return 'bigint';
      case 'time':
      case 'uuid':
        return 'string';
      case 'timestamp':
      case 'timestamptz':
      case 'timestamp_ns':
      case 'timestamptz_ns':
        return 'timestamp';
      default:
        // variant, geometry, unknown...: the spec name, as PyIceberg writes it.
        return t;
    }
  }
  switch (t.type) {
    case 'struct':
      return `struct<${t.fields.map((f) => `${f.name}:${glueTypeName(f.type)}`).join(',')}>`;
    case 'list':
      return `array<${glueTypeName(t.element)}>`;
    case 'map':
      return `map<${glueTypeName(t.key)},${glueTypeName(t.value)}>`;
  }
}

/** Columns of every schema, current first; a name already listed is not listed again. */
export function glueColumns(schemas: readonly Schema[], currentSchemaId: number | undefined): Column[] {
  const out = new Map<string, Column>();
  const current = schemas.find((s) => s.schemaId === currentSchemaId) ?? schemas.at(-1);
  const ordered = current ? [current, ...schemas.filter((s) => s !== current)] : [];
  for (const schema of ordered) {
    for (const field of schema.struct.fields) {
      if (out.has(field.name)) continue;
      out.set(field.name, {
        Name: field.name,
        Type: glueTypeName(field.type),
        ...(field.doc !== undefined ? { Comment: field.doc } : {}),
        Parameters: {
          'iceberg.field.id': String(field.id),
          'iceberg.field.optional': String(!field.required),
          'iceberg.field.current': String(schema === current),
        },
      });
    }
  }
  return [...out.values()];
}

/** What of a metadata file the Glue table shows. */
export interface GlueTableShape {
  readonly location?: string;
  readonly columns: Column[];
  readonly properties: Readonly<Record<string, string>>;
}

/**
 * The location, columns and properties of metadata bytes. Bytes that are not table metadata
 * give none of them: the Glue table then carries only the pointer, which is all readers need.
 */
export function glueShapeOf(bytes: Uint8Array | undefined, file: string): GlueTableShape {
  if (!bytes) return { columns: [], properties: {} };
  try {
    const doc = decodeMetadata(bytes, file);
    const raw = doc.json.schemas;
    const schemas = Array.isArray(raw)
      ? raw.filter(isJsonObject).map((s) => parseSchema(s, file))
      : doc.json.schema
        ? [parseSchema(doc.json.schema, file)]
        : [];
    return {
      location: doc.metadata.location,
      columns: glueColumns(schemas, doc.metadata.currentSchemaId),
      properties: doc.metadata.properties,
    };
  } catch {
    return { columns: [], properties: {} };
  }
}

/**
 * The `TableInput` of a create (`previous` undefined) or of a commit over `previous`, keeping the
 * parameters `existing` (the Glue table as loaded) already has, as Java and PyIceberg do.
 */
export function glueTableInput(
  name: string,
  metadataLocation: string,
  previous: string | undefined,
  shape: GlueTableShape,
  existing?: { Parameters?: Record<string, string>; Description?: string },
): TableInput {
  const parameters: Record<string, string> = {
    ...(existing?.Parameters ?? {}),
    ...shape.properties,
    [TABLE_TYPE]: ICEBERG,
    [METADATA_LOCATION]: metadataLocation,
  };
  if (previous !== undefined) parameters[PREVIOUS_METADATA_LOCATION] = previous;
  else delete parameters[PREVIOUS_METADATA_LOCATION];
  const comment = shape.properties.comment;
  const description = comment !== undefined ? comment.slice(0, MAX_DESCRIPTION) : existing?.Description;
  return {
    Name: name,
    TableType: 'EXTERNAL_TABLE',
    Parameters: parameters,
    ...(description !== undefined ? { Description: description } : {}),
    StorageDescriptor: {
      ...(shape.location !== undefined ? { Location: shape.location } : {}),
      Columns: shape.columns,
    },
  };
}

/** Whether a Glue table's parameters mark it as an Iceberg table. */
export function isIcebergTable(parameters: Readonly<Record<string, string>> | undefined): boolean {
  return parameters?.[TABLE_TYPE]?.toUpperCase() === ICEBERG;
}
