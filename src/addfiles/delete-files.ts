/**
 * Recognising Iceberg delete files, which add-files must never register as data files (their
 * rows would surface as phantom rows, and the rows they delete would stay visible). A file is a
 * delete file when any of these says so:
 *  - its Parquet footer: a column with a reserved position-delete field id (`file_path`,
 *    `pos`, `row`); the key-value metadata Iceberg's writers put in delete files
 *    (`delete-type`, `delete-field-ids`, or an `iceberg.schema` holding the reserved ids); or
 *    top-level `file_path` and `pos` columns without field ids, when the table has no such
 *    columns;
 *  - its name, in the exact forms Iceberg's Java writers and Impala give delete files;
 *  - its magic: a Puffin file (deletion vectors, statistics) is never data;
 *  - the table: some snapshot already tracks it as a delete file (read by the engine).
 */
import type { StructType } from '../iceberg/schema.ts';
import type { ParquetFooter } from '../parquet/footer.ts';
import { FILE_PATH_FIELD_ID, POS_FIELD_ID } from '../parquet/position-deletes.ts';
import type { RangeReader } from '../storage/storage.ts';

/** Iceberg's reserved field id of the position-delete `row` column (the deleted row, optional). */
export const ROW_FIELD_ID = 2147483544;

/** The reserved position-delete columns, by field id. */
const POSITION_DELETE_COLUMNS: Readonly<Record<number, string>> = {
  [FILE_PATH_FIELD_ID]: 'file_path',
  [POS_FIELD_ID]: 'pos',
  [ROW_FIELD_ID]: 'row',
};

/** "PFA1": the magic at both ends of a Puffin file. */
const PUFFIN_MAGIC = 0x31414650;

/** What kind of delete file, as far as the evidence tells. */
export type DeleteKind = 'position' | 'equality' | 'unknown';

/** Why a file is taken for a delete file. */
export interface DeleteEvidence {
  readonly kind: DeleteKind;
  /** The evidence, for the rejection reason (`column file_path has field id ...`). */
  readonly why: string;
}

/**
 * Java writers: `<partition:05d>-<task>-<operation>-<count:05d>-deletes.<ext>` (OutputFileFactory
 * with the `deletes` suffix, as Spark's delete and merge writers use it).
 */
const JAVA_DELETE_NAME = /^\d{5}-\d+-.+-\d{5}-deletes\.[A-Za-z0-9]+$/;
/** Impala: `delete-<query id>_<n>_data.<i>.parq`, where its data files lack the `delete-` prefix. */
const IMPALA_DELETE_NAME = /^delete-[0-9a-f]{16}-[0-9a-f]{16}_\d+_data\.\d+\.parq$/;

/** Spells a footer value for a message (bounded, one line). */
function shown(value: string | undefined): string {
  const v = (value ?? '').replace(/\s+/g, ' ');
  return v.length > 40 ? `${v.slice(0, 40)}…` : v;
}

/** Evidence from the file name alone. */
export function deleteFileNameEvidence(path: string): DeleteEvidence | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (JAVA_DELETE_NAME.test(name)) {
    return { kind: 'unknown', why: "named as Iceberg's Java writers name delete files (…-deletes.<ext>)" };
  }
  if (IMPALA_DELETE_NAME.test(name)) {
    return { kind: 'unknown', why: 'named as Impala names delete files (delete-…_data.N.parq)' };
  }
  return undefined;
}

/** Top-level field ids of an `iceberg.schema` JSON text; empty when it is not one. */
function icebergSchemaIds(text: string | undefined): { id: number; name: string }[] {
  if (!text) return [];
  try {
    const schema = JSON.parse(text) as { fields?: unknown };
    if (!Array.isArray(schema.fields)) return [];
    return schema.fields.flatMap((f: unknown) => {
      const field = f as { id?: unknown; name?: unknown };
      return typeof field.id === 'number' ? [{ id: field.id, name: String(field.name) }] : [];
    });
  } catch {
    // Not JSON: says nothing either way.
    return [];
  }
}

/**
 * Evidence that a Parquet file is an Iceberg delete file, from its footer and its name, or
 * `undefined` when nothing says so.
 * @param table the table's schema, when the table exists: top-level `file_path` and `pos`
 *   columns without field ids mark a position-delete file only when the table has no such columns.
 */
export function deleteFileEvidence(
  footer: ParquetFooter,
  path: string,
  table?: StructType,
): DeleteEvidence | undefined {
  const elements = footer.schema.slice(1);
  for (const e of elements) {
    const reserved = e.fieldId === undefined ? undefined : POSITION_DELETE_COLUMNS[e.fieldId];
    if (reserved) {
      return {
        kind: 'position',
        why: `column ${e.path.join('.') || e.name} has field id ${e.fieldId}, reserved for the ${reserved} column of position deletes`,
      };
    }
  }
  const kv = (key: string) => footer.keyValueMetadata.find((k) => k.key === key);
  const deleteType = kv('delete-type');
  if (deleteType) {
    const v = deleteType.value?.trim().toLowerCase();
    return {
      kind: v === 'position' || v === 'equality' ? v : 'unknown',
      why: `its footer metadata says delete-type=${shown(deleteType.value)}`,
    };
  }
  const fieldIds = kv('delete-field-ids');
  if (fieldIds) {
    return { kind: 'equality', why: `its footer metadata has delete-field-ids=${shown(fieldIds.value)}` };
  }
  const schemaText = kv('iceberg.schema')?.value;
  if (schemaText && /214748354[4-6]/.test(schemaText)) {
    const hit = icebergSchemaIds(schemaText).find((f) => POSITION_DELETE_COLUMNS[f.id]);
    if (hit) {
      return {
        kind: 'position',
        why: `its footer's iceberg.schema has field ${shown(hit.name)} with id ${hit.id}, reserved for position deletes`,
      };
    }
  }
  // Position deletes written without field ids: top-level file_path (string) and pos (long).
  // Elements are depth first, so top-level ones are those whose path has one segment.
  const top = elements.filter((e) => e.path.length === 1);
  const filePath = top.find((e) => e.name === 'file_path' && e.type === 'BYTE_ARRAY');
  const pos = top.find((e) => e.name === 'pos' && e.type === 'INT64');
  const tableHas = (name: string) => table?.fields.some((f) => f.name === name) ?? false;
  if (
    filePath &&
    pos &&
    filePath.fieldId === undefined &&
    pos.fieldId === undefined &&
    !(tableHas('file_path') && tableHas('pos'))
  ) {
    return {
      kind: 'position',
      why: 'top-level columns file_path (string) and pos (long) without field ids, the layout of position deletes, and the table has no such columns',
    };
  }
  return deleteFileNameEvidence(path);
}

/** Whether a file carries the Puffin magic at its start or its end. */
export async function isPuffinFile(reader: RangeReader): Promise<boolean> {
  if (reader.size < 4) return false;
  const magicAt = async (offset: number) => {
    const b = await reader.read(offset, 4);
    return b.length === 4 && new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) === PUFFIN_MAGIC;
  };
  return (await magicAt(0)) || (await magicAt(reader.size - 4));
}

const KIND_TEXT: Readonly<Record<DeleteKind, string>> = {
  position: 'an Iceberg position-delete file',
  equality: 'an Iceberg equality-delete file',
  unknown: 'an Iceberg delete file',
};

/** The tail every delete rejection shares: what it means and what to do instead. */
const CONSEQUENCE =
  'add-files registers data files only, so the rows it deletes stay visible in the DR table; replicate the Iceberg metadata and use sync for a table with deletes';

/** The rejection reason of a delete file. */
export function deleteFileRejection(e: DeleteEvidence): string {
  return `${KIND_TEXT[e.kind]} (${e.why}), not a data file: ${CONSEQUENCE}`;
}

/** The rejection reason of a Puffin file. */
export function puffinRejection(): string {
  return `a Puffin file (deletion vectors or statistics, by its PFA1 magic), not a data file: ${CONSEQUENCE}`;
}

/** The rejection reason of a file the table already tracks as a delete file. */
export function trackedDeleteRejection(content: 1 | 2, snapshotId: string): string {
  return deleteFileRejection({
    kind: content === 1 ? 'position' : 'equality',
    why: `snapshot ${snapshotId} of the table tracks it as a delete file`,
  });
}
