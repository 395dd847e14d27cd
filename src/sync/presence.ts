/**
 * Presence checks by directory listing: one listing per directory and run instead of one stat
 * per file, which matters on object stores and on NameNodes with millions of files.
 */

import type { StorageResolver } from '../storage/router.ts';
import type { FileInfo } from '../storage/storage.ts';
import { normalizePath } from '../table/path-mapping.ts';

/**
 * Why a file is not usable. A symbolic link is not a replicated file: it is reported, never
 * followed (it may point anywhere, the source site's paths included).
 */
export type Absence = 'missing' | 'size-mismatch' | 'symlink';

/** Result of a presence check. */
export interface PresenceResult {
  readonly ok: boolean;
  readonly reason?: Absence;
  /** Size found, when the file exists. */
  readonly actualSize?: number;
  /** With reason `symlink`: the link, the file itself or a directory above it below the replica root. */
  readonly symlink?: string;
}

/** Options of {@link PresenceChecker}. */
export interface PresenceOptions {
  /**
   * The replica's roots (the `--map` targets, the table location). A directory between a root and
   * a checked file that is a symbolic link makes the file a `symlink` too. The roots themselves are
   * the user's to choose and may be links.
   */
  readonly roots?: readonly string[];
}

/** Local paths only: the file systems that have symlinks (object stores have none). */
function isLocalPath(path: string): boolean {
  return path.startsWith('/') || path.startsWith('file:');
}

function parentOf(path: string): string {
  const at = path.lastIndexOf('/');
  return at <= 0 ? '/' : path.slice(0, at);
}

/** Caches directory listings for the duration of one run. */
export class PresenceChecker {
  readonly #resolve: StorageResolver;
  readonly #listings = new Map<string, Promise<Map<string, FileInfo>>>();
  /** Number of directory listings made (for reports and tests). */
  listings = 0;

  readonly #roots: readonly string[];
  readonly #linkedDirs = new Map<string, Promise<string | undefined>>();

  constructor(resolve: StorageResolver, options: PresenceOptions = {}) {
    this.#resolve = resolve;
    this.#roots = (options.roots ?? []).filter(isLocalPath);
  }

  /** The deepest root `dir` lies below (not at), as a number of leading segments of `dir`. */
  #rootDepth(dir: string): number | undefined {
    const d = normalizePath(dir);
    let best: number | undefined;
    for (const r of this.#roots) {
      const n = normalizePath(r);
      if (n.root !== d.root || n.segments.length >= d.segments.length) continue;
      if (!n.segments.every((s, i) => d.segments[i] === s)) continue;
      if (best === undefined || n.segments.length > best) best = n.segments.length;
    }
    return best;
  }

  /**
   * The symbolic link among `dir` and its parents below the replica root, if any, found from the
   * parents' listings (cached like every listing).
   */
  linkedDirectory(dir: string): Promise<string | undefined> {
    let p = this.#linkedDirs.get(dir);
    if (!p) {
      p = (async () => {
        if (!isLocalPath(dir) || this.#rootDepth(dir) === undefined) return undefined;
        const parent = parentOf(dir);
        const above = await this.linkedDirectory(parent);
        if (above) return above;
        // Local parents only, a few per run: not counted among the presence listings.
        const entry = (await this.#list(parent, false)).get(dir.slice(dir.lastIndexOf('/') + 1));
        return entry?.symlink ? dir : undefined;
      })();
      this.#linkedDirs.set(dir, p);
    }
    return p;
  }

  /** One listing per directory; `count`: whether it counts as a presence listing. */
  #list(dir: string, count = true): Promise<Map<string, FileInfo>> {
    let p = this.#listings.get(dir);
    if (!p) {
      if (count) this.listings++;
      p = (async () => {
        const out = new Map<string, FileInfo>();
        for await (const f of this.#resolve(dir).list(dir, { symlinks: true }))
          out.set(f.path.slice(f.path.lastIndexOf('/') + 1), f);
        return out;
      })();
      this.#listings.set(dir, p);
    }
    return p;
  }

  /** Checks that `path` exists and, when given, has exactly `expectedSize` bytes. */
  async check(path: string, expectedSize?: bigint | number): Promise<PresenceResult> {
    const listing = await this.#list(parentOf(path));
    const info = listing.get(path.slice(path.lastIndexOf('/') + 1));
    if (!info) return { ok: false, reason: 'missing' };
    if (info.symlink) return { ok: false, reason: 'symlink', symlink: path };
    const linked = await this.linkedDirectory(parentOf(path));
    if (linked) return { ok: false, reason: 'symlink', symlink: linked };
    if (expectedSize !== undefined && BigInt(info.size) !== BigInt(expectedSize)) {
      return { ok: false, reason: 'size-mismatch', actualSize: info.size };
    }
    return { ok: true, actualSize: info.size };
  }

  /** Forgets cached listings (e.g. between the check and a later re-check). */
  clear(): void {
    this.#listings.clear();
    this.#linkedDirs.clear();
  }
}
