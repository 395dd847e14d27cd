/**
 * Parquet schemas seen as Iceberg schemas: the Iceberg type of each Parquet column, a whole
 * Iceberg schema from a file (to create a table), and the resolution of a file's columns to a
 * table's field ids, by the file's own field ids or by the table's name mapping, with the
 * reasons a file does not fit.
 */
import { lookupName, type MappedField, type NameMapping } from '../iceberg/name-mapping.ts';
import {
  decimalOf,
  type IcebergType,
  isPrimitive,
  type NestedField,
  type PrimitiveType,
  type StructType,
} from '../iceberg/schema.ts';
import type { ParquetFooter, ParquetSchemaElement } from './footer.ts';

/** A node of the Parquet schema tree. */
export interface ParquetNode {
  readonly element: ParquetSchemaElement;
  readonly name: string;
  readonly path: readonly string[];
  readonly children: readonly ParquetNode[];
}

/** How one Parquet leaf column maps to a table column. */
export interface ResolvedColumn {
  readonly fieldId: number;
  /** The table's type of the column. */
  readonly type: PrimitiveType;
  /** Dotted Iceberg name (`a.b`, `tags.element`). */
  readonly name: string;
  /** Inside a list or map. */
  readonly repeated: boolean;
  /** Reached through structs only (Iceberg keeps bounds of such columns). */
  readonly onlyStructs: boolean;
  /** The Parquet leaf, for decoding its statistics. */
  readonly element: ParquetSchemaElement;
}

/** The outcome of resolving a file's columns against a table schema. */
export interface ColumnResolution {
  /** Leaf column path (joined by NUL) → table column. */
  readonly columns: Map<string, ResolvedColumn>;
  /**
   * Primitive columns optional in the file but required in the table: they fit only when the
   * file holds no null in them (writers disagree on nullability; the data decides).
   */
  readonly optionalForRequired: ResolvedColumn[];
  /** Why the file does not fit the table; empty when it fits. */
  readonly problems: string[];
}

/** Field ids above this are Iceberg's reserved metadata columns (Integer.MAX_VALUE - 200). */
export const RESERVED_FIELD_ID_START = 2_147_483_447;

/** The v3 row lineage columns a data file may store, by reserved field id. */
const ROW_LINEAGE_COLUMNS: Readonly<Record<number, string>> = {
  2147483540: '_row_id',
  2147483539: '_last_updated_sequence_number',
};

/** The key of a column path in {@link ColumnResolution.columns}. */
export function columnKey(path: readonly string[]): string {
  return path.join('\u0000');
}

/** Builds the schema tree of a footer (the root node is the message). */
export function parquetTree(footer: ParquetFooter): ParquetNode {
  let next = 0;
  const elements = footer.schema;
  const visit = (): ParquetNode => {
    const e = elements[next++] as ParquetSchemaElement;
    const children: ParquetNode[] = [];
    for (let i = 0; i < (e.numChildren ?? 0); i++) children.push(visit());
    return { element: e, name: e.name, path: e.path, children };
  };
  return visit();
}

/** Whether any element of the file carries a field id. */
export function hasFieldIds(footer: ParquetFooter): boolean {
  return footer.schema.slice(1).some((e) => e.fieldId !== undefined);
}

const isLeaf = (n: ParquetNode) => n.element.type !== undefined;
const logical = (n: ParquetNode) => n.element.logicalType?.type;

/**
 * The Iceberg type of a Parquet leaf, or a reason it has none. Follows the Parquet spec's
 * logical types and their converted-type predecessors, as Iceberg's readers do.
 */
export function primitiveTypeOf(e: ParquetSchemaElement): PrimitiveType | { unsupported: string } {
  const lt = e.logicalType;
  const ct = e.convertedType;
  const decimal = () => {
    const precision = lt?.type === 'DECIMAL' ? lt.precision : e.precision;
    const scale = lt?.type === 'DECIMAL' ? lt.scale : (e.scale ?? 0);
    return precision === undefined
      ? { unsupported: 'DECIMAL without precision' }
      : `decimal(${precision}, ${scale})`;
  };
  if (lt?.type === 'DECIMAL' || ct === 'DECIMAL') return decimal();
  switch (e.type) {
    case 'BOOLEAN':
      return 'boolean';
    case 'INT32':
      if (lt?.type === 'DATE' || ct === 'DATE') return 'date';
      if (lt?.type === 'TIME' || ct === 'TIME_MILLIS') return 'time';
      if (lt?.type === 'INTEGER' && !lt.isSigned && lt.bitWidth === 32) return 'long';
      if (ct === 'UINT_32') return 'long';
      return 'int';
    case 'INT64':
      if (lt?.type === 'TIMESTAMP') {
        if (lt.unit === 'NANOS') return lt.isAdjustedToUTC ? 'timestamptz_ns' : 'timestamp_ns';
        return lt.isAdjustedToUTC ? 'timestamptz' : 'timestamp';
      }
      if (ct === 'TIMESTAMP_MICROS' || ct === 'TIMESTAMP_MILLIS') return 'timestamptz';
      if (lt?.type === 'TIME') {
        return lt.unit === 'NANOS' ? { unsupported: 'TIME(NANOS) has no Iceberg type' } : 'time';
      }
      if (ct === 'TIME_MICROS') return 'time';
      if ((lt?.type === 'INTEGER' && !lt.isSigned) || ct === 'UINT_64') {
        return { unsupported: 'unsigned 64-bit integers have no Iceberg type' };
      }
      return 'long';
    case 'INT96':
      return 'timestamptz';
    case 'FLOAT':
      return 'float';
    case 'DOUBLE':
      return 'double';
    case 'BYTE_ARRAY':
      if (
        lt?.type === 'STRING' ||
        lt?.type === 'ENUM' ||
        lt?.type === 'JSON' ||
        ct === 'UTF8' ||
        ct === 'ENUM' ||
        ct === 'JSON'
      ) {
        return 'string';
      }
      if (lt && lt.type !== 'BSON')
        return { unsupported: `BYTE_ARRAY annotated ${lt.type} has no Iceberg type` };
      return 'binary';
    case 'FIXED_LEN_BYTE_ARRAY':
      if (lt?.type === 'UUID') return 'uuid';
      if (lt) return { unsupported: `FIXED_LEN_BYTE_ARRAY annotated ${lt.type} has no Iceberg type` };
      return `fixed[${e.typeLength ?? 0}]`;
    default:
      return { unsupported: `physical type ${String(e.type)}` };
  }
}

type Shape =
  | { kind: 'primitive' }
  | { kind: 'struct' }
  | { kind: 'list'; element: ParquetNode }
  | { kind: 'map'; key: ParquetNode; value: ParquetNode }
  | { kind: 'bad'; reason: string };

/** The shape of a node: Parquet's LIST and MAP layouts, their legacy forms, or a struct. */
function shapeOf(n: ParquetNode): Shape {
  if (isLeaf(n)) return { kind: 'primitive' };
  const lt = logical(n);
  const ct = n.element.convertedType;
  if (lt === 'LIST' || ct === 'LIST') {
    const repeated = n.children[0];
    if (n.children.length !== 1 || !repeated || repeated.element.repetition !== 'REPEATED') {
      return { kind: 'bad', reason: 'LIST group without exactly one repeated child' };
    }
    // Backward-compatibility rules of the Parquet spec: the repeated node is itself the element
    // when it is a leaf, has several fields, or is named `array` / `<list>_tuple`.
    if (
      isLeaf(repeated) ||
      repeated.children.length !== 1 ||
      repeated.name === 'array' ||
      repeated.name === `${n.name}_tuple`
    ) {
      return { kind: 'list', element: repeated };
    }
    return { kind: 'list', element: repeated.children[0] as ParquetNode };
  }
  if (lt === 'MAP' || ct === 'MAP' || ct === 'MAP_KEY_VALUE') {
    const kv = n.children[0];
    if (n.children.length !== 1 || !kv || kv.element.repetition !== 'REPEATED' || kv.children.length !== 2) {
      return { kind: 'bad', reason: 'MAP group without one repeated key/value group' };
    }
    return { kind: 'map', key: kv.children[0] as ParquetNode, value: kv.children[1] as ParquetNode };
  }
  return { kind: 'struct' };
}

const required = (n: ParquetNode) => n.element.repetition === 'REQUIRED';

/**
 * Converts a file's schema to an Iceberg struct. Field ids come from the file when it has them;
 * otherwise fresh ids are assigned from 1 as Iceberg does: a struct's fields first, then their
 * children. With `allOptional`, every field, list element and map value is optional (files from
 * different writers disagree on nullability; an optional column accepts them all).
 * @throws Error naming the column when a column has no Iceberg type.
 */
export function parquetToIcebergStruct(
  root: ParquetNode,
  useFileIds: boolean,
  allOptional = false,
): StructType {
  let nextId = 1;
  const idOf = (n: ParquetNode): number => {
    if (useFileIds) {
      if (n.element.fieldId === undefined) throw new Error(`column ${n.path.join('.')} has no field id`);
      return n.element.fieldId;
    }
    return nextId++;
  };
  const convert = (n: ParquetNode, id: number): IcebergType => {
    void id;
    const shape = shapeOf(n);
    switch (shape.kind) {
      case 'primitive': {
        const t = primitiveTypeOf(n.element);
        if (typeof t !== 'string') throw new Error(`column ${n.path.join('.')}: ${t.unsupported}`);
        return t;
      }
      case 'bad':
        throw new Error(`column ${n.path.join('.')}: ${shape.reason}`);
      case 'struct':
        return structOf(n.children);
      case 'list': {
        const elementId = idOf(shape.element);
        return {
          type: 'list',
          elementId,
          element: convert(shape.element, elementId),
          elementRequired: !allOptional && required(shape.element),
        };
      }
      case 'map': {
        const keyId = idOf(shape.key);
        const valueId = idOf(shape.value);
        return {
          type: 'map',
          keyId,
          key: convert(shape.key, keyId),
          valueId,
          value: convert(shape.value, valueId),
          valueRequired: !allOptional && required(shape.value),
        };
      }
    }
  };
  const structOf = (children: readonly ParquetNode[]): StructType => {
    const ids = children.map(idOf);
    const fields: NestedField[] = children.map((c, i) => {
      if (c.element.repetition === 'REPEATED' && shapeOf(c).kind !== 'list') {
        // A bare repeated field (legacy): a list of required elements.
        const elementId = useFileIds ? (ids[i] as number) : nextId++;
        const inner = { ...c, element: { ...c.element, repetition: 'REQUIRED' } };
        return {
          id: ids[i] as number,
          name: c.name,
          required: false,
          type: { type: 'list', elementId, element: convert(inner, elementId), elementRequired: true },
        };
      }
      return {
        id: ids[i] as number,
        name: c.name,
        required: !allOptional && required(c),
        type: convert(c, ids[i] as number),
      };
    });
    return { type: 'struct', fields };
  };
  return structOf(root.children);
}

/** Whether a file column of inferred type `file` can be read as table type `table`. */
function compatible(table: PrimitiveType, file: PrimitiveType): boolean {
  const norm = (t: string) => t.replace(/\s+/g, '');
  if (norm(table) === norm(file)) return true;
  if (table === 'long' && file === 'int') return true;
  if (table === 'double' && file === 'float') return true;
  const td = decimalOf(table);
  const fd = decimalOf(file);
  return !!td && !!fd && td.scale === fd.scale && fd.precision <= td.precision;
}

/**
 * Resolves every leaf column of a file to the table column it holds: by the file's field ids
 * when it has them, else by `mapping` (the table's name mapping). Lists the reasons the file
 * does not fit: columns the table lacks, types that differ, optional columns for required
 * table columns, and required table columns the file lacks.
 */
export function resolveColumns(
  root: ParquetNode,
  table: StructType,
  mapping: NameMapping | undefined,
  useFileIds: boolean,
): ColumnResolution {
  const columns = new Map<string, ResolvedColumn>();
  const problems: string[] = [];
  const optionalForRequired: ResolvedColumn[] = [];
  const shown = (n: ParquetNode) => n.path.join('.');

  const matchType = (
    n: ParquetNode,
    field: { id: number; name: string; type: IcebergType; required: boolean },
    level: readonly MappedField[] | undefined,
    repeated: boolean,
    onlyStructs: boolean,
  ): void => {
    const shape = shapeOf(n);
    const t = field.type;
    const nullable = field.required && !required(n);
    if (nullable && !isPrimitive(t)) {
      problems.push(`column ${shown(n)} is optional in the file but ${field.name} is required in the table`);
      return;
    }
    if (isPrimitive(t)) {
      if (shape.kind !== 'primitive') {
        problems.push(`column ${shown(n)} is a group in the file but ${t} in the table`);
        return;
      }
      const ft = primitiveTypeOf(n.element);
      if (typeof ft !== 'string') {
        problems.push(`column ${shown(n)}: ${ft.unsupported}`);
        return;
      }
      if (!compatible(t, ft)) {
        problems.push(`column ${shown(n)} is ${ft} in the file but ${t} in the table`);
        return;
      }
      const col = { fieldId: field.id, type: t, name: field.name, repeated, onlyStructs, element: n.element };
      columns.set(columnKey(n.path), col);
      if (nullable) optionalForRequired.push(col);
      return;
    }
    if (t.type === 'struct') {
      if (shape.kind !== 'struct') {
        problems.push(`column ${shown(n)} is not a struct in the file but a struct in the table`);
        return;
      }
      matchStruct(n.children, t, level, field.name, repeated, onlyStructs);
      return;
    }
    if (t.type === 'list') {
      if (shape.kind !== 'list') {
        problems.push(`column ${shown(n)} is not a list in the file but a list in the table`);
        return;
      }
      const el = shape.element;
      if (useFileIds && el.element.fieldId !== t.elementId) {
        problems.push(
          `column ${shown(el)} has field id ${el.element.fieldId ?? 'none'}, the table's list element is ${t.elementId}`,
        );
        return;
      }
      const elLevel = level?.[0]?.fields;
      matchType(
        el,
        { id: t.elementId, name: `${field.name}.element`, type: t.element, required: t.elementRequired },
        elLevel,
        true,
        false,
      );
      return;
    }
    if (shape.kind !== 'map') {
      problems.push(`column ${shown(n)} is not a map in the file but a map in the table`);
      return;
    }
    if (useFileIds && (shape.key.element.fieldId !== t.keyId || shape.value.element.fieldId !== t.valueId)) {
      problems.push(
        `map ${shown(n)}: key/value field ids differ from the table's (${t.keyId}, ${t.valueId})`,
      );
      return;
    }
    const keyLevel = level?.find((f) => f.names.includes('key'))?.fields;
    const valueLevel = level?.find((f) => f.names.includes('value'))?.fields;
    matchType(
      shape.key,
      { id: t.keyId, name: `${field.name}.key`, type: t.key, required: true },
      keyLevel,
      true,
      false,
    );
    matchType(
      shape.value,
      { id: t.valueId, name: `${field.name}.value`, type: t.value, required: t.valueRequired },
      valueLevel,
      true,
      false,
    );
  };

  const matchStruct = (
    children: readonly ParquetNode[],
    struct: StructType,
    level: readonly MappedField[] | undefined,
    prefix: string,
    repeated: boolean,
    onlyStructs: boolean,
  ): void => {
    const seen = new Set<number>();
    for (const c of children) {
      let id: number | undefined;
      if (useFileIds) {
        id = c.element.fieldId;
        // Iceberg's reserved metadata columns (v3 row lineage `_row_id`, ...) may be stored in
        // data files; they are not part of the table schema.
        if (id !== undefined && id > RESERVED_FIELD_ID_START) {
          const lineage = ROW_LINEAGE_COLUMNS[id];
          if (lineage && isLeaf(c) && c.element.type === 'INT64') {
            // Iceberg's writers keep metrics for stored row lineage; so do we.
            columns.set(columnKey(c.path), {
              fieldId: id,
              type: 'long',
              name: lineage,
              repeated,
              onlyStructs,
              element: c.element,
            });
          }
          continue;
        }
        if (id === undefined) {
          problems.push(`column ${shown(c)} has no field id while other columns of the file have`);
          continue;
        }
      } else {
        if (!mapping) {
          problems.push(
            'the file has no field ids and the table has no name mapping (schema.name-mapping.default)',
          );
          return;
        }
        id = lookupName(level, c.name)?.fieldId;
        if (id === undefined) {
          problems.push(`column ${shown(c)} is not in the table schema`);
          continue;
        }
      }
      const field = struct.fields.find((f) => f.id === id);
      if (!field) {
        problems.push(`column ${shown(c)} (field id ${id}) is not in the table schema`);
        continue;
      }
      seen.add(field.id);
      const sub = useFileIds ? undefined : lookupName(level, c.name)?.fields;
      matchType(
        c,
        { ...field, name: prefix ? `${prefix}.${field.name}` : field.name },
        sub,
        repeated,
        onlyStructs,
      );
    }
    for (const f of struct.fields) {
      if (f.required && !seen.has(f.id)) {
        problems.push(`required column ${prefix ? `${prefix}.` : ''}${f.name} is missing from the file`);
      }
    }
  };

  matchStruct(root.children, table, mapping, '', false, true);
  return { columns, optionalForRequired, problems };
}
