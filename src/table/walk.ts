/**
 * Walks a table's metadata tree: metadata.json → manifest lists → manifests → entries.
 * Shared by `inspect` and `verify`; reads every manifest, so it is for whole-table tools only.
 * Manifests are decoded block by block as their entries are visited, and the files already
 * visited are remembered by hash, so that memory stays bounded for tables of millions of files.
 */
import { type AvroRecord, openAvroContainer } from '../avro/container.ts';
import { type ErrorCode, IcebergSyncError } from '../errors.ts';
import { type AvroRecordValue, contentOf, formatOf } from '../iceberg/manifest-views.ts';
import type { MetadataDocument } from '../iceberg/metadata-json.ts';
import type { StorageResolver } from '../storage/router.ts';
import { HashedStringSet } from './hashed-set.ts';

/** A path found in the metadata, and the field it was found in. */
export interface FoundPath {
  readonly path: string;
  readonly field: string;
  /** The file whose field names it. */
  readonly in: string;
  /** Recorded size, when the metadata records one. */
  readonly size?: bigint;
  /** Whether readers of some snapshot need the file (false for DELETED manifest entries, logs). */
  readonly live: boolean;
  /** `data`, `position-deletes`, `deletion-vector`, `equality-deletes`, `manifest`, `manifest-list`, ... */
  readonly kind: string;
}

/** A file the walk could not read: the path as the metadata names it, where, and why. */
export interface UnreadableFile {
  readonly path: string;
  readonly field: string;
  /** The file whose field names it. */
  readonly in: string;
  /** The error's message (it names the file). */
  readonly reason: string;
  /** The error's code: `CORRUPT_FILE`, `NOT_FOUND`, `PERMISSION_DENIED`, `STORAGE`, ... */
  readonly code: ErrorCode;
}

/** Options of {@link walkTable}. */
export interface WalkOptions {
  /**
   * Called for a manifest list or manifest that cannot be read, after which the walk goes on
   * without its (remaining) entries. Without it, the first such error ends the walk.
   */
  readonly onUnreadable?: (file: UnreadableFile) => void;
  /** Given the bytes of each manifest list and manifest read (by its readable path), before its entries. */
  readonly onFile?: (path: string, bytes: Uint8Array) => void;
  /** Given each record of a manifest list or manifest as decoded (by the file's readable path). */
  readonly onRecord?: (path: string, record: AvroRecord) => void;
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** A summary with every count at zero. */
export function emptyWalkSummary(): WalkSummary {
  return {
    manifestLists: 0,
    manifests: 0,
    dataFiles: 0,
    positionDeleteFiles: 0,
    deletionVectors: 0,
    equalityDeleteFiles: 0,
  };
}

/** Totals of a walk. */
export interface WalkSummary {
  manifestLists: number;
  manifests: number;
  dataFiles: number;
  positionDeleteFiles: number;
  deletionVectors: number;
  equalityDeleteFiles: number;
}

/**
 * Visits every path of a table version. `resolveRead` turns a path as written in the metadata into
 * one that can be read (identity at the DR site, a mapping for replicated metadata).
 */
export async function walkTable(
  doc: MetadataDocument,
  metadataFile: string,
  resolve: StorageResolver,
  visit: (p: FoundPath) => void | Promise<void>,
  resolveRead: (p: string) => string = (p) => p,
  options: WalkOptions = {},
): Promise<WalkSummary> {
  const summary = emptyWalkSummary();
  const unreadable = (err: unknown, path: string, field: string, from: string) => {
    if (!options.onUnreadable || !(err instanceof IcebergSyncError)) throw err;
    options.onUnreadable({ path, field, in: from, reason: err.message, code: err.code });
  };
  /**
   * Visits the records of an Avro file the metadata names, one block decoded at a time; a file
   * that cannot be read is reported (its entries up to the damage visited), and the walk goes on.
   */
  const eachRecord = async (
    path: string,
    field: string,
    from: string,
    fn: (readable: string, record: AvroRecordValue) => Promise<void>,
  ) => {
    const readable = resolveRead(path);
    let records: AsyncIterator<AvroRecord>;
    try {
      const bytes = await resolve(readable).read(readable);
      options.onFile?.(readable, bytes);
      records = (await openAvroContainer(once(bytes), readable)).records();
    } catch (err) {
      unreadable(err, path, field, from);
      return;
    }
    for (;;) {
      let next: IteratorResult<AvroRecord>;
      try {
        next = await records.next();
      } catch (err) {
        unreadable(err, path, field, from);
        return;
      }
      if (next.done) return;
      options.onRecord?.(readable, next.value);
      await fn(readable, next.value as AvroRecordValue);
    }
  };
  const md = doc.metadata;
  await visit({
    path: md.location,
    field: 'location',
    in: metadataFile,
    live: false,
    kind: 'table-location',
  });
  for (const e of md.metadataLog) {
    await visit({
      path: e.metadataFile,
      field: 'metadata-log',
      in: metadataFile,
      live: false,
      kind: 'metadata',
    });
  }
  for (const key of [
    'write.data.path',
    'write.metadata.path',
    'write.object-storage.path',
    'write.folder-storage.path',
  ]) {
    const v = md.properties[key];
    if (v)
      await visit({ path: v, field: `properties.${key}`, in: metadataFile, live: false, kind: 'property' });
  }
  for (const st of md.statistics) {
    await visit({
      path: st.statisticsPath,
      field: 'statistics',
      in: metadataFile,
      size: st.fileSizeInBytes,
      live: true,
      kind: 'statistics',
    });
  }
  for (const st of md.partitionStatistics) {
    await visit({
      path: st.statisticsPath,
      field: 'partition-statistics',
      in: metadataFile,
      size: st.fileSizeInBytes,
      live: true,
      kind: 'partition-statistics',
    });
  }
  const seenManifests = new Set<string>();
  const seenFiles = new HashedStringSet();
  const visitManifest = async (path: string, length: bigint | undefined, from: string) => {
    await visit({
      path,
      field: 'manifest_path',
      in: from,
      ...(length !== undefined ? { size: length } : {}),
      live: true,
      kind: 'manifest',
    });
    if (seenManifests.has(path)) return;
    seenManifests.add(path);
    summary.manifests++;
    await eachRecord(path, 'manifest_path', from, async (readable, entry) => {
      const df = entry.data_file as AvroRecordValue;
      const filePath = String(df.file_path);
      const live = Number(entry.status) !== 2;
      const content = contentOf(df);
      const kind =
        content === 0
          ? 'data'
          : content === 2
            ? 'equality-deletes'
            : formatOf(df) === 'PUFFIN'
              ? 'deletion-vector'
              : 'position-deletes';
      if (live && seenFiles.add(`${kind}:${filePath}:${String(df.content_offset ?? '')}`)) {
        if (kind === 'data') summary.dataFiles++;
        else if (kind === 'equality-deletes') summary.equalityDeleteFiles++;
        else if (kind === 'deletion-vector') summary.deletionVectors++;
        else summary.positionDeleteFiles++;
      }
      await visit({
        path: filePath,
        field: 'data_file.file_path',
        in: readable,
        size: typeof df.file_size_in_bytes === 'bigint' ? df.file_size_in_bytes : undefined,
        live,
        kind,
      } as FoundPath);
      if (typeof df.referenced_data_file === 'string') {
        await visit({
          path: df.referenced_data_file,
          field: 'data_file.referenced_data_file',
          in: readable,
          live: false,
          kind: 'data',
        });
      }
    });
  };
  const seenLists = new Set<string>();
  for (const s of md.snapshots) {
    if (s.manifestList) {
      await visit({
        path: s.manifestList,
        field: 'manifest-list',
        in: metadataFile,
        live: true,
        kind: 'manifest-list',
      });
      if (seenLists.has(s.manifestList)) continue;
      seenLists.add(s.manifestList);
      summary.manifestLists++;
      await eachRecord(s.manifestList, 'manifest-list', metadataFile, async (readable, r) => {
        const len = r.manifest_length;
        await visitManifest(String(r.manifest_path), typeof len === 'bigint' ? len : undefined, readable);
      });
    }
    for (const m of s.manifests ?? []) await visitManifest(m, undefined, metadataFile);
  }
  return summary;
}
