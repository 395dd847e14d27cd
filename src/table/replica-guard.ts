/**
 * The replica guard: nothing this tool writes may land inside the replicated tree. Replication
 * owns that tree (it overwrites and deletes there), and the tool's promise is that it only reads it.
 *
 * Locations are compared where they really are, not as they are spelled:
 * - local paths are resolved with `realpath` on their longest existing ancestor (symlinks, `..`,
 *   repeated and trailing slashes), dangling links followed by their text; an existing replica
 *   directory is also recognised by device and inode among the output's ancestors, which catches
 *   bind mounts and case-insensitive spellings; where the replica does not exist yet, letter case
 *   is folded only when its file system is found to be case-insensitive (or cannot be probed);
 * - URIs are compared as the path mapping normalises them (`s3a`/`s3n` are `s3`, default ports,
 *   host and bucket names case-insensitive, object keys exact), and `hdfs`, `webhdfs` and
 *   `swebhdfs` name the same file system when their hosts or NameNodes are the same.
 *
 * Every check only reads (stat, lstat, realpath, readlink): it runs before anything is created.
 */
import type { Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { ConfigError } from '../errors.ts';
import { toLocalPath } from '../storage/local/index.ts';
import { isUnderDir, normalizePath } from './path-mapping.ts';

/** A location with what it is, for messages: `metadata root`, `--replicated-path`. */
export interface GuardedLocation {
  /** What the location is, as the user knows it (`metadata root`, `--map target`). */
  readonly what: string;
  /** The path or URI as given to the tool (after making local paths absolute). */
  readonly path: string;
}

/** Options of {@link assertOutsideReplica}. */
export interface ReplicaGuardOptions {
  /**
   * The NameNode HTTP addresses that serve an HDFS path, when configured (an HA nameservice):
   * two HDFS locations sharing one are the same file system whatever their authorities say.
   */
  readonly hdfsNamenodes?: (path: string) => readonly string[];
}

/** One output found inside the replica. */
export interface ReplicaOverlap {
  readonly output: GuardedLocation;
  readonly replica: GuardedLocation;
  /** The sentence saying how they overlap. */
  readonly message: string;
}

const HDFS_FAMILY = new Set(['hdfs', 'webhdfs', 'swebhdfs']);
const MAX_LINKS = 40;

/** A plain path, or a `file:` URI without a host (`file:/x`, `file:///x`). */
function isLocal(path: string): boolean {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/.exec(path);
  if (!m || m[1]!.length === 1) return true;
  return m[1]!.toLowerCase() === 'file' && !/^\/\/[^/]/.test(m[2]!);
}

/** A local location resolved as far as it exists. */
interface RealLocal {
  /** The resolved path: realpath of the longest existing ancestor, then the rest. */
  readonly real: string;
  /** The longest existing ancestor, resolved. */
  readonly existing: string;
  /** Whether the whole path exists. */
  readonly exists: boolean;
}

async function realOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await fs.realpath(p);
  } catch {
    return undefined;
  }
}

/** Resolves a local path: realpath on its longest existing ancestor, following dangling links by their text. */
async function resolveLocal(path: string): Promise<RealLocal> {
  let p = nodePath.resolve(toLocalPath(path));
  let rest: string[] = [];
  let links = 0;
  for (;;) {
    const real = await realOrUndefined(p);
    if (real !== undefined) {
      return {
        real: rest.length ? nodePath.join(real, ...rest) : real,
        existing: real,
        exists: !rest.length,
      };
    }
    const parent = nodePath.dirname(p);
    if (parent === p) return { real: nodePath.join(p, ...rest), existing: p, exists: false };
    // A dangling symlink: writing below it creates its target, so the target is where it goes.
    let target: string | undefined;
    if (links < MAX_LINKS) {
      try {
        if ((await fs.lstat(p)).isSymbolicLink()) target = await fs.readlink(p);
      } catch {
        // not there, or unreadable: resolve from the parent
      }
    }
    if (target !== undefined) {
      links++;
      p = nodePath.resolve(parent, target);
      continue;
    }
    rest = [nodePath.basename(p), ...rest];
    p = parent;
  }
}

async function statOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(p);
  } catch {
    return undefined;
  }
}

/** `/a/b/c`, `/a/b`, `/a`, `/`. */
function selfAndAncestors(p: string): string[] {
  const out = [p];
  for (let d = nodePath.dirname(p); d !== out.at(-1); d = nodePath.dirname(d)) out.push(d);
  return out;
}

function swapCase(s: string): string {
  return [...s].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
}

/**
 * Whether the file system holding `dir` (an existing, resolved directory) ignores letter case:
 * the deepest component with letters is looked up with its case swapped. When no component has
 * letters the answer is unknown, and the caller treats it as case-insensitive (the safe side).
 */
async function caseInsensitive(dir: string): Promise<boolean> {
  for (const p of selfAndAncestors(dir)) {
    const name = nodePath.basename(p);
    const swapped = swapCase(name);
    if (swapped === name) continue;
    const [a, b] = await Promise.all([
      statOrUndefined(p),
      statOrUndefined(nodePath.join(nodePath.dirname(p), swapped)),
    ]);
    if (!a) continue;
    return b !== undefined && b.dev === a.dev && b.ino === a.ino;
  }
  return true;
}

function segmentsOf(p: string): string[] {
  return p.split('/').filter((s) => s !== '');
}

function startsWithSegments(p: readonly string[], prefix: readonly string[], fold: boolean): boolean {
  if (prefix.length > p.length) return false;
  return prefix.every((s, i) => (fold ? s.toLowerCase() === p[i]!.toLowerCase() : s === p[i]));
}

/** A resolved replica location, with what is needed to recognise it. */
interface ReplicaInfo {
  readonly loc: GuardedLocation;
  readonly local?: RealLocal & { readonly stats?: Stats; readonly foldCase: boolean };
}

async function replicaInfo(loc: GuardedLocation): Promise<ReplicaInfo> {
  if (!isLocal(loc.path)) return { loc };
  const r = await resolveLocal(loc.path);
  const stats = r.exists ? await statOrUndefined(r.real) : undefined;
  // Case only matters for the text comparison, used where the replica is not there to stat.
  const foldCase = stats ? false : await caseInsensitive(r.existing);
  return { loc, local: { ...r, ...(stats ? { stats } : {}), foldCase } };
}

function describeReplica(replica: ReplicaInfo, real?: string): string {
  const shown = real !== undefined && real !== replica.loc.path ? ` (${real})` : '';
  return `the replicated tree ${replica.loc.path}${shown} (${replica.loc.what})`;
}

async function localOverlap(
  output: GuardedLocation,
  out: RealLocal,
  replica: ReplicaInfo,
): Promise<string | undefined> {
  const rep = replica.local!;
  const given = nodePath.resolve(toLocalPath(output.path));
  const resolves = out.real !== given ? ` resolves to ${out.real},` : ' is';
  if (startsWithSegments(segmentsOf(out.real), segmentsOf(rep.real), rep.foldCase)) {
    return `${output.what} ${output.path}${resolves} inside ${describeReplica(replica, rep.real)}`;
  }
  if (!rep.stats) return undefined;
  // The same directory by identity: a bind mount, or another spelling the text cannot show.
  for (const dir of selfAndAncestors(out.existing)) {
    const st = await statOrUndefined(dir);
    if (st && st.dev === rep.stats.dev && st.ino === rep.stats.ino) {
      return `${output.what} ${output.path} lies in ${dir}, which is the directory of ${describeReplica(replica, rep.real)} (same device and inode: a bind mount or another name for it)`;
    }
  }
  return undefined;
}

/** Scheme, host, port and segments of a URI, as the path mapping normalises them. */
function uriParts(path: string): { scheme: string; host: string; segments: readonly string[] } {
  const n = normalizePath(path);
  const m = /^([^:]*):\/\/(.*)$/.exec(n.root);
  const scheme = m?.[1] ?? '';
  const authority = (m?.[2] ?? '').replace(/^[^@]*@/, '');
  const host = authority.replace(/:\d+$/, '');
  return { scheme, host, segments: n.segments };
}

/**
 * The NameNode HTTP addresses an HDFS-family path reaches: the configured ones, and the one its
 * authority names (`webhdfs://host:port` is that address; `hdfs://host` is `host:9870`).
 */
function namenodesOf(path: string, options: ReplicaGuardOptions): string[] {
  const out = (options.hdfsNamenodes?.(path) ?? []).map((a) => a.toLowerCase());
  const m = /^([a-zA-Z]+):\/\/([^/]*)/.exec(path);
  if (m) {
    const scheme = m[1]!.toLowerCase();
    const authority = m[2]!.replace(/^[^@]*@/, '').toLowerCase();
    const host = authority.replace(/:\d+$/, '');
    const port = /:(\d+)$/.exec(authority)?.[1];
    if (scheme === 'webhdfs') out.push(`http://${host}:${port ?? '9870'}`);
    else if (scheme === 'swebhdfs') out.push(`https://${host}:${port ?? '9871'}`);
    else out.push(`http://${host}:9870`);
  }
  return out;
}

function remoteOverlap(
  output: GuardedLocation,
  replica: GuardedLocation,
  options: ReplicaGuardOptions,
): string | undefined {
  const o = uriParts(output.path);
  const r = uriParts(replica.path);
  let same: boolean;
  if (HDFS_FAMILY.has(o.scheme) && HDFS_FAMILY.has(r.scheme)) {
    // One NameNode answers hdfs:// (RPC port) and webhdfs:// (HTTP port): ports do not tell them apart.
    const theirs = namenodesOf(replica.path, options);
    same = o.host === r.host || namenodesOf(output.path, options).some((a) => theirs.includes(a));
  } else {
    same = o.scheme === r.scheme && normalizePath(output.path).root === normalizePath(replica.path).root;
  }
  if (!same || !startsWithSegments(o.segments, r.segments, false)) return undefined;
  const how = o.scheme === 's3' ? ': same bucket, and its key prefix lies within the replicated one' : '';
  return `${output.what} ${output.path} is inside ${describeReplica({ loc: replica })}${how}`;
}

/**
 * Every output that lies inside a replica location (compared as described in the module's
 * documentation). Reads only.
 */
export async function findReplicaOverlaps(
  replicas: readonly GuardedLocation[],
  outputs: readonly GuardedLocation[],
  options: ReplicaGuardOptions = {},
): Promise<ReplicaOverlap[]> {
  const infos = await Promise.all(replicas.map(replicaInfo));
  const found: ReplicaOverlap[] = [];
  for (const output of outputs) {
    // Below an output already refused (the state directory of a refused root): said once.
    if (found.some((f) => isUnderDir(output.path, f.output.path))) continue;
    const local = isLocal(output.path);
    const out = local ? await resolveLocal(output.path) : undefined;
    for (const replica of infos) {
      if (local !== (replica.local !== undefined)) continue;
      const message = out
        ? await localOverlap(output, out, replica)
        : remoteOverlap(output, replica.loc, options);
      if (message) {
        found.push({ output, replica: replica.loc, message });
        break;
      }
    }
  }
  return found;
}

/**
 * Throws a {@link ConfigError} naming every output that lies inside a replica location, and how.
 * Call it before anything is created: it only reads.
 */
export async function assertOutsideReplica(
  replicas: readonly GuardedLocation[],
  outputs: readonly GuardedLocation[],
  options: ReplicaGuardOptions = {},
): Promise<void> {
  const overlaps = await findReplicaOverlaps(replicas, outputs, options);
  if (!overlaps.length) return;
  throw new ConfigError(
    `${overlaps.map((o) => o.message).join('; ')}. The replica is never written: choose a location outside it`,
  );
}

/** The places a sync or add-files run writes below a metadata root. */
export function metadataRootOutputs(metadataRoot: string, what = 'metadata root'): GuardedLocation[] {
  const root = metadataRoot.replace(/\/+$/, '');
  return [
    { what, path: root },
    // Sub-directories that may already exist as symlinks of their own.
    { what: 'state directory', path: `${root}/.iceberg-sync` },
    { what: 'rewritten delete files directory', path: `${root}/deletes` },
  ];
}

/** The replica locations a command names: `--replicated-path`, `--table-location`, `--map` targets. */
export function replicaLocations(o: {
  readonly replicatedPath?: string;
  readonly tableLocation?: string;
  readonly mapTargets?: readonly string[];
}): GuardedLocation[] {
  const out: GuardedLocation[] = [];
  if (o.replicatedPath) out.push({ what: '--replicated-path', path: o.replicatedPath });
  if (o.tableLocation) out.push({ what: '--table-location', path: o.tableLocation });
  for (const t of o.mapTargets ?? []) out.push({ what: '--map target', path: t });
  return out;
}
