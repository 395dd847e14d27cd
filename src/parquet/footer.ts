/**
 * Reads a Parquet footer (FileMetaData) with range reads, and exposes what Iceberg metadata
 * needs: row counts, per-column sizes, value and null counts, raw min/max bounds, field ids,
 * key-value metadata and split offsets.
 *
 * hyparquet parses the footer's structure; the statistics are read again from the Thrift
 * tree, because hyparquet converts min/max to JS values (strings, numbers, scaled decimals)
 * and Iceberg bounds need the exact bytes.
 */

import type { FileMetaData, SchemaElement } from 'hyparquet';
import { parquetMetadata } from 'hyparquet';
import { CorruptFileError, UnsupportedError } from '../errors.ts';
import type { RangeReader } from '../storage/storage.ts';
import type { ThriftStruct } from './thrift.ts';
import { decodeStruct, ThriftError } from './thrift.ts';

/** "PAR1": the magic at both ends of a Parquet file. */
export const PARQUET_MAGIC = 0x31524150;
/** "PARE": the magic of a file with an encrypted footer. */
const PARQUET_ENCRYPTED_MAGIC = 0x45524150;
/** The first tail read; most footers fit, so one read usually suffices. */
const INITIAL_TAIL = 64 * 1024;

/** One schema element, with its field id and its path (for leaves, the column path). */
export interface ParquetSchemaElement {
  readonly name: string;
  readonly path: readonly string[];
  /** Physical type; absent for groups. */
  readonly type: string | undefined;
  readonly typeLength: number | undefined;
  readonly repetition: string | undefined;
  readonly numChildren: number | undefined;
  readonly convertedType: string | undefined;
  readonly logicalType: SchemaElement['logical_type'];
  readonly scale: number | undefined;
  readonly precision: number | undefined;
  /** Iceberg field id, where the writer set one. */
  readonly fieldId: number | undefined;
}

/** Column-chunk statistics with the raw, still encoded min/max bytes. */
export interface ParquetStatistics {
  readonly nullCount: bigint | undefined;
  /** Parquet's `nan_count` (Statistics field 9), written by few writers. */
  readonly nanCount: bigint | undefined;
  readonly distinctCount: bigint | undefined;
  /** Lower bound, PLAIN-encoded (byte arrays without length prefix). */
  readonly min: Uint8Array | undefined;
  /** Upper bound, PLAIN-encoded. */
  readonly max: Uint8Array | undefined;
  /**
   * True when min/max come from the deprecated `min`/`max` fields, which old writers filled
   * using signed byte comparison: such bounds are unreliable for strings and decimals.
   */
  readonly legacyMinMax: boolean;
  readonly minIsExact: boolean | undefined;
  readonly maxIsExact: boolean | undefined;
}

/** One column chunk of a row group. Byte offsets and sizes are numbers; counts are bigints. */
export interface ParquetColumnChunk {
  readonly path: readonly string[];
  readonly fieldId: number | undefined;
  readonly type: string;
  readonly codec: string;
  readonly encodings: readonly string[];
  readonly numValues: bigint;
  readonly totalCompressedSize: number;
  readonly totalUncompressedSize: number;
  readonly dataPageOffset: number;
  readonly dictionaryPageOffset: number | undefined;
  /** Offset of the chunk's first page (dictionary page if any). */
  readonly startOffset: number;
  readonly statistics: ParquetStatistics | undefined;
}

/** One row group. */
export interface ParquetRowGroup {
  readonly rowCount: bigint;
  /** Offset of the group's first page: Iceberg's split offset. */
  readonly startOffset: number;
  readonly totalByteSize: bigint;
  /** Sum of the chunks' compressed sizes. */
  readonly totalCompressedSize: number;
  readonly columns: readonly ParquetColumnChunk[];
}

/** One key-value pair of the file metadata (keys may repeat; values may be absent). */
export interface ParquetKeyValue {
  readonly key: string;
  readonly value: string | undefined;
}

/** A decoded Parquet footer. */
export interface ParquetFooter {
  readonly fileSize: number;
  /** Length of the Thrift FileMetaData, as stored before the trailing magic. */
  readonly metadataLength: number;
  readonly version: number;
  readonly createdBy: string | undefined;
  readonly rowCount: bigint;
  readonly schema: readonly ParquetSchemaElement[];
  readonly rowGroups: readonly ParquetRowGroup[];
  readonly keyValueMetadata: readonly ParquetKeyValue[];
  /** Row-group start offsets, ascending: Iceberg's `split_offsets`. */
  readonly splitOffsets: readonly number[];
  /** hyparquet's view of the same footer, to hand to hyparquet readers without parsing again. */
  readonly metadata: FileMetaData;
}

/**
 * Reads the footer bytes (FileMetaData, its length and the trailing magic) with at most two
 * range reads: a tail, then, if the footer is longer than the tail, exactly the footer.
 * Returns the Thrift FileMetaData bytes alone.
 */
export async function readParquetFooterBytes(reader: RangeReader, fileName: string): Promise<Uint8Array> {
  const size = reader.size;
  if (size < 12) throw new CorruptFileError(fileName, `not a Parquet file (${size} bytes is too small)`);
  const tailLength = Math.min(size, INITIAL_TAIL);
  const tail = await reader.read(size - tailLength, tailLength);
  if (tail.length !== tailLength) throw new CorruptFileError(fileName, 'short read of the footer');
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  const magic = view.getUint32(tailLength - 4, true);
  if (magic === PARQUET_ENCRYPTED_MAGIC) {
    throw new UnsupportedError(fileName, 'encrypted Parquet footer (PARE) is not supported');
  }
  if (magic !== PARQUET_MAGIC) throw new CorruptFileError(fileName, 'not a Parquet file (bad magic at end)');
  const metadataLength = view.getUint32(tailLength - 8, true);
  if (metadataLength > size - 12) {
    throw new CorruptFileError(
      fileName,
      `truncated footer (metadata length ${metadataLength} exceeds file size ${size})`,
    );
  }
  if (tailLength === size && view.getUint32(0, true) !== PARQUET_MAGIC) {
    throw new CorruptFileError(fileName, 'not a Parquet file (bad magic at start)');
  }
  if (metadataLength + 8 <= tailLength) {
    // A copy: what is decoded from the footer (statistics bytes) are views of it, and a view of
    // the whole tail would keep its 64 kB alive per file while a run holds its footers.
    return tail.slice(tailLength - 8 - metadataLength, tailLength - 8);
  }
  const footer = await reader.read(size - 8 - metadataLength, metadataLength);
  if (footer.length !== metadataLength) throw new CorruptFileError(fileName, 'short read of the footer');
  return footer;
}

/** Reads and decodes the footer of a Parquet file. */
export async function readParquetFooter(reader: RangeReader, fileName: string): Promise<ParquetFooter> {
  const metadataBytes = await readParquetFooterBytes(reader, fileName);
  return decodeParquetFooter(metadataBytes, reader.size, fileName);
}

/**
 * Decodes FileMetaData bytes (without length and magic). `fileSize` is recorded in the result
 * and bounds the chunk offsets.
 */
export function decodeParquetFooter(
  metadataBytes: Uint8Array,
  fileSize: number,
  fileName: string,
): ParquetFooter {
  // hyparquet parses a footer laid out as at the end of a file: metadata, length, magic.
  const framed = new Uint8Array(metadataBytes.length + 8);
  framed.set(metadataBytes);
  const frameView = new DataView(framed.buffer);
  frameView.setUint32(metadataBytes.length, metadataBytes.length, true);
  frameView.setUint32(metadataBytes.length + 4, PARQUET_MAGIC, true);
  let metadata: FileMetaData;
  let tree: ThriftStruct;
  try {
    metadata = parquetMetadata(framed, { geoparquet: false });
    tree = decodeStruct(metadataBytes).value;
  } catch (err) {
    throw new CorruptFileError(
      fileName,
      `corrupt footer (${err instanceof Error ? err.message : String(err)})`,
      {
        cause: err,
      },
    );
  }

  try {
    return footerOf(metadata, tree, metadataBytes.length, fileSize, fileName);
  } catch (err) {
    // A field of the wrong wire type (a corrupt footer that still parses as Thrift).
    if (err instanceof ThriftError) throw new CorruptFileError(fileName, `corrupt footer (${err.message})`);
    throw err;
  }
}

function footerOf(
  metadata: FileMetaData,
  tree: ThriftStruct,
  metadataLength: number,
  fileSize: number,
  fileName: string,
): ParquetFooter {
  // Pages lie between the leading magic and the footer (metadata, its length, the magic).
  const dataEnd = fileSize - 8 - metadataLength;
  // hyparquet assigns fields by id without checking their wire types: check what we use.
  const bad = (what: string) => new CorruptFileError(fileName, `corrupt footer (bad ${what})`);
  const list = <T>(v: T[] | undefined, what: string): T[] => {
    if (!Array.isArray(v)) throw bad(what);
    return v;
  };
  const count = (v: unknown, what: string): bigint => {
    if (typeof v === 'bigint' && v >= 0n) return v;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
    throw bad(what);
  };
  const text = (v: unknown, what: string): string => {
    if (typeof v !== 'string') throw bad(what);
    return v;
  };
  const schema = schemaWithPaths(list(metadata.schema, 'schema'), fileName);
  const leaves = schema.filter((e) => e.type !== undefined);
  const fieldIdByPath = new Map(leaves.map((e) => [e.path.join('\u0000'), e.fieldId]));
  const rawGroups = tree.structs(4);

  const rowGroups = list(metadata.row_groups, 'row groups').map((rg, g): ParquetRowGroup => {
    const rawColumns = rawGroups[g]?.structs(1) ?? [];
    const columns = list(rg.columns, `row group ${g} columns`).map((c, i): ParquetColumnChunk => {
      const md = c.meta_data;
      if (!md) throw new CorruptFileError(fileName, `row group ${g} column ${i} has no metadata`);
      const path = list(md.path_in_schema, `row group ${g} column ${i} path`).map((p) =>
        text(p, 'column path'),
      );
      if (c.file_path !== undefined) {
        throw new UnsupportedError(fileName, 'column chunks stored in other files are not supported');
      }
      const dataPageOffset = toOffset(md.data_page_offset, fileName);
      const dictionaryPageOffset =
        md.dictionary_page_offset !== undefined && md.dictionary_page_offset > 0n
          ? toOffset(md.dictionary_page_offset, fileName)
          : undefined;
      const startOffset =
        dictionaryPageOffset !== undefined ? Math.min(dictionaryPageOffset, dataPageOffset) : dataPageOffset;
      const totalCompressedSize = toOffset(md.total_compressed_size, fileName);
      if (startOffset < 4 || startOffset + totalCompressedSize > dataEnd) {
        throw new CorruptFileError(
          fileName,
          `column chunk ${path.join('.')} of row group ${g} lies outside the data pages ` +
            `(offset ${startOffset}, ${totalCompressedSize} bytes; pages end at ${dataEnd})`,
        );
      }
      const rawStats = rawColumns[i]?.struct(3)?.struct(12);
      return {
        path,
        fieldId: fieldIdByPath.get(path.join('\u0000')),
        type: text(md.type, `column ${path.join('.')} type`),
        codec: text(md.codec, `column ${path.join('.')} codec`),
        encodings: md.encodings ?? [],
        numValues: count(md.num_values, `column ${path.join('.')} num_values`),
        totalCompressedSize,
        totalUncompressedSize: toOffset(md.total_uncompressed_size, fileName),
        dataPageOffset,
        dictionaryPageOffset,
        startOffset,
        statistics: rawStats && statisticsOf(rawStats),
      };
    });
    const startOffset = columns.length ? Math.min(...columns.map((c) => c.startOffset)) : 4;
    return {
      rowCount: count(rg.num_rows, `row group ${g} num_rows`),
      startOffset,
      totalByteSize: count(rg.total_byte_size, `row group ${g} total_byte_size`),
      totalCompressedSize: columns.reduce((sum, c) => sum + c.totalCompressedSize, 0),
      columns,
    };
  });

  // Iceberg's record_count is the sum over row groups; a file count that disagrees is corrupt.
  const groupRows = rowGroups.reduce((n, rg) => n + rg.rowCount, 0n);
  const rowCount = count(metadata.num_rows, 'num_rows');
  if (groupRows !== rowCount) {
    throw new CorruptFileError(
      fileName,
      `corrupt footer (num_rows ${metadata.num_rows} is not the sum of the row groups' ${groupRows})`,
    );
  }

  return {
    fileSize,
    metadataLength,
    version: metadata.version,
    createdBy: metadata.created_by,
    rowCount,
    schema,
    rowGroups,
    keyValueMetadata: (metadata.key_value_metadata ?? []).map((kv) => ({ key: kv.key, value: kv.value })),
    splitOffsets: rowGroups.map((rg) => rg.startOffset).sort((a, b) => a - b),
    metadata,
  };
}

/** Reads the Statistics struct keeping min/max as bytes; prefers min_value/max_value. */
function statisticsOf(s: ThriftStruct): ParquetStatistics {
  const minValue = s.binary(6);
  const maxValue = s.binary(5);
  const modern = minValue !== undefined || maxValue !== undefined;
  const nan = s.get(9);
  return {
    nullCount: s.long(3),
    nanCount: typeof nan === 'bigint' ? nan : undefined,
    distinctCount: s.long(4),
    min: modern ? minValue : s.binary(2),
    max: modern ? maxValue : s.binary(1),
    legacyMinMax: !modern && (s.has(1) || s.has(2)),
    minIsExact: s.bool(8),
    maxIsExact: s.bool(7),
  };
}

/** Nesting deeper than this is no real schema (and would exhaust the stack). */
const MAX_SCHEMA_DEPTH = 256;

/** Adds each element's path, walking the flattened schema depth-first as it is stored. */
function schemaWithPaths(elements: readonly SchemaElement[], fileName: string): ParquetSchemaElement[] {
  const out: ParquetSchemaElement[] = [];
  const bad = (detail: string) => new CorruptFileError(fileName, `corrupt footer (schema ${detail})`);
  let next = 0;
  const visit = (parent: readonly string[], depth: number): void => {
    const e = elements[next++];
    if (!e) throw bad('ends early');
    if (depth > MAX_SCHEMA_DEPTH) throw bad(`nests deeper than ${MAX_SCHEMA_DEPTH} levels`);
    if (typeof e.name !== 'string') throw bad(`element ${next - 1} has no name`);
    const children = e.num_children ?? 0;
    if (!Number.isSafeInteger(children) || children < 0) throw bad(`element ${e.name} has a bad child count`);
    if (e.field_id !== undefined && !Number.isInteger(e.field_id))
      throw bad(`element ${e.name} has a bad field id`);
    const path = depth === 0 ? [] : [...parent, e.name];
    out.push({
      name: e.name,
      path,
      type: e.type,
      typeLength: e.type_length,
      repetition: e.repetition_type,
      numChildren: e.num_children,
      convertedType: e.converted_type,
      logicalType: e.logical_type,
      scale: e.scale,
      precision: e.precision,
      fieldId: e.field_id,
    });
    for (let i = 0; i < children; i++) visit(path, depth + 1);
  };
  if (elements.length) visit([], 0);
  if (next !== elements.length) throw bad(`has ${elements.length - next} elements outside its tree`);
  return out;
}

function toOffset(v: bigint | number | undefined, fileName: string): number {
  if (v === undefined) throw new CorruptFileError(fileName, 'corrupt footer (missing offset)');
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new CorruptFileError(fileName, `corrupt footer (bad offset ${v})`);
  return n;
}
