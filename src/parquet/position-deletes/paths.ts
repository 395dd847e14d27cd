/**
 * Reading the `file_path` column of a position-delete file (with hyparquet, any encoding) and
 * mapping its values, once per distinct path.
 */

import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import { parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { CorruptFileError, IcebergSyncError } from '../../errors.ts';

/** One `file_path` value as bytes; null for a null. */
export type PathValue = Uint8Array | null;

/** Every `file_path` value of the file, in row order. */
export async function readPaths(
  input: Uint8Array,
  metadata: FileMetaData,
  columnName: string,
  fileName: string,
): Promise<PathValue[]> {
  const file: AsyncBuffer = {
    byteLength: input.length,
    // Copy out of `input`: a Node Buffer's slice() is a view into a shared pool, whose .buffer
    // would be the whole pool.
    slice: (start, end) => Uint8Array.prototype.slice.call(input, start, end ?? input.length).buffer,
  };
  let rows: unknown[][] = [];
  try {
    await parquetRead({
      file,
      metadata,
      columns: [columnName],
      compressors,
      utf8: false,
      parsers: { stringFromBytes: (b: Uint8Array) => b },
      onComplete: (r: unknown[][]) => {
        rows = r;
      },
    });
  } catch (err) {
    if (err instanceof IcebergSyncError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new CorruptFileError(fileName, `cannot decode file_path (${detail})`, { cause: err });
  }
  return rows.map((r) => {
    const v = r[0];
    if (v === null || v === undefined) return null;
    if (!(v instanceof Uint8Array))
      throw new CorruptFileError(fileName, 'file_path holds a non-binary value');
    return v;
  });
}

/** Maps path bytes through the caller's string mapping, once per distinct path. */
export class PathMapper {
  changed = false;
  private readonly cache = new Map<string, Uint8Array>();
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly encoder = new TextEncoder();
  private readonly mapPath: (path: string) => string;
  private readonly fileName: string;

  constructor(mapPath: (path: string) => string, fileName: string) {
    this.mapPath = mapPath;
    this.fileName = fileName;
  }

  map(bytes: Uint8Array): Uint8Array {
    let path: string;
    try {
      path = this.decoder.decode(bytes);
    } catch {
      throw new CorruptFileError(this.fileName, 'file_path holds a value that is not UTF-8');
    }
    let out = this.cache.get(path);
    if (!out) {
      const next = this.mapPath(path);
      out = next === path ? bytes : this.encoder.encode(next);
      if (next !== path) this.changed = true;
      this.cache.set(path, out);
    }
    return out;
  }
}

/** The UTF-8 bounds as strings, each left out when absent. */
export function pathBounds(
  min: Uint8Array | undefined,
  max: Uint8Array | undefined,
): { minPath?: string; maxPath?: string } {
  const d = new TextDecoder();
  return { ...(min && { minPath: d.decode(min) }), ...(max && { maxPath: d.decode(max) }) };
}
