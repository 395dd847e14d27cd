/**
 * Iceberg manifest lists and manifests (Avro container files) over {@link ../avro/container.ts}.
 *
 * Records stay generic Avro records so that a rewrite changes only the fields it means to
 * (`manifest_path`, `file_path`, sizes, bounds) and keeps every other field, known or not; the
 * typed views (`manifest-views.ts`, re-exported here) are read-only conveniences. Field names
 * follow the Iceberg table spec (format/spec.md, "Manifests" and "Manifest Lists"); v1 manifest
 * lists name the file counts `added_data_files_count`, `existing_data_files_count` and
 * `deleted_data_files_count`.
 */
import {
  type AvroContainerReader,
  type AvroHeader,
  type AvroHeaderInput,
  type AvroWriterOptions,
  createAvroWriter,
  openAvroContainer,
  readAvroFile,
} from '../avro/container.ts';
import type { AvroRecord } from '../avro/schema.ts';
import { CorruptFileError, UnsupportedError } from '../errors.ts';
import { type FormatVersion, SUPPORTED_FORMAT_VERSIONS } from './metadata.ts';

/** A manifest (list) file: its bytes, or a stream of its chunks. */
export type ManifestInput = Uint8Array | AsyncIterable<Uint8Array>;

/** A manifest list read whole. */
export interface ManifestListFile {
  readonly header: AvroHeader;
  /** The header's `format-version`; where absent, inferred from the schema's fields. */
  readonly formatVersion: FormatVersion;
  /** `manifest_file` records. */
  readonly records: AvroRecord[];
  /** Record count of each Avro block (to re-encode with the same boundaries). */
  readonly blockRecordCounts: readonly number[];
}

/** A manifest read whole. */
export interface ManifestFile extends ManifestListFile {
  /** The header's `content`; where absent, `deletes` if an entry is a delete file, else `data`. */
  readonly content: 'data' | 'deletes';
}

/** A manifest list opened for streaming: records are decoded as `reader` is iterated. */
export interface ManifestListStream {
  readonly header: AvroHeader;
  readonly formatVersion: FormatVersion;
  readonly reader: AvroContainerReader;
}

/** A manifest opened for streaming. */
export interface ManifestStream extends ManifestListStream {
  /**
   * The header's `content`; where absent, `data` (entries are not read yet: the manifest
   * list's `content` field is authoritative).
   */
  readonly content: 'data' | 'deletes';
}

const textDecoder = new TextDecoder();

/** A header metadata entry as text (`format-version`, `snapshot-id`, `partition-spec`...). */
export function headerText(header: AvroHeader, key: string): string | undefined {
  const v = header.meta.get(key);
  return v === undefined ? undefined : textDecoder.decode(v);
}

/**
 * The format version: the header's `format-version`, else inferred from the schema. Some
 * writers (and tools that rewrite manifests) keep only `avro.schema` and `avro.codec` in the
 * header; the shared Impala fixtures hold v2 and v3 files like that.
 */
function formatVersionOf(header: AvroHeader, fileName: string, kind: 'list' | 'manifest'): FormatVersion {
  const text = headerText(header, 'format-version');
  if (text === undefined) return inferFormatVersion(header, kind);
  if (!/^\d+$/.test(text))
    throw new CorruptFileError(fileName, `bad format-version '${text}' in Avro header`);
  const v = Number(text);
  if (!(SUPPORTED_FORMAT_VERSIONS as readonly number[]).includes(v)) {
    throw new UnsupportedError(fileName, `unsupported format-version ${text}`);
  }
  return v as FormatVersion;
}

/** v3 added `first_row_id`; v2 added sequence numbers. */
function inferFormatVersion(header: AvroHeader, kind: 'list' | 'manifest'): FormatVersion {
  const root = header.schema;
  if (root.kind !== 'record') return 1;
  const names = root.fields.map((f) => f.name);
  let v3Names = names;
  if (kind === 'manifest') {
    const df = root.fields.find((f) => f.name === 'data_file')?.type;
    v3Names = df?.kind === 'record' ? df.fields.map((f) => f.name) : [];
  }
  if (v3Names.includes('first_row_id')) return 3;
  return names.includes('sequence_number') ? 2 : 1;
}

/**
 * The manifest content: the header's `content`, else `deletes` if any entry is a delete file.
 * Headers written without the key exist for delete manifests too (see {@link formatVersionOf}).
 */
function contentOf(
  header: AvroHeader,
  fileName: string,
  records?: readonly AvroRecord[],
): 'data' | 'deletes' {
  const text = headerText(header, 'content');
  if (text === undefined) {
    const isDelete = (r: AvroRecord) => {
      const df = r.data_file;
      const c =
        typeof df === 'object' && df !== null && !(df instanceof Uint8Array) ? (df as AvroRecord).content : 0;
      return c === 1 || c === 2;
    };
    return records?.some(isDelete) ? 'deletes' : 'data';
  }
  if (text !== 'data' && text !== 'deletes')
    throw new UnsupportedError(fileName, `unknown manifest content '${text}'`);
  return text;
}

function fieldNames(header: AvroHeader): string[] {
  const s = header.schema;
  return s.kind === 'record' ? s.fields.map((f) => f.name) : [];
}

function checkManifestList(header: AvroHeader, fileName: string): void {
  if (!fieldNames(header).includes('manifest_path')) {
    throw new CorruptFileError(fileName, 'not an Iceberg manifest list (no manifest_path field)');
  }
}

function checkManifest(header: AvroHeader, fileName: string): void {
  const names = fieldNames(header);
  if (!names.includes('status') || !names.includes('data_file')) {
    throw new CorruptFileError(fileName, 'not an Iceberg manifest (no status and data_file fields)');
  }
}

async function readWhole(input: ManifestInput, fileName: string) {
  if (input instanceof Uint8Array) return readAvroFile(input, fileName);
  const reader = await openAvroContainer(input, fileName);
  const records: AvroRecord[] = [];
  for await (const block of reader.blocks()) for (const r of block.records) records.push(r);
  return { header: reader.header, records, blockRecordCounts: reader.blockRecordCounts };
}

/**
 * Reads a manifest list (a snapshot's `snap-*.avro`).
 * @throws CorruptFileError, UnsupportedError for bad input.
 */
export async function readManifestList(input: ManifestInput, fileName: string): Promise<ManifestListFile> {
  const file = await readWhole(input, fileName);
  checkManifestList(file.header, fileName);
  return { ...file, formatVersion: formatVersionOf(file.header, fileName, 'list') };
}

/**
 * Reads a manifest (data or delete files of one partition spec).
 * @throws CorruptFileError, UnsupportedError for bad input.
 */
export async function readManifest(input: ManifestInput, fileName: string): Promise<ManifestFile> {
  const file = await readWhole(input, fileName);
  checkManifest(file.header, fileName);
  return {
    ...file,
    formatVersion: formatVersionOf(file.header, fileName, 'manifest'),
    content: contentOf(file.header, fileName, file.records),
  };
}

/** Opens a manifest list for streaming, block by block. */
export async function openManifestList(
  chunks: AsyncIterable<Uint8Array>,
  fileName: string,
): Promise<ManifestListStream> {
  const reader = await openAvroContainer(chunks, fileName);
  checkManifestList(reader.header, fileName);
  return { header: reader.header, formatVersion: formatVersionOf(reader.header, fileName, 'list'), reader };
}

/** Opens a manifest for streaming, block by block. */
export async function openManifest(
  chunks: AsyncIterable<Uint8Array>,
  fileName: string,
): Promise<ManifestStream> {
  const reader = await openAvroContainer(chunks, fileName);
  checkManifest(reader.header, fileName);
  return {
    header: reader.header,
    formatVersion: formatVersionOf(reader.header, fileName, 'manifest'),
    content: contentOf(reader.header, fileName),
    reader,
  };
}

/**
 * Re-encodes records with the source file's header metadata exactly (every entry, same order,
 * same bytes), its codec and its sync marker.
 * @param options e.g. `blockSizes` from the source to keep its block boundaries.
 * @returns the bytes written and the record count of each block.
 */
export async function writeAvroLike(
  sourceHeader: AvroHeaderInput,
  records: Iterable<AvroRecord> | AsyncIterable<AvroRecord>,
  sink: (chunk: Uint8Array) => void | Promise<void>,
  options: AvroWriterOptions = {},
): Promise<{ bytesWritten: number; blockRecordCounts: readonly number[] }> {
  const writer = createAvroWriter({ meta: sourceHeader.meta, sync: sourceHeader.sync }, sink, options);
  for await (const r of records) await writer.write(r);
  await writer.close();
  return { bytesWritten: writer.bytesWritten, blockRecordCounts: writer.blockRecordCounts };
}

export {
  type DataFileView,
  type ManifestEntryView,
  type ManifestFileView,
  manifestEntryView,
  manifestFileView,
  type PartitionFieldSummaryView,
} from './manifest-views.ts';
