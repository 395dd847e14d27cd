/**
 * Position-delete files and deletion vectors name data files by path inside their own bytes, so
 * unlike data files they are rewritten, and the manifest entries naming them change with them
 * (path, size, the bounds of the `file_path` column, `split_offsets`). The byte rewrites and the
 * entry changes are here; which file is rewritten once per run, and where it goes, is the
 * engine's.
 */
import { UnsupportedError } from '../errors.ts';
import { type AvroRecordValue, contentOf, formatOf } from '../iceberg/manifest-views.ts';
import { readParquetFooter } from '../parquet/footer.ts';
import { rewritePositionDeleteFile } from '../parquet/position-deletes.ts';
import { rewritePuffinFooter } from '../puffin/puffin.ts';
import { bytesRangeReader } from '../storage/storage.ts';
import type { PathMapper } from '../table/path-mapping.ts';
import { mapDeletePathBounds, setDeletePathBounds } from './rewrite.ts';
import type { RewrittenFile } from './state.ts';

/** A rewritten delete file, with what its manifest entries need of the new bytes when known. */
export type RewrittenDeleteFile = RewrittenFile & {
  /** The lowest and highest data-file path of a Parquet position-delete file, as rewritten. */
  minPath?: string;
  maxPath?: string;
  /** Row-group start offsets of a Parquet position-delete file, as rewritten. */
  splitOffsets?: readonly number[];
};

/**
 * The bytes of a delete file with every data-file path mapped: the `file_path` column of a Parquet
 * position-delete file, or the `referenced-data-file` property of each blob of a Puffin file.
 */
export async function rewriteDeleteFileBytes(
  bytes: Uint8Array,
  format: 'PARQUET' | 'PUFFIN',
  mapPath: (path: string) => string,
  file: string,
): Promise<{ bytes: Uint8Array; minPath?: string; maxPath?: string; splitOffsets?: readonly number[] }> {
  if (format === 'PARQUET') {
    const r = await rewritePositionDeleteFile(bytes, mapPath, file);
    const { splitOffsets } = await readParquetFooter(bytesRangeReader(r.bytes), file);
    return {
      bytes: r.bytes,
      ...(r.minPath !== undefined ? { minPath: r.minPath } : {}),
      ...(r.maxPath !== undefined ? { maxPath: r.maxPath } : {}),
      splitOffsets,
    };
  }
  const r = rewritePuffinFooter(
    bytes,
    (blob) => {
      const ref = blob.properties['referenced-data-file'];
      return ref === undefined ? undefined : { ...blob.properties, 'referenced-data-file': mapPath(ref) };
    },
    file,
  );
  return { bytes: r.bytes };
}

/** What {@link rewriteEntryPaths} needs of the run. */
export interface EntryRewriteContext {
  readonly mapper: PathMapper;
  /** The rewritten copy of a live delete file (made once per run). */
  deleteFile(path: string, format: 'PARQUET' | 'PUFFIN'): Promise<RewrittenDeleteFile>;
  /** Row-group offsets of a Parquet file this tool wrote. */
  splitOffsetsOf(path: string): Promise<readonly number[]>;
}

/**
 * Maps the paths of one decoded manifest entry in place; a live position-delete or DV entry is
 * pointed at its rewritten file, with that file's size, path bounds and row-group offsets.
 * @throws UnsupportedError for a position-delete file neither Parquet nor Puffin.
 */
export async function rewriteEntryPaths(
  entry: AvroRecordValue,
  manifest: string,
  ctx: EntryRewriteContext,
): Promise<void> {
  const df = entry.data_file as AvroRecordValue;
  const path = String(df.file_path);
  const live = Number(entry.status) !== 2;
  const content = contentOf(df);
  const format = formatOf(df);
  const mapBound = (x: string) => ctx.mapper.map(x, { file: manifest, field: 'lower_bounds/upper_bounds' });
  if (content === 1 && live) {
    if (format !== 'PARQUET' && format !== 'PUFFIN') {
      throw new UnsupportedError(
        manifest,
        `position-delete file ${path} is ${format}; only Parquet position deletes and Puffin deletion vectors can be rewritten`,
      );
    }
    const r = await ctx.deleteFile(path, format);
    df.file_path = r.outputPath;
    df.file_size_in_bytes = BigInt(r.outputSize);
    if (format === 'PARQUET') {
      if (r.minPath !== undefined || r.maxPath !== undefined) setDeletePathBounds(df, r.minPath, r.maxPath);
      else mapDeletePathBounds(df, mapBound);
      // Paths of another length move every row group after the first: record where they start now.
      if (Array.isArray(df.split_offsets)) {
        const offsets = r.splitOffsets ?? (await ctx.splitOffsetsOf(r.outputPath));
        df.split_offsets = offsets.map((o) => BigInt(o));
      }
    }
  } else {
    df.file_path = ctx.mapper.map(path, { file: manifest, field: 'data_file.file_path' });
    if (content === 1) mapDeletePathBounds(df, mapBound);
  }
  if (typeof df.referenced_data_file === 'string') {
    df.referenced_data_file = ctx.mapper.map(df.referenced_data_file, {
      file: manifest,
      field: 'data_file.referenced_data_file',
    });
  }
}
