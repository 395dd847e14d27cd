/**
 * Avro schemas: parsing a writer schema (the JSON in a container file's header) into a resolved
 * type graph. `decode.ts` and `encode.ts` compile that graph into value decoders and encoders.
 *
 * Named types (records, enums, fixed) are resolved to the same object wherever they are
 * referenced, so recursive schemas form cycles. Logical types are ignored: a value decodes as its
 * underlying type (a decimal is bytes, a timestamp a long). Attributes this module does not
 * interpret — Iceberg's `field-id`, `element-id`, `key-id`, `value-id`, `logicalType: map` on
 * arrays of key/value records — are kept in each type's `json`, and the container keeps the
 * header's schema bytes verbatim, so nothing is lost by re-encoding.
 *
 * Decoded values: record → plain object (keys in field order), long → bigint, int/float/double
 * → number, bytes/fixed → Uint8Array, string and enum → string, array → array,
 * map → `Map<string, V>`, null → null, union → the bare value of its branch.
 */
import { CorruptFileError } from '../errors.ts';

/** Names of the Avro primitive types. */
export type AvroPrimitiveName = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';

/** A primitive type. `json` is the schema node it came from (a string or an object). */
export interface AvroPrimitiveType {
  readonly kind: AvroPrimitiveName;
  readonly json: unknown;
}

/** A field of a record. */
export interface AvroField {
  readonly name: string;
  readonly type: AvroType;
  /** The field's JSON object, with every attribute (`field-id`, `doc`, `default`...). */
  readonly json: Readonly<Record<string, unknown>>;
}

/** A record (or error) type. */
export interface AvroRecordType {
  readonly kind: 'record';
  /** Full name (namespace-qualified). */
  readonly name: string;
  readonly fields: readonly AvroField[];
  readonly json: Readonly<Record<string, unknown>>;
}

/** An enum type. */
export interface AvroEnumType {
  readonly kind: 'enum';
  readonly name: string;
  readonly symbols: readonly string[];
  readonly json: Readonly<Record<string, unknown>>;
}

/** A fixed type. */
export interface AvroFixedType {
  readonly kind: 'fixed';
  readonly name: string;
  readonly size: number;
  readonly json: Readonly<Record<string, unknown>>;
}

/** An array type. */
export interface AvroArrayType {
  readonly kind: 'array';
  readonly items: AvroType;
  readonly json: Readonly<Record<string, unknown>>;
}

/** A map type (string keys). */
export interface AvroMapType {
  readonly kind: 'map';
  readonly values: AvroType;
  readonly json: Readonly<Record<string, unknown>>;
}

/** A union type. */
export interface AvroUnionType {
  readonly kind: 'union';
  readonly branches: readonly AvroType[];
  readonly json: readonly unknown[];
}

/** A resolved Avro type. */
export type AvroType =
  | AvroPrimitiveType
  | AvroRecordType
  | AvroEnumType
  | AvroFixedType
  | AvroArrayType
  | AvroMapType
  | AvroUnionType;

/** A decoded Avro value (see the module comment for the mapping). */
export type AvroValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | AvroValue[]
  | Map<string, AvroValue>
  | AvroRecord;

/** A decoded record: field name → value, in schema field order. */
export interface AvroRecord {
  [field: string]: AvroValue;
}

const PRIMITIVES: ReadonlySet<string> = new Set([
  'null',
  'boolean',
  'int',
  'long',
  'float',
  'double',
  'bytes',
  'string',
]);

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class SchemaError extends Error {}

/**
 * Resolves a parsed schema JSON value into an {@link AvroType}.
 * @param json the schema as `JSON.parse` returns it.
 * @param fileName names the file in errors.
 * @throws CorruptFileError if the schema is not valid Avro.
 */
export function parseAvroSchema(json: unknown, fileName: string): AvroType {
  try {
    return new SchemaParser().parse(json, '');
  } catch (err) {
    if (err instanceof SchemaError) throw new CorruptFileError(fileName, `bad Avro schema: ${err.message}`);
    throw err;
  }
}

class SchemaParser {
  private readonly named = new Map<string, AvroType>();

  parse(json: unknown, ns: string): AvroType {
    if (typeof json === 'string') return this.reference(json, ns);
    if (Array.isArray(json)) {
      const branches = json.map((b) => this.parse(b, ns));
      if (branches.some((b) => b.kind === 'union')) throw new SchemaError('union directly inside a union');
      return { kind: 'union', branches, json };
    }
    if (!isObject(json)) throw new SchemaError(`unexpected schema node ${JSON.stringify(json)}`);
    const type = json.type;
    // {"type": <schema>} with a nested schema (or a named reference) is that schema, annotated.
    if (typeof type !== 'string' || !['record', 'error', 'enum', 'fixed', 'array', 'map'].includes(type)) {
      if (typeof type === 'string' && PRIMITIVES.has(type)) return { kind: type as AvroPrimitiveName, json };
      if (type === undefined) throw new SchemaError('schema object without "type"');
      return this.parse(type, ns);
    }
    switch (type) {
      case 'array':
        return { kind: 'array', items: this.parse(json.items, ns), json };
      case 'map':
        return { kind: 'map', values: this.parse(json.values, ns), json };
      case 'enum': {
        const name = this.define(json, ns);
        const symbols = json.symbols;
        if (!Array.isArray(symbols) || !symbols.every((s) => typeof s === 'string')) {
          throw new SchemaError(`enum ${name} has no symbol list`);
        }
        const t: AvroEnumType = { kind: 'enum', name, symbols, json };
        this.named.set(name, t);
        return t;
      }
      case 'fixed': {
        const name = this.define(json, ns);
        const size = json.size;
        if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
          throw new SchemaError(`fixed ${name} has no valid size`);
        }
        const t: AvroFixedType = { kind: 'fixed', name, size, json };
        this.named.set(name, t);
        return t;
      }
      default: {
        const name = this.define(json, ns);
        const fields: AvroField[] = [];
        const t: AvroRecordType = { kind: 'record', name, fields, json };
        // Registered before its fields so that they may refer back to it.
        this.named.set(name, t);
        const inner = namespaceOf(name);
        if (!Array.isArray(json.fields)) throw new SchemaError(`record ${name} has no field list`);
        for (const f of json.fields) {
          if (!isObject(f) || typeof f.name !== 'string')
            throw new SchemaError(`record ${name} has a bad field`);
          fields.push({ name: f.name, type: this.parse(f.type, inner), json: f });
        }
        return t;
      }
    }
  }

  private define(json: JsonObject, ns: string): string {
    const name = json.name;
    if (typeof name !== 'string' || name === '') throw new SchemaError(`${String(json.type)} without a name`);
    const space = typeof json.namespace === 'string' ? json.namespace : ns;
    const full = name.includes('.') || space === '' ? name : `${space}.${name}`;
    if (this.named.has(full)) throw new SchemaError(`type ${full} defined twice`);
    return full;
  }

  private reference(name: string, ns: string): AvroType {
    if (PRIMITIVES.has(name)) return { kind: name as AvroPrimitiveName, json: name };
    const t =
      (!name.includes('.') && ns !== '' ? this.named.get(`${ns}.${name}`) : undefined) ??
      this.named.get(name);
    if (t === undefined) throw new SchemaError(`unknown type '${name}'`);
    return t;
  }
}

function namespaceOf(fullName: string): string {
  const i = fullName.lastIndexOf('.');
  return i < 0 ? '' : fullName.slice(0, i);
}

/** A short name of a type for messages. */
export function typeName(t: AvroType): string {
  switch (t.kind) {
    case 'record':
    case 'enum':
    case 'fixed':
      return t.name;
    case 'array':
      return `array<${typeName(t.items)}>`;
    case 'map':
      return `map<${typeName(t.values)}>`;
    case 'union':
      return `[${t.branches.map(typeName).join(', ')}]`;
    default:
      return t.kind;
  }
}
