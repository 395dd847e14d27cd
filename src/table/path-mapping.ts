/**
 * Path mapping: `source-prefix -> target-prefix` rules applied to every path in the metadata.
 *
 * Prefixes are literal (never patterns) and match whole path segments. Paths are compared in a
 * normalised form, so that the spellings one location takes in real tables map alike:
 * `s3a://` / `s3n://` / `s3://`; `file:/x` / `file:///x` / `/x`; `hdfs://nn:8020/x` / `hdfs://nn/x`
 * (8020 is the NameNode's default port); `abfss://c@acct.dfs.core.windows.net/x` /
 * `wasbs://c@acct.blob.core.windows.net/x` (one Azure blob); repeated and trailing slashes. The aliases and default
 * ports come from the storage backends' scheme lists (`storage/schemes.ts`). The longest matching
 * source prefix wins. A mapped path may not escape its target prefix.
 */
import { IcebergSyncError } from '../errors.ts';
import { STORAGE_SCHEMES } from '../storage/schemes.ts';

/** One mapping rule. */
export interface PathMappingRule {
  /** Source prefix as it appears in the metadata (any of its spellings). */
  readonly source: string;
  /** Target prefix at the DR site, used verbatim. */
  readonly target: string;
}

/** Where in the metadata a path was found, for error messages. */
export interface PathContext {
  /** The file the path was read from. */
  readonly file: string;
  /** The field that holds it, e.g. `data_file.file_path`. */
  readonly field: string;
}

/** A path no rule maps. */
export class UnmappedPathError extends IcebergSyncError {
  readonly path: string;
  constructor(path: string, context?: PathContext) {
    super(
      'UNMAPPED_PATH',
      context
        ? `${context.file}: ${context.field} '${path}' matches no --map rule`
        : `'${path}' matches no --map rule`,
    );
    this.path = path;
  }
}

/** A path with `.` or `..` segments, or one that would escape its target prefix. */
export class InvalidPathError extends IcebergSyncError {
  readonly path: string;
  constructor(path: string, detail: string, context?: PathContext) {
    super('INVALID_PATH', `${context ? `${context.file}: ${context.field} ` : ''}'${path}': ${detail}`);
    this.path = path;
  }
}

/** Spellings of one location's scheme (`s3a` → `s3`, `file` → `''`), from the backends' schemes. */
const SCHEME_ALIASES: Readonly<Record<string, string>> = Object.fromEntries(
  STORAGE_SCHEMES.flatMap((s) => (s.sameAs === undefined ? [] : [[s.scheme, s.sameAs]])),
);
/** The port an authority means when it names none (`hdfs` → 8020), from the backends' schemes. */
const DEFAULT_PORTS: Readonly<Record<string, string>> = Object.fromEntries(
  STORAGE_SCHEMES.filter((s) => s.defaultPort !== undefined).map((s) => [s.scheme, String(s.defaultPort)]),
);

/** Authority spellings folded into one (Azure's blob and dfs hosts), from the backends' schemes. */
const AUTHORITY_RULES: Readonly<Record<string, (authority: string) => string>> = Object.fromEntries(
  STORAGE_SCHEMES.flatMap((s) => (s.normalizeAuthority ? [[s.scheme, s.normalizeAuthority]] : [])),
);

/** A path split into its normalised location (`scheme://authority`) and its segments. */
interface NormalPath {
  readonly root: string;
  readonly segments: readonly string[];
}

/** Normalises a path or URI for prefix comparison. */
export function normalizePath(path: string): NormalPath {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/.exec(path);
  let root = '';
  let rest = path;
  if (m && m[1]!.length > 1) {
    const scheme = m[1]!.toLowerCase();
    const canonical = SCHEME_ALIASES[scheme] ?? scheme;
    rest = m[2]!;
    let authority = '';
    if (rest.startsWith('//')) {
      const end = rest.indexOf('/', 2);
      authority = end < 0 ? rest.slice(2) : rest.slice(2, end);
      rest = end < 0 ? '/' : rest.slice(end);
    }
    const port = DEFAULT_PORTS[scheme];
    if (port && authority.endsWith(`:${port}`)) authority = authority.slice(0, -port.length - 1);
    const folded = AUTHORITY_RULES[scheme]?.(authority) ?? authority.toLowerCase();
    root = canonical === '' ? '' : `${canonical}://${folded}`;
    if (canonical === '' && authority !== '' && authority !== 'localhost') {
      // file://host/x names a host; keep it so it never matches a plain path.
      root = `file://${authority}`;
    }
  }
  const segments = rest.split('/').filter((s) => s !== '');
  return { root, segments };
}

/** One string per location however it is spelled (`file:/x`, `/x`; `s3a://b/k`, `s3://b/k`). */
export function pathKey(path: string): string {
  const n = normalizePath(path);
  return `${n.root}/${n.segments.join('/')}`;
}

/** Whether `path` is `dir` or lies below it, compared normalised as mapping rules are. */
export function isUnderDir(path: string, dir: string): boolean {
  const p = normalizePath(path);
  const d = normalizePath(dir);
  return p.root === d.root && d.segments.every((s, i) => p.segments[i] === s);
}

/**
 * `test`, a question of the form "is the path at or below one of `prefixes`", answered once per
 * directory: a path lies below a prefix when its directory is at or below it, or it is the prefix
 * itself, which only a path named as a prefix's last segment can be (those are tested whole, as
 * are paths directly below a root or an authority).
 */
export function perDirectory(
  test: (p: string) => boolean,
  prefixes: readonly string[],
): (p: string) => boolean {
  const lastSegments = new Set(prefixes.map((x) => normalizePath(x).segments.at(-1) ?? ''));
  const byDir = new Map<string, boolean>();
  return (p) => {
    const at = p.lastIndexOf('/');
    const scheme = p.indexOf('://');
    const firstSlash = scheme >= 0 ? p.indexOf('/', scheme + 3) : p.indexOf('/');
    const name = p.slice(at + 1);
    if (
      firstSlash < 0 ||
      at <= firstSlash ||
      name === '' ||
      name === '.' ||
      name === '..' ||
      lastSegments.has(name)
    )
      return test(p);
    const dir = p.slice(0, at);
    let yes = byDir.get(dir);
    if (yes === undefined) {
      if (byDir.size >= 4096) byDir.clear();
      yes = test(dir);
      byDir.set(dir, yes);
    }
    return yes;
  };
}

interface CompiledRule {
  readonly rule: PathMappingRule;
  readonly source: NormalPath;
}

/** Options of {@link PathMapper}. */
export interface PathMapperOptions {
  /** Leave paths that no rule maps unchanged instead of failing. */
  readonly allowUnmapped?: boolean;
}

/** Directories remembered by {@link PathMapper} (cleared when full): a table's files share a few. */
const DIR_CACHE_LIMIT = 4096;

/** Applies mapping rules to paths. */
export class PathMapper {
  readonly rules: readonly PathMappingRule[];
  readonly allowUnmapped: boolean;
  readonly #compiled: CompiledRule[];
  /**
   * Per directory as written (the path up to its last `/`): what its files map below, or `null`
   * where the slow path decides (no rule, `.`/`..`, or a rule naming a file below it). Files of one
   * directory map alike, so a path is normalised once per directory, not once per file.
   */
  readonly #dirs = new Map<string, string | null>();

  constructor(rules: readonly PathMappingRule[], options: PathMapperOptions = {}) {
    this.rules = rules;
    this.allowUnmapped = options.allowUnmapped ?? false;
    this.#compiled = rules
      .map((rule) => {
        if (rule.source === '' || rule.target === '') {
          throw new IcebergSyncError(
            'CONFIG',
            `mapping rule '${rule.source}=${rule.target}' has an empty side`,
          );
        }
        for (const side of [rule.source, rule.target]) {
          if (normalizePath(side).segments.some((s) => s === '..' || s === '.')) {
            throw new InvalidPathError(side, "mapping prefixes may not contain '.' or '..' segments");
          }
        }
        return { rule, source: normalizePath(rule.source) };
      })
      // Longest (most segments) first, so the most specific rule wins.
      .sort((a, b) => b.source.segments.length - a.source.segments.length);
  }

  /** The rule that maps `path`, if any. */
  ruleFor(path: string): PathMappingRule | undefined {
    return this.#match(normalizePath(path))?.rule;
  }

  #match(p: NormalPath): CompiledRule | undefined {
    return this.#compiled.find(
      (c) =>
        c.source.root === p.root &&
        c.source.segments.length <= p.segments.length &&
        c.source.segments.every((s, i) => p.segments[i] === s),
    );
  }

  /** True when some rule maps `path`. */
  maps(path: string): boolean {
    if (this.#fast(path) !== undefined) return true;
    return this.#match(normalizePath(path)) !== undefined;
  }

  /** `path` mapped by its directory's cached mapping, or `undefined` for the slow path. */
  #fast(path: string): string | undefined {
    const at = path.lastIndexOf('/');
    if (at <= 0) return undefined;
    const name = path.slice(at + 1);
    if (name === '' || name === '.' || name === '..') return undefined;
    const below = this.mappedDirectory(path.slice(0, at));
    return below === undefined ? undefined : `${below}/${name}`;
  }

  /**
   * What the files directly in `dir` (a path up to its last `/`, as written) map below when they
   * all map alike, so that a caller with many of them maps their directory once: a file `name`
   * there maps to `${result}/${name}` (unless `name` is empty, `.` or `..`). `undefined` where
   * each must go through {@link map}.
   */
  mappedDirectory(dir: string): string | undefined {
    let below = this.#dirs.get(dir);
    if (below === undefined) {
      below = this.#dirMapping(dir);
      if (this.#dirs.size >= DIR_CACHE_LIMIT) this.#dirs.clear();
      this.#dirs.set(dir, below);
    }
    return below ?? undefined;
  }

  /** What the files of `dir` map below, when they all map alike (see {@link #dirs}). */
  #dirMapping(dir: string): string | null {
    const d = normalizePath(dir);
    if (d.segments.some((s) => s === '..' || s === '.')) return null;
    const c = this.#match(d);
    if (!c) return null;
    // A longer rule could match a file of the directory itself: leave those to the slow path.
    const longer = this.#compiled.some(
      (o) =>
        o.source.root === d.root &&
        o.source.segments.length > d.segments.length &&
        d.segments.every((s, i) => o.source.segments[i] === s),
    );
    if (longer) return null;
    const rest = d.segments.slice(c.source.segments.length);
    const target = c.rule.target.replace(/\/+$/, '');
    return rest.length === 0 ? target : `${target}/${rest.join('/')}`;
  }

  /**
   * Maps one path. Throws {@link UnmappedPathError} when no rule applies (unless allowed) and
   * {@link InvalidPathError} for `.`/`..` segments.
   */
  map(path: string, context?: PathContext): string {
    const fast = this.#fast(path);
    if (fast !== undefined) return fast;
    const p = normalizePath(path);
    if (p.segments.some((s) => s === '..' || s === '.')) {
      throw new InvalidPathError(path, "path contains '.' or '..' segments", context);
    }
    const c = this.#match(p);
    if (!c) {
      if (this.allowUnmapped) return path;
      throw new UnmappedPathError(path, context);
    }
    const rest = p.segments.slice(c.source.segments.length);
    const target = c.rule.target.replace(/\/+$/, '');
    const trailing = path.endsWith('/') && rest.length > 0 ? '/' : '';
    return rest.length === 0 ? (target === '' ? '/' : target) : `${target}/${rest.join('/')}${trailing}`;
  }

  /** The inverse direction: a mapper from targets back to sources (for copy plans). */
  inverse(): PathMapper {
    return new PathMapper(
      this.rules.map((r) => ({ source: r.target, target: r.source })),
      { allowUnmapped: true },
    );
  }
}

/**
 * Parses a `SRC=DST` command-line rule. Both sides are absolute (`/x` or `scheme:...`), so the
 * split is at the first `=` that starts an absolute path; `=` inside Hive-style segments stays.
 */
export function parseMappingRule(text: string): PathMappingRule {
  const re = /=(?=\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/g;
  const m = re.exec(text);
  if (!m || m.index === 0) {
    throw new IcebergSyncError('CONFIG', `--map '${text}' is not of the form SOURCE_PREFIX=TARGET_PREFIX`);
  }
  return { source: text.slice(0, m.index), target: text.slice(m.index + 1) };
}
