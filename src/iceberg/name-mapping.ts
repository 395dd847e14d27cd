/**
 * Name mappings (`schema.name-mapping.default`): how readers give field ids to columns of data
 * files written without them. Needed whenever files from a plain Parquet writer join a table.
 */
import { ConfigError } from '../errors.ts';
import { type IcebergType, isPrimitive, type StructType } from './schema.ts';

/** The table property holding the default name mapping. */
export const NAME_MAPPING_PROPERTY = 'schema.name-mapping.default';

/** One mapped field: the names it may appear under and, for nested types, its children. */
export interface MappedField {
  readonly fieldId?: number;
  readonly names: readonly string[];
  readonly fields?: readonly MappedField[];
}

export type NameMapping = readonly MappedField[];

/** Parses the JSON of a name mapping property, naming the problem when it is malformed. */
export function parseNameMapping(text: string, where = NAME_MAPPING_PROPERTY): NameMapping {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${where}: not JSON (${(err as Error).message})`);
  }
  const fields = (v: unknown, at: string): MappedField[] => {
    if (!Array.isArray(v)) throw new ConfigError(`${where}: ${at} is not an array`);
    return v.map((f: unknown, i) => {
      if (typeof f !== 'object' || f === null)
        throw new ConfigError(`${where}: ${at}[${i}] is not an object`);
      const o = f as Record<string, unknown>;
      const names = o.names;
      if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
        throw new ConfigError(`${where}: ${at}[${i}].names must be an array of strings`);
      }
      const id = o['field-id'];
      if (id !== undefined && id !== null && !Number.isInteger(id)) {
        throw new ConfigError(`${where}: ${at}[${i}].field-id is not an integer`);
      }
      return {
        ...(typeof id === 'number' ? { fieldId: id } : {}),
        names,
        ...(o.fields !== undefined && o.fields !== null
          ? { fields: fields(o.fields, `${at}[${i}].fields`) }
          : {}),
      };
    });
  };
  return fields(json, 'mapping');
}

/** The mapping Iceberg derives from a schema: every field under its current name. */
export function nameMappingOf(struct: StructType): NameMapping {
  const children = (t: IcebergType): MappedField[] | undefined => {
    if (isPrimitive(t)) return undefined;
    if (t.type === 'struct') return t.fields.map((f) => entry(f.id, f.name, f.type));
    if (t.type === 'list') return [entry(t.elementId, 'element', t.element)];
    return [entry(t.keyId, 'key', t.key), entry(t.valueId, 'value', t.value)];
  };
  const entry = (id: number, name: string, t: IcebergType): MappedField => {
    const fields = children(t);
    return { fieldId: id, names: [name], ...(fields ? { fields } : {}) };
  };
  return children(struct) ?? [];
}

/** A name mapping as the property's JSON text (Java's and PyIceberg's layout). */
export function nameMappingToJson(mapping: NameMapping): string {
  const conv = (fs: readonly MappedField[]): unknown[] =>
    fs.map((f) => ({
      ...(f.fieldId !== undefined ? { 'field-id': f.fieldId } : {}),
      names: f.names,
      ...(f.fields ? { fields: conv(f.fields) } : {}),
    }));
  return JSON.stringify(conv(mapping));
}

/** The mapped field a column of this name resolves to at one nesting level. */
export function lookupName(level: readonly MappedField[] | undefined, name: string): MappedField | undefined {
  return level?.find((f) => f.names.includes(name));
}
