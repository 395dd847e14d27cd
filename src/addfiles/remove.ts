/**
 * Removing tracked data files that vanished from the replica (`--remove-missing`, for sources
 * that compact and clean up): each manifest that lists such a file is rewritten with the file
 * marked DELETED by the new snapshot and the others EXISTING, as Iceberg's delete operations
 * do; manifests without such files are carried unchanged.
 */
import { type AvroRecord, encodeAvroFile } from '../avro/container.ts';
import { UnsupportedError } from '../errors.ts';
import { manifestEntryView, manifestFileView, readManifest } from '../iceberg/manifest-codec.ts';
import type { FormatVersion } from '../iceberg/metadata.ts';

/** One rewritten manifest and its new manifest list record. */
export interface RewrittenManifest {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly record: AvroRecord;
}

/** What removing files from the parent's manifests produced. */
export interface Removal {
  /** The parent's manifest list records, with rewritten manifests replaced. */
  readonly manifests: AvroRecord[];
  readonly rewritten: RewrittenManifest[];
  readonly removedFiles: number;
  readonly removedRecords: bigint;
  readonly removedBytes: bigint;
  /** The removed files as the manifests spell them. */
  readonly removedPaths: string[];
}

/**
 * Marks the files for which `isRemoved` holds as deleted by `snapshotId`.
 * @param read reads a manifest's bytes.
 * @param newPath names the rewritten copy of a manifest.
 */
export async function removeFiles(input: {
  formatVersion: FormatVersion;
  parentManifests: readonly AvroRecord[];
  isRemoved: (path: string) => boolean;
  snapshotId: bigint;
  sequenceNumber: bigint;
  read: (path: string) => Promise<Uint8Array>;
  newPath: (index: number) => string;
}): Promise<Removal> {
  if (input.formatVersion >= 3) {
    throw new UnsupportedError(
      undefined,
      '--remove-missing is not supported for format v3 tables yet (row lineage of rewritten manifests)',
    );
  }
  const manifests: AvroRecord[] = [];
  const rewritten: RewrittenManifest[] = [];
  let removedFiles = 0;
  let removedRecords = 0n;
  let removedBytes = 0n;
  const removedPaths: string[] = [];
  for (const rec of input.parentManifests) {
    const mf = manifestFileView(rec);
    if (mf.content !== 0) {
      manifests.push(rec);
      continue;
    }
    const manifest = await readManifest(await input.read(mf.manifestPath), mf.manifestPath);
    const views = manifest.records.map((r) => manifestEntryView(r, mf.manifestPath));
    if (!views.some((e) => e.status !== 2 && input.isRemoved(e.dataFile.filePath))) {
      manifests.push(rec);
      continue;
    }
    const out: AvroRecord[] = [];
    let existing = 0;
    let existingRows = 0n;
    let deleted = 0;
    let deletedRows = 0n;
    let minSeq: bigint | undefined;
    for (const [i, e] of views.entries()) {
      if (e.status === 2) continue; // deleted by an earlier snapshot: dropped, as Iceberg does
      const r = manifest.records[i] as AvroRecord;
      // Inherited values must be written out once the entry is no longer ADDED.
      const seq = e.sequenceNumber ?? mf.sequenceNumber ?? 0n;
      const fileSeq = e.fileSequenceNumber ?? mf.sequenceNumber ?? 0n;
      const removed = input.isRemoved(e.dataFile.filePath);
      const next: AvroRecord = {
        ...r,
        status: removed ? 2 : 0,
        snapshot_id: removed ? input.snapshotId : (e.snapshotId ?? mf.addedSnapshotId ?? null),
        ...(input.formatVersion >= 2 ? { sequence_number: seq, file_sequence_number: fileSeq } : {}),
      };
      out.push(next);
      if (removed) {
        deleted++;
        deletedRows += e.dataFile.recordCount;
        removedFiles++;
        removedRecords += e.dataFile.recordCount;
        removedBytes += e.dataFile.fileSizeInBytes;
        removedPaths.push(e.dataFile.filePath);
      } else {
        existing++;
        existingRows += e.dataFile.recordCount;
        if (minSeq === undefined || seq < minSeq) minSeq = seq;
      }
    }
    const path = input.newPath(rewritten.length);
    // Same header (writer schema, spec, table schema); only entries' status and ids change.
    const bytes = encodeAvroFile({ meta: manifest.header.meta }, out);
    const record: AvroRecord = {
      ...rec,
      manifest_path: path,
      manifest_length: BigInt(bytes.length),
      added_snapshot_id: input.snapshotId,
      added_files_count: 0,
      existing_files_count: existing,
      deleted_files_count: deleted,
      added_rows_count: 0n,
      existing_rows_count: existingRows,
      deleted_rows_count: deletedRows,
      // The old partition summaries still bound every entry (the entries are the same).
      ...(input.formatVersion >= 2
        ? { sequence_number: input.sequenceNumber, min_sequence_number: minSeq ?? input.sequenceNumber }
        : {}),
    };
    rewritten.push({ path, bytes, record });
    manifests.push(record);
  }
  return { manifests, rewritten, removedFiles, removedRecords, removedBytes, removedPaths };
}

/** Whether a carried manifest only records deletions of an earlier snapshot (Iceberg drops those). */
export function onlyOldDeletes(rec: AvroRecord, snapshotId: bigint): boolean {
  const mf = manifestFileView(rec);
  return (
    mf.content === 0 &&
    mf.addedSnapshotId !== snapshotId &&
    (mf.addedFilesCount ?? 1) === 0 &&
    (mf.existingFilesCount ?? 1) === 0 &&
    (mf.deletedFilesCount ?? 0) > 0
  );
}
