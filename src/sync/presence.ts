/**
 * Presence checks whose cost follows the files asked about, not the size of their directories.
 *
 * For each directory the checker chooses between one stat (HEAD, GETFILESTATUS) per file asked
 * about and one listing of the directory, from what the backend says a listing costs
 * (`Storage.listingCost`):
 * - where a listing pays per entry what a stat costs (local disks stat every listed file; the
 *   in-memory store scans every file), always per-file stats: never a stat of a file nobody
 *   asked about;
 * - elsewhere (object stores, HDFS: a listing page holds up to `pageSize` entries), per-file stats
 *   until the run has asked about more than a tenth of a page of the directory's files, then one
 *   listing that answers the rest. An incremental run checking a few new files in a directory of
 *   thousands makes a few concurrent stats; a full run lists each directory about once. A stat
 *   costs no more than a listing page (S3 prices a HEAD at a tenth of a LIST), and the directory
 *   holds at least the files asked about, so the run pays at most about twice the cheaper choice.
 */

import type { StorageResolver } from '../storage/router.ts';
import {
  DEFAULT_LISTING_COST,
  type FileInfo,
  type PathList,
  pathsOf,
  type Storage,
} from '../storage/storage.ts';
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

/** One file to check, and its recorded size when the metadata records one. */
export interface PresenceRequest {
  readonly path: string;
  readonly size?: bigint | number;
}

/**
 * Per-file stats at once, across all the checks of a run: a bound for the backend's requests
 * (HEADs, GETFILESTATUS). A backend that batches stats (`statMany`: local disks) gets each batch
 * in one call instead. Others whose listing pays per entry (memory) make no requests of that
 * kind, so they get more at once: a batch of a manifest's entries is handed over whole.
 */
const STAT_CONCURRENCY = 32;
const LOCAL_STAT_CONCURRENCY = 4096;

function statConcurrency(storage: Storage): number {
  return (storage.listingCost ?? DEFAULT_LISTING_COST).perEntry ? LOCAL_STAT_CONCURRENCY : STAT_CONCURRENCY;
}

/** Stats a directory gets before a listing is cheaper, on a backend whose listing pages hold `pageSize`. */
function statsBeforeListing(storage: Storage): number {
  const cost = storage.listingCost ?? DEFAULT_LISTING_COST;
  if (cost.perEntry) return Number.POSITIVE_INFINITY;
  return Math.max(1, Math.floor(cost.pageSize / 10));
}

/** Whether a stat's size is the recorded one, without a BigInt per file where both are exact numbers. */
function sameSize(actual: number, expected: bigint | number): boolean {
  if (typeof expected === 'number') return actual === expected;
  return expected <= MAX_SAFE && expected >= 0n ? actual === Number(expected) : BigInt(actual) === expected;
}
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Checks presence for the duration of one run, caching the directory listings it makes. */
export class PresenceChecker {
  readonly #resolve: StorageResolver;
  readonly #listings = new Map<string, Promise<Map<string, FileInfo>>>();
  /** Files asked about per directory not listed (yet), against {@link statsBeforeListing}. */
  readonly #asked = new Map<string, number>();
  /** Number of directory listings made (for reports and tests). */
  listings = 0;
  /** Number of per-file stats made (for reports and tests). */
  stats = 0;
  #statsRunning = 0;
  readonly #statQueue: (() => void)[] = [];

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
        // Local parents only, a few per run: not counted among the presence listings. Only the
        // entry asked about is needed, so no other file of the parent is stat'ed.
        const entry = await this.#resolve(dir).stat(dir, { symlinks: true });
        return entry?.symlink ? dir : undefined;
      })();
      this.#linkedDirs.set(dir, p);
    }
    return p;
  }

  /** One listing per directory and run. */
  #list(dir: string): Promise<Map<string, FileInfo>> {
    let p = this.#listings.get(dir);
    if (!p) {
      this.listings++;
      this.#asked.delete(dir);
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

  /** One stat, at most {@link statConcurrency} of them at once. */
  async #stat(path: string): Promise<FileInfo | undefined> {
    const storage = this.#resolve(path);
    if (this.#statsRunning >= statConcurrency(storage))
      await new Promise<void>((r) => this.#statQueue.push(r));
    this.#statsRunning++;
    this.stats++;
    try {
      return await storage.stat(path, { symlinks: true });
    } finally {
      this.#statsRunning--;
      this.#statQueue.shift()?.();
    }
  }

  /**
   * The files as the backend knows them, by a listing of their directory or stats of their own:
   * on a backend that batches stats, one call for all of them.
   */
  async #lookups(
    requests: readonly PresenceRequest[],
    dirs: readonly string[],
  ): Promise<(FileInfo | undefined)[]> {
    const byDir = new Map<string, number>();
    for (const dir of dirs) byDir.set(dir, (byDir.get(dir) ?? 0) + 1);
    const listed = new Set<string>();
    // A file is served by its directory's storage (routes are prefixes at segment boundaries):
    // resolved once per directory, not per file.
    const storageOf = new Map<string, Storage>();
    for (const [dir, n] of byDir) {
      const storage = this.#resolve(dir);
      storageOf.set(dir, storage);
      if (this.#listings.has(dir)) {
        listed.add(dir);
        continue;
      }
      const asked = (this.#asked.get(dir) ?? 0) + n;
      if (asked > statsBeforeListing(storage)) listed.add(dir);
      else this.#asked.set(dir, asked);
    }
    const infos: (FileInfo | undefined)[] = new Array(requests.length);
    const jobs: Promise<void>[] = [];
    const batched = new Map<Storage, number[]>();
    for (const [i, r] of requests.entries()) {
      const dir = dirs[i]!;
      if (listed.has(dir)) {
        jobs.push(
          this.#list(dir).then((l) => {
            infos[i] = l.get(r.path.slice(r.path.lastIndexOf('/') + 1));
          }),
        );
        continue;
      }
      const storage = storageOf.get(dir)!;
      if (!storage.statMany) {
        jobs.push(
          this.#stat(r.path).then((f) => {
            infos[i] = f;
          }),
        );
        continue;
      }
      const group = batched.get(storage);
      if (group) group.push(i);
      else batched.set(storage, [i]);
    }
    for (const [storage, group] of batched) {
      this.stats += group.length;
      const paths = group.map((i) => requests[i]!.path);
      jobs.push(
        storage.statMany!(paths, { symlinks: true }).then((found) => {
          for (const [k, i] of group.entries()) infos[i] = found[k];
        }),
      );
    }
    await Promise.all(jobs);
    return infos;
  }

  #judge(
    info: FileInfo | undefined,
    linked: string | undefined,
    path: string,
    expectedSize?: bigint | number,
  ): PresenceResult {
    if (!info) return { ok: false, reason: 'missing' };
    if (info.symlink) return { ok: false, reason: 'symlink', symlink: path };
    if (linked) return { ok: false, reason: 'symlink', symlink: linked };
    if (expectedSize !== undefined && !sameSize(info.size, expectedSize)) {
      return { ok: false, reason: 'size-mismatch', actualSize: info.size };
    }
    return { ok: true, actualSize: info.size };
  }

  /** Checks that `path` exists and, when given, has exactly `expectedSize` bytes. */
  async check(path: string, expectedSize?: bigint | number): Promise<PresenceResult> {
    return (await this.checkMany([{ path, size: expectedSize }]))[0]!;
  }

  /**
   * Checks many files at once, in the order given: the stats run concurrently (or as one batch
   * where the backend batches them), and the choice between stats and a listing is made per
   * directory for the whole batch.
   */
  async checkMany(requests: readonly PresenceRequest[]): Promise<PresenceResult[]> {
    const dirs = requests.map((r) => parentOf(r.path));
    const unique = [...new Set(dirs)];
    const [infos, links] = await Promise.all([
      this.#lookups(requests, dirs),
      Promise.all(unique.map((d) => this.linkedDirectory(d))),
    ]);
    const linkOf = new Map(unique.map((d, i) => [d, links[i]]));
    return requests.map((r, i) => this.#judge(infos[i], linkOf.get(dirs[i]!), r.path, r.size));
  }

  /**
   * {@link checkMany} for a batch whose files' distinct parent directories are `dirs`, answering
   * only for the files not usable, by index (an empty map when all are). `sizes` are the recorded
   * sizes, NaN where none is recorded; `paths.utf8` may be left empty (moved to another thread).
   * Where every directory is served by one backend that
   * answers `findUnlike` and whose listings pay per entry (local disks), and none of them is a
   * link, that is one question for the batch, with no object per file made, and a stat of each
   * file it finds unlike; anything else is {@link checkMany}.
   */
  async failures(
    paths: PathList,
    sizes: Float64Array,
    dirs: readonly string[],
  ): Promise<Map<number, PresenceResult>> {
    const out = new Map<number, PresenceResult>();
    const sizeAt = (i: number) => (Number.isNaN(sizes[i]!) ? undefined : sizes[i]!);
    const storage = dirs.length > 0 ? this.#resolve(dirs[0]!) : undefined;
    const batched =
      storage?.findUnlike !== undefined &&
      statsBeforeListing(storage) === Number.POSITIVE_INFINITY &&
      dirs.every((d) => !this.#listings.has(d) && this.#resolve(d) === storage);
    const links = batched ? await Promise.all(dirs.map((d) => this.linkedDirectory(d))) : [];
    if (!batched || links.some((l) => l !== undefined)) {
      const all = pathsOf(paths);
      const results = await this.checkMany(all.map((path, i) => ({ path, size: sizeAt(i) })));
      for (const [i, r] of results.entries()) if (!r.ok) out.set(i, r);
      return out;
    }
    this.stats += paths.count;
    const unlike = await storage!.findUnlike!(paths, sizes);
    if (unlike.length === 0) return out;
    // The few found unlike are stat'ed again, for what is wrong with each.
    const asked = unlike.map((u) => u.path);
    this.stats += asked.length;
    const infos = storage!.statMany
      ? await storage!.statMany(asked, { symlinks: true })
      : await Promise.all(asked.map((p) => storage!.stat(p, { symlinks: true })));
    for (const [k, { index, path }] of unlike.entries()) {
      const r = this.#judge(infos[k], undefined, path, sizeAt(index));
      // Replaced since the first look by a file that is fine: the check holds.
      if (!r.ok) out.set(index, r);
    }
    return out;
  }

  /** Forgets cached listings (e.g. between the check and a later re-check). */
  clear(): void {
    this.#listings.clear();
    this.#asked.clear();
    this.#linkedDirs.clear();
  }
}
