/**
 * `inspect`: a summary of a table's metadata — format, snapshots, refs, file counts — and every
 * distinct path prefix it holds and where, which is what one needs to write `--map` rules.
 */
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { NotFoundError } from '../errors.ts';
import { decodeMetadata, isMetadataFileName, metadataVersionOf } from '../iceberg/metadata-json.ts';
import { decodePuffinFooter } from '../puffin/puffin.ts';
import { type StorageResolver, StorageRouter } from '../storage/router.ts';
import { normalizePath } from '../sync/path-mapping.ts';
import { emptyWalkSummary, type WalkSummary, walkTable } from '../sync/walk.ts';

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
  /** Set when `readable` was false: manifests could not be read (e.g. source paths not mapped). */
  manifestsUnreadable?: string;
}

/** Finds the newest metadata file of a table location (version-hint ignored: listing is authoritative). */
export async function findLatestMetadata(resolve: StorageResolver, location: string): Promise<string> {
  if (isMetadataFileName(location)) return location;
  const dir = `${location.replace(/\/+$/, '')}/metadata`;
  let best: { path: string; v: number; mtime: number } | undefined;
  for await (const f of resolve(dir).list(dir)) {
    if (!isMetadataFileName(f.path)) continue;
    const v = metadataVersionOf(f.path) ?? -1;
    const mtime = f.mtimeMs ?? 0;
    if (!best || v > best.v || (v === best.v && mtime > best.mtime)) best = { path: f.path, v, mtime };
  }
  if (!best) throw new NotFoundError(`${dir}/*.metadata.json`);
  return best.path;
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
  let summary: WalkSummary = emptyWalkSummary();
  const tableDir = file.slice(
    0,
    file.lastIndexOf('/metadata/') >= 0 ? file.lastIndexOf('/metadata/') : file.lastIndexOf('/'),
  );
  // Without a mapping, try the metadata's own paths, then the same file names beside this metadata.
  const mapRead =
    options.mapRead ??
    ((p: string) => (p.startsWith(md.location) ? tableDir + p.slice(md.location.length) : p));
  let manifestsUnreadable: string | undefined;
  const deleteFiles = new Map<string, string>();
  try {
    summary = await walkTable(
      doc,
      file,
      resolve,
      (f) => {
        note(f.path, f.field);
        if (f.live && (f.kind === 'position-deletes' || f.kind === 'deletion-vector'))
          deleteFiles.set(f.path, f.kind);
      },
      mapRead,
    );
    // Paths inside delete files often take another spelling than the manifests (hdfs://nn/x vs /x).
    for (const [path, kind] of deleteFiles) {
      const readable = mapRead(path);
      try {
        const bytes = await resolve(readable).read(readable);
        if (kind === 'deletion-vector') {
          const footer = decodePuffinFooter(bytes, readable);
          for (const b of footer.blobs) {
            const ref = b.properties['referenced-data-file'];
            if (ref) note(ref, 'puffin referenced-data-file');
          }
        } else if (readable.endsWith('.parquet')) {
          const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
          const rows = await parquetReadObjects({ file, columns: ['file_path'], compressors });
          for (const p of new Set(rows.map((r) => r.file_path)))
            if (typeof p === 'string') note(p, 'delete file_path column');
        }
      } catch (err) {
        manifestsUnreadable ??= `delete file not read: ${(err as Error).message}`;
      }
    }
  } catch (err) {
    manifestsUnreadable = (err as Error).message;
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
    ...(manifestsUnreadable ? { manifestsUnreadable } : {}),
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
  if (r.manifestsUnreadable) lines.push(`warning    manifests not read: ${r.manifestsUnreadable}`);
  lines.push('prefixes');
  for (const p of r.prefixes) lines.push(`  ${p.prefix}  (${p.count} paths: ${p.fields.join(', ')})`);
  return lines.join('\n');
}
