/**
 * Presence checks by directory listing: one listing per directory and run instead of one stat
 * per file, which matters on object stores and on NameNodes with millions of files.
 */

import type { StorageResolver } from '../storage/router.ts';
import type { FileInfo } from '../storage/storage.ts';

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

  constructor(resolve: StorageResolver) {
    this.#resolve = resolve;
  }

  #list(dir: string): Promise<Map<string, FileInfo>> {
    let p = this.#listings.get(dir);
    if (!p) {
      this.listings++;
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
    if (info.symlink) return { ok: false, reason: 'symlink' };
    if (expectedSize !== undefined && BigInt(info.size) !== BigInt(expectedSize)) {
      return { ok: false, reason: 'size-mismatch', actualSize: info.size };
    }
    return { ok: true, actualSize: info.size };
  }

  /** Forgets cached listings (e.g. between the check and a later re-check). */
  clear(): void {
    this.#listings.clear();
  }
}
