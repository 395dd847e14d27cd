/**
 * Scanning a replicated data directory for Parquet files to add: one recursive listing with
 * sizes (of the files not tracked yet, where sizes cost a stat each), include/exclude globs, and the files no reader should see (hidden and `_`-prefixed
 * names, `_temporary` trees, checksum side files, empty files, files still being copied).
 */
import picomatch from 'picomatch';
import type { FileInfo, Storage } from '../storage/storage.ts';

/** Default include globs: the Parquet file names writers use. */
export const DEFAULT_INCLUDE: readonly string[] = ['**/*.parquet', '**/*.parq'];

/** Options of {@link scanDataFiles}. */
export interface ScanOptions {
  /** Globs relative to the scanned directory; a file must match one (default {@link DEFAULT_INCLUDE}). */
  readonly include?: readonly string[];
  /** Globs relative to the scanned directory; a matching file is left out. */
  readonly exclude?: readonly string[];
  /** Files modified less than this many milliseconds ago are left for a later run (default 0). */
  readonly settleMs?: number;
  /** The current time (for the settle check). */
  readonly now?: number;
  /**
   * The recorded size of a file the table already tracks, `undefined` for any other. A backend
   * whose listing pays a stat per file (local disks) is spared the stats of tracked files: they
   * are taken at their recorded size, so the listing costs a stat per new file only.
   */
  readonly tracked?: (path: string) => number | undefined;
}

/** A file the scan found and will consider. */
export interface ScannedFile extends FileInfo {
  /** Path relative to the scanned directory, `/`-separated. */
  readonly relative: string;
}

/** What a scan found. */
export interface ScanResult {
  /** Candidate data files, sorted by path. */
  readonly files: ScannedFile[];
  /** Candidates too young to be trusted yet (possibly still being written). */
  readonly unsettled: ScannedFile[];
  /** Files left out by name, glob or size (not reported one by one). */
  readonly ignored: number;
  /** Every file the listing returned (to tell files that vanished); symbolic links are not files. */
  readonly listed: ReadonlySet<string>;
  /**
   * Symbolic links that would otherwise be considered (a linked file matching the globs, or a
   * linked directory not left out by name): never followed, reported with the reason.
   */
  readonly symlinks: { readonly path: string; readonly reason: string }[];
}

/**
 * Whether a path is invisible to readers: a hidden or `_`-prefixed segment (`_temporary`,
 * `_SUCCESS`), but not a `_k=v` partition directory.
 */
export function isHiddenPath(relative: string): boolean {
  return relative
    .split('/')
    .some((seg) => seg.startsWith('.') || (seg.startsWith('_') && !seg.includes('=')));
}

/** Names of files that copy tools write while a copy is in flight. */
function isInFlightName(name: string): boolean {
  return (
    name.endsWith('.crc') ||
    name.endsWith('._COPYING_') ||
    name.endsWith('.tmp') ||
    name.endsWith('.inprogress') ||
    name.includes('.distcp.tmp.')
  );
}

/** Lists `dir` recursively and keeps the files that may be added. */
export async function scanDataFiles(
  storage: Storage,
  dir: string,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const root = dir.replace(/\/+$/, '');
  const include = picomatch([...(options.include ?? DEFAULT_INCLUDE)], { dot: false });
  const exclude = options.exclude?.length ? picomatch([...options.exclude], { dot: true }) : () => false;
  const settleMs = options.settleMs ?? 0;
  const now = options.now ?? Date.now();
  const files: ScannedFile[] = [];
  const unsettled: ScannedFile[] = [];
  let ignored = 0;
  const listed = new Set<string>();
  const symlinks: { path: string; reason: string }[] = [];
  const tracked = options.tracked;
  const seen: FileInfo[] = [];
  const listing = storage.list(root, {
    recursive: true,
    symlinks: true,
    ...(tracked
      ? {
          only: (p: string) => tracked(p) === undefined,
          onSkipped: (p: string) => seen.push({ path: p, size: tracked(p)! }),
        }
      : {}),
  });
  const all = async function* () {
    for await (const f of listing) {
      yield* seen.splice(0);
      yield f;
    }
    yield* seen.splice(0);
  };
  for await (const f of all()) {
    const relative = f.path.startsWith(`${root}/`) ? f.path.slice(root.length + 1) : f.path;
    const name = relative.slice(relative.lastIndexOf('/') + 1);
    if (f.symlink) {
      const dir = f.symlink === 'directory';
      if (
        isHiddenPath(relative) ||
        isInFlightName(name) ||
        exclude(relative) ||
        (!dir && !include(relative))
      ) {
        ignored++;
      } else {
        symlinks.push({
          path: f.path,
          reason: dir ? 'is a symlink to a directory (not followed)' : 'is a symlink (not followed)',
        });
      }
      continue;
    }
    listed.add(f.path);
    if (
      isHiddenPath(relative) ||
      isInFlightName(name) ||
      f.size === 0 ||
      !include(relative) ||
      exclude(relative)
    ) {
      ignored++;
      continue;
    }
    const scanned: ScannedFile = { ...f, relative };
    if (settleMs > 0 && f.mtimeMs !== undefined && now - f.mtimeMs < settleMs) unsettled.push(scanned);
    else files.push(scanned);
  }
  const byPath = (a: ScannedFile, b: ScannedFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  files.sort(byPath);
  unsettled.sort(byPath);
  symlinks.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, unsettled, ignored, listed, symlinks };
}

/**
 * The Hive-style partition values in a relative path's directories (`dt=2024-01-01/region=eu/f`),
 * percent-decoded as Hive escapes them, in order.
 */
export function hivePartitionValues(relative: string): Map<string, string> {
  const out = new Map<string, string>();
  const dirs = relative.split('/').slice(0, -1);
  for (const seg of dirs) {
    const eq = seg.indexOf('=');
    if (eq <= 0) continue;
    const key = seg.slice(0, eq);
    let value = seg.slice(eq + 1);
    try {
      value = decodeURIComponent(value);
    } catch {
      // not percent-encoded after all: keep the text
    }
    out.set(key, value);
  }
  return out;
}
