/**
 * `inspect`: a summary of a table's metadata — format, snapshots, refs, file counts — and every
 * distinct path prefix it holds and where, which is what one needs to write `--map` rules.
 */
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { CorruptFileError, ExitCode, exitCodeFor, IcebergSyncError, NotFoundError } from '../errors.ts';
import { decodeMetadata, isMetadataFileName } from '../iceberg/metadata-json.ts';
import { decodePuffinFooter } from '../puffin/puffin.ts';
import { type StorageResolver, StorageRouter } from '../storage/router.ts';
import type { FileInfo } from '../storage/storage.ts';
import { newestMetadataFirst } from '../table/metadata-files.ts';
import { normalizePath } from '../table/path-mapping.ts';
import { type UnreadableFile, type WalkSummary, walkTable } from '../table/walk.ts';

/** A distinct location prefix found in the metadata. */
export interface PrefixUse {
  readonly prefix: string;
  readonly count: number;
  /** Fields that hold paths with this prefix. */
  readonly fields: string[];
}

/** The result of {@link inspectTable}. */
export interface InspectReport extends WalkSummary {
  metadataFile: string;
  formatVersion: number;
  tableUuid: string | null;
  location: string;
  currentSnapshotId: string | null;
  snapshots: {
    snapshotId: string;
    parentSnapshotId: string | null;
    sequenceNumber: string | null;
    timestampMs: string;
    operation: string | null;
    manifestList: string | null;
  }[];
  refs: { name: string; type: string; snapshotId: string }[];
  prefixes: PrefixUse[];
  /**
   * True when some manifest list, manifest or delete file could not be read: the counts and
   * prefixes then cover only what was read, and {@link unreadable} says what was not and why.
   */
  partial: boolean;
  /** The files that could not be read (empty when the summary is complete). */
  unreadable: UnreadableFile[];
}

/**
 * The exit code a partial summary earns: 4 (bad input) when a file is corrupt, unsupported or
 * names an invalid path, else 6 (storage: missing, permission denied, unreachable); 0 when complete.
 */
export function inspectExitCode(report: InspectReport): number {
  if (!report.partial) return ExitCode.OK;
  const codes = report.unreadable.map((u) => exitCodeFor(new IcebergSyncError(u.code, u.reason)));
  return codes.includes(ExitCode.BAD_INPUT) ? ExitCode.BAD_INPUT : ExitCode.STORAGE;
}

/** Finds the newest metadata file of a table location (version-hint ignored: listing is authoritative). */
export async function findLatestMetadata(resolve: StorageResolver, location: string): Promise<string> {
  if (isMetadataFileName(location)) return location;
  const dir = `${location.replace(/\/+$/, '')}/metadata`;
  const listed: FileInfo[] = [];
  for await (const f of resolve(dir).list(dir)) listed.push(f);
  const newest = newestMetadataFirst(listed)[0];
  if (!newest) throw new NotFoundError(`${dir}/*.metadata.json`);
  return newest.path;
}

/** The prefix a path is reported under: the table-level directory above `data/` or `metadata/`. */
export function prefixOf(path: string, tableLocation: string): string {
  if (path === tableLocation || path.startsWith(`${tableLocation.replace(/\/+$/, '')}/`))
    return tableLocation;
  const { root } = normalizePath(path);
  const schemeEnd = path.indexOf('://');
  const pathPart =
    root && schemeEnd >= 0 ? path.slice(path.indexOf('/', schemeEnd + 3)) : path.replace(/^file:/, '');
  const head = path.slice(0, path.length - pathPart.length);
  const segs = pathPart.split('/');
  const cut = segs.findIndex((s, i) => i > 0 && (s === 'data' || s === 'metadata'));
  const keep = cut > 0 ? segs.slice(0, cut) : segs.slice(0, -1);
  return head + keep.join('/');
}

/**
 * Inspects a table, given its location or a metadata.json path. With `mapRead`, manifests are
 * read through a mapping (for replicated metadata whose paths name the source).
 */
export async function inspectTable(
  target: string,
  options: { resolve?: StorageResolver; mapRead?: (p: string) => string } = {},
): Promise<InspectReport> {
  const resolve = options.resolve ?? new StorageRouter().resolver;
  const file = await findLatestMetadata(resolve, target);
  const doc = decodeMetadata(await resolve(file).read(file), file);
  const md = doc.metadata;
  const prefixes = new Map<string, { count: number; fields: Set<string> }>();
  const note = (path: string, field: string) => {
    const p = prefixOf(path, md.location);
    let e = prefixes.get(p);
    if (!e) {
      e = { count: 0, fields: new Set() };
      prefixes.set(p, e);
    }
    e.count++;
    e.fields.add(field);
  };
  note(file, 'metadata file');
  const tableDir = file.slice(
    0,
    file.lastIndexOf('/metadata/') >= 0 ? file.lastIndexOf('/metadata/') : file.lastIndexOf('/'),
  );
  // Without a mapping, try the metadata's own paths, then the same file names beside this metadata.
  const mapRead =
    options.mapRead ??
    ((p: string) => (p.startsWith(md.location) ? tableDir + p.slice(md.location.length) : p));
  const unreadable: UnreadableFile[] = [];
  const deleteFiles = new Map<string, { kind: string; in: string }>();
  const summary = await walkTable(
    doc,
    file,
    resolve,
    (f) => {
      note(f.path, f.field);
      if (f.live && (f.kind === 'position-deletes' || f.kind === 'deletion-vector'))
        deleteFiles.set(f.path, { kind: f.kind, in: f.in });
    },
    mapRead,
    // Go on past an unreadable manifest, and say which ones were not read.
    { onUnreadable: (u) => unreadable.push(u) },
  );
  // Paths inside delete files often take another spelling than the manifests (hdfs://nn/x vs /x).
  for (const [path, { kind, in: from }] of deleteFiles) {
    try {
      const readable = mapRead(path);
      const bytes = await resolve(readable).read(readable);
      if (kind === 'deletion-vector') {
        const footer = decodePuffinFooter(bytes, readable);
        for (const b of footer.blobs) {
          const ref = b.properties['referenced-data-file'];
          if (ref) note(ref, 'puffin referenced-data-file');
        }
      } else if (readable.endsWith('.parquet')) {
        const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
        let rows: Record<string, unknown>[];
        try {
          rows = await parquetReadObjects({ file, columns: ['file_path'], compressors });
        } catch (err) {
          // The Parquet reader's own errors are not ours: say which file it could not decode.
          const why = `not a readable position-delete file (${(err as Error).message})`;
          throw new CorruptFileError(readable, why, { cause: err });
        }
        for (const p of new Set(rows.map((r) => r.file_path)))
          if (typeof p === 'string') note(p, 'delete file_path column');
      }
    } catch (err) {
      if (!(err instanceof IcebergSyncError)) throw err;
      unreadable.push({ path, field: 'data_file.file_path', in: from, reason: err.message, code: err.code });
    }
  }
  return {
    metadataFile: file,
    formatVersion: md.formatVersion,
    tableUuid: md.tableUuid ?? null,
    location: md.location,
    currentSnapshotId: md.currentSnapshotId?.toString() ?? null,
    snapshots: md.snapshots.map((s) => ({
      snapshotId: s.snapshotId.toString(),
      parentSnapshotId: s.parentSnapshotId?.toString() ?? null,
      sequenceNumber: s.sequenceNumber?.toString() ?? null,
      timestampMs: s.timestampMs.toString(),
      operation: s.summary?.operation ?? null,
      manifestList: s.manifestList ?? null,
    })),
    refs: Object.entries(md.refs).map(([name, r]) => ({
      name,
      type: r.type,
      snapshotId: r.snapshotId.toString(),
    })),
    ...summary,
    prefixes: [...prefixes.entries()]
      .map(([prefix, e]) => ({ prefix, count: e.count, fields: [...e.fields].sort() }))
      .sort((a, b) => b.count - a.count),
    partial: unreadable.length > 0,
    unreadable,
  };
}

/** Renders a report for people. */
export function formatInspectReport(r: InspectReport): string {
  const lines = [
    `table      ${r.location}`,
    `metadata   ${r.metadataFile}`,
    `format     v${r.formatVersion}${r.tableUuid ? `  uuid ${r.tableUuid}` : ''}`,
    `current    ${r.currentSnapshotId ?? '(no snapshot)'}`,
    `snapshots  ${r.snapshots.length}`,
  ];
  for (const s of r.snapshots) {
    lines.push(
      `  ${s.snapshotId}  seq ${s.sequenceNumber ?? '-'}  ${new Date(Number(s.timestampMs)).toISOString()}  ${s.operation ?? ''}`,
    );
  }
  lines.push(
    `refs       ${r.refs.map((x) => `${x.name} (${x.type}) -> ${x.snapshotId}`).join(', ') || '(none)'}`,
  );
  lines.push(
    `files      ${r.manifestLists} manifest lists, ${r.manifests} manifests, ${r.dataFiles} data files, ` +
      `${r.positionDeleteFiles} position-delete files, ${r.deletionVectors} deletion vectors, ${r.equalityDeleteFiles} equality-delete files`,
  );
  if (r.partial) {
    lines.push(
      `PARTIAL    ${r.unreadable.length} file(s) could not be read; the counts and prefixes cover only what was read`,
    );
    for (const u of r.unreadable.slice(0, 20)) lines.push(`  ${u.path} (${u.field} in ${u.in}): ${u.reason}`);
    if (r.unreadable.length > 20) lines.push(`  ... and ${r.unreadable.length - 20} more`);
  }
  lines.push('prefixes');
  for (const p of r.prefixes) lines.push(`  ${p.prefix}  (${p.count} paths: ${p.fields.join(', ')})`);
  return lines.join('\n');
}
