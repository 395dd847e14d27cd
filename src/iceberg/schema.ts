/**
 * Iceberg schemas: a typed tree parsed from (and written back to) the `schemas` entries of
 * table metadata. Primitive types stay in their spec spelling (`decimal(9,2)`, `fixed[16]`).
 */
import { CorruptFileError } from '../errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../util/json.ts';

/** A primitive type in the spec's spelling: `long`, `decimal(38,10)`, `fixed[16]`, `timestamptz`... */
export type PrimitiveType = string;

/** A struct field, a list element, or a map key or value. */
export interface NestedField {
  readonly id: number;
  readonly name: string;
  readonly required: boolean;
  readonly type: IcebergType;
  readonly doc?: string;
}

export interface StructType {
  readonly type: 'struct';
  readonly fields: readonly NestedField[];
}

export interface ListType {
  readonly type: 'list';
  readonly elementId: number;
  readonly element: IcebergType;
  readonly elementRequired: boolean;
}

export interface MapType {
  readonly type: 'map';
  readonly keyId: number;
  readonly key: IcebergType;
  readonly valueId: number;
  readonly value: IcebergType;
  readonly valueRequired: boolean;
}

export type IcebergType = PrimitiveType | StructType | ListType | MapType;

/** A schema: its id and its top-level struct. */
export interface Schema {
  readonly schemaId: number;
  readonly struct: StructType;
  readonly identifierFieldIds?: readonly number[];
}

/** A primitive column of a schema, with its dotted name (Iceberg's `a.b.element`). */
export interface SchemaLeaf {
  readonly id: number;
  readonly name: string;
  readonly type: PrimitiveType;
  /** Inside a list or map: such columns get counts but no bounds. */
  readonly repeated: boolean;
  /** Only structs on the way from the root: Iceberg keeps bounds of such columns. */
  readonly onlyStructs: boolean;
}

export function isPrimitive(t: IcebergType): t is PrimitiveType {
  return typeof t === 'string';
}

const int = (v: JsonValue | undefined, what: string, file: string): number => {
  if (typeof v !== 'bigint') throw new CorruptFileError(file, `${what} is not an integer`);
  return Number(v);
};

/** Parses a type node of a schema's JSON. */
export function parseType(json: JsonValue, file: string, where = 'type'): IcebergType {
  if (typeof json === 'string') return json;
  if (!isJsonObject(json)) throw new CorruptFileError(file, `${where} is not a type`);
  switch (json.type) {
    case 'struct':
      return parseStruct(json, file, where);
    case 'list':
      return {
        type: 'list',
        elementId: int(json['element-id'], `${where}.element-id`, file),
        element: parseType(json.element ?? null, file, `${where}.element`),
        elementRequired: json['element-required'] === true,
      };
    case 'map':
      return {
        type: 'map',
        keyId: int(json['key-id'], `${where}.key-id`, file),
        key: parseType(json.key ?? null, file, `${where}.key`),
        valueId: int(json['value-id'], `${where}.value-id`, file),
        value: parseType(json.value ?? null, file, `${where}.value`),
        valueRequired: json['value-required'] === true,
      };
    default:
      throw new CorruptFileError(file, `${where}: unknown type ${JSON.stringify(String(json.type))}`);
  }
}

function parseStruct(json: JsonObject, file: string, where: string): StructType {
  if (!Array.isArray(json.fields)) throw new CorruptFileError(file, `${where}.fields is not an array`);
  return {
    type: 'struct',
    fields: json.fields.map((f, i) => {
      if (!isJsonObject(f)) throw new CorruptFileError(file, `${where}.fields[${i}] is not an object`);
      const name = f.name;
      if (typeof name !== 'string') throw new CorruptFileError(file, `${where}.fields[${i}] has no name`);
      return {
        id: int(f.id, `${where}.${name}.id`, file),
        name,
        required: f.required === true,
        type: parseType(f.type ?? null, file, `${where}.${name}`),
        ...(typeof f.doc === 'string' ? { doc: f.doc } : {}),
      };
    }),
  };
}

/** Parses one entry of `schemas` (or the v1 `schema`). */
export function parseSchema(json: JsonValue, file: string): Schema {
  if (!isJsonObject(json)) throw new CorruptFileError(file, 'schema is not an object');
  const ids = json['identifier-field-ids'];
  return {
    schemaId: typeof json['schema-id'] === 'bigint' ? Number(json['schema-id']) : 0,
    struct: parseStruct(json, file, 'schema'),
    ...(Array.isArray(ids)
      ? { identifierFieldIds: ids.map((v) => int(v, 'identifier-field-ids', file)) }
      : {}),
  };
}

/** The current schema of table metadata JSON. */
export function currentSchema(metadata: JsonObject, file: string): Schema {
  const schemas = metadata.schemas;
  if (Array.isArray(schemas) && schemas.length) {
    const id = metadata['current-schema-id'];
    const found = schemas.find((s) => isJsonObject(s) && s['schema-id'] === id);
    if (!found) throw new CorruptFileError(file, `current-schema-id ${String(id)} is not in schemas`);
    return parseSchema(found, file);
  }
  if (metadata.schema) return parseSchema(metadata.schema, file);
  throw new CorruptFileError(file, 'table metadata has no schema');
}

/** A type as schema JSON (ids as bigints, as metadata JSON keeps them). */
export function typeToJson(t: IcebergType): JsonValue {
  if (isPrimitive(t)) return t;
  if (t.type === 'struct') return structToJson(t);
  if (t.type === 'list') {
    return {
      type: 'list',
      'element-id': BigInt(t.elementId),
      element: typeToJson(t.element),
      'element-required': t.elementRequired,
    };
  }
  return {
    type: 'map',
    'key-id': BigInt(t.keyId),
    key: typeToJson(t.key),
    'value-id': BigInt(t.valueId),
    value: typeToJson(t.value),
    'value-required': t.valueRequired,
  };
}

function structToJson(t: StructType): JsonObject {
  return {
    type: 'struct',
    fields: t.fields.map((f) => ({
      id: BigInt(f.id),
      name: f.name,
      required: f.required,
      type: typeToJson(f.type),
      ...(f.doc !== undefined ? { doc: f.doc } : {}),
    })),
  };
}

/** A schema as an entry of `schemas`. */
export function schemaToJson(s: Schema): JsonObject {
  const body = structToJson(s.struct);
  return {
    type: 'struct',
    'schema-id': BigInt(s.schemaId),
    ...(s.identifierFieldIds ? { 'identifier-field-ids': s.identifierFieldIds.map((i) => BigInt(i)) } : {}),
    fields: body.fields ?? [],
  };
}

/** Every primitive column, depth first, with its dotted name. */
export function schemaLeaves(struct: StructType): SchemaLeaf[] {
  const out: SchemaLeaf[] = [];
  const visit = (t: IcebergType, id: number, name: string, repeated: boolean, onlyStructs: boolean) => {
    if (isPrimitive(t)) {
      out.push({ id, name, type: t, repeated, onlyStructs });
    } else if (t.type === 'struct') {
      for (const f of t.fields)
        visit(f.type, f.id, name ? `${name}.${f.name}` : f.name, repeated, onlyStructs);
    } else if (t.type === 'list') {
      visit(t.element, t.elementId, `${name}.element`, true, false);
    } else {
      visit(t.key, t.keyId, `${name}.key`, true, false);
      visit(t.value, t.valueId, `${name}.value`, true, false);
    }
  };
  visit(struct, 0, '', false, true);
  return out;
}

/** Finds a top-level or nested struct field by its dotted name (structs only). */
export function findFieldByName(struct: StructType, dotted: string): NestedField | undefined {
  let current: StructType | undefined = struct;
  let found: NestedField | undefined;
  for (const part of dotted.split('.')) {
    if (!current) return undefined;
    found = current.fields.find((f) => f.name === part);
    if (!found) return undefined;
    current = !isPrimitive(found.type) && found.type.type === 'struct' ? found.type : undefined;
  }
  return found;
}

/** Finds a struct field by id anywhere in the schema. */
export function findFieldById(struct: StructType, id: number): NestedField | undefined {
  for (const f of struct.fields) {
    if (f.id === id) return f;
    if (!isPrimitive(f.type) && f.type.type === 'struct') {
      const inner = findFieldById(f.type, id);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** The highest field id used in a type (0 when none). */
export function maxFieldId(t: IcebergType): number {
  if (isPrimitive(t)) return 0;
  if (t.type === 'struct') return Math.max(0, ...t.fields.map((f) => Math.max(f.id, maxFieldId(f.type))));
  if (t.type === 'list') return Math.max(t.elementId, maxFieldId(t.element));
  return Math.max(t.keyId, t.valueId, maxFieldId(t.key), maxFieldId(t.value));
}

/** `decimal(P,S)` → precision and scale, or `undefined` for other types. */
export function decimalOf(t: PrimitiveType): { precision: number; scale: number } | undefined {
  const m = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  return m ? { precision: Number(m[1]), scale: Number(m[2]) } : undefined;
}

/** `fixed[L]` → L, or `undefined` for other types. */
export function fixedLengthOf(t: PrimitiveType): number | undefined {
  const m = /^fixed\[\s*(\d+)\s*\]$/.exec(t);
  return m ? Number(m[1]) : undefined;
}
