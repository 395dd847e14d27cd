/**
 * Which of a table's listed `*.metadata.json` files is newest: one order for every command, so
 * that `inspect`, `sync` and `plan` always agree on the version they talk about.
 */
import { isMetadataFileName, metadataVersionOf } from '../iceberg/metadata-json.ts';
import type { FileInfo } from '../storage/storage.ts';

/**
 * The metadata files among `files`, newest first: by the version in the name (`v12`, `00012-…`),
 * then by modification time, then by path (descending), so that ties break the same way on
 * every backend and every run.
 */
export function newestMetadataFirst<F extends FileInfo>(files: Iterable<F>): F[] {
  const ranked: { file: F; version: number; mtime: number }[] = [];
  for (const file of files) {
    if (!isMetadataFileName(file.path)) continue;
    ranked.push({ file, version: metadataVersionOf(file.path) ?? -1, mtime: file.mtimeMs ?? 0 });
  }
  ranked.sort(
    (a, b) =>
      b.version - a.version ||
      b.mtime - a.mtime ||
      (a.file.path < b.file.path ? 1 : a.file.path > b.file.path ? -1 : 0),
  );
  return ranked.map((r) => r.file);
}
