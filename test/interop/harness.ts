/**
 * The interop harness from TypeScript: real Iceberg tables written by Apache Iceberg's own writers
 * (Spark + iceberg-spark-runtime, PyIceberg), and reads of any table by Spark, PyIceberg and DuckDB,
 * for every snapshot and ref, rendered canonically (see harness/iceberg_harness/canonical.py).
 *
 * The tooling is installed by `scripts/setup-harness.sh` (venv in .tools/py, jars in .cache/jars);
 * tests should skip when `harnessAvailable()` is false.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../helpers/paths.ts';

export type Engine = 'spark' | 'pyiceberg' | 'duckdb';
export const ALL_ENGINES: readonly Engine[] = ['spark', 'pyiceberg', 'duckdb'];

/** A Hadoop catalog: tables live at `<warehouse>/<namespace>/<table>` with `metadata/version-hint.text`. */
export interface HadoopCatalogSpec {
  type: 'hadoop';
  /** Absolute path (or `file:` URI) of the warehouse. */
  warehouse: string;
  /** Extra Iceberg catalog properties for Spark. */
  properties?: Record<string, string>;
}

/**
 * An Iceberg JDBC catalog kept in sqlite (Java's JdbcCatalog, PyIceberg's SqlCatalog: same tables).
 * `type` 'jdbc' and 'sql' mean the same. `name` is the catalog name stored in its rows (default 'default');
 * Spark reads through a catalog of that name, so it must be a plain identifier.
 */
export interface SqlCatalogSpec {
  type: 'jdbc' | 'sql';
  /** `jdbc:sqlite:/abs/file.db` (also accepted: `sqlite:////abs/file.db`). */
  uri: string;
  name?: string;
  warehouse?: string;
  /** Extra Iceberg catalog properties for Spark (e.g. `{'jdbc.schema-version': 'V1'}`). */
  properties?: Record<string, string>;
  /** Extra properties for PyIceberg's SqlCatalog. */
  pyicebergProperties?: Record<string, string>;
}

/** An Iceberg REST catalog: Spark through Iceberg's RESTCatalog, PyIceberg through its RestCatalog. */
export interface RestCatalogSpec {
  type: 'rest';
  /** `http://127.0.0.1:<port>` (no prefix, no auth). */
  uri: string;
}

export type CatalogSpec = HadoopCatalogSpec | SqlCatalogSpec | RestCatalogSpec;

interface TableRequestBase {
  /** Label echoed in the result (default: identifier or metadata path). */
  name?: string;
  /** Overrides the spec's engines for this table. */
  engines?: Engine[];
  /** 'all' (default): current state + every snapshot + every ref; 'current': the current state only. */
  snapshots?: 'all' | 'current';
}

/** A table by its metadata file: Spark loads the path, PyIceberg uses StaticTable, DuckDB iceberg_scan. */
export interface MetadataTableRequest extends TableRequestBase {
  metadata: string;
}

/** A table through a catalog: Spark and PyIceberg go through the catalog; DuckDB reads the metadata it names. */
export interface CatalogTableRequest extends TableRequestBase {
  catalog: CatalogSpec;
  /** `namespace.table`. */
  identifier: string;
}

export type TableRequest = MetadataTableRequest | CatalogTableRequest;

export interface ReadSpec {
  /** Default: all three. */
  engines?: Engine[];
  /** Rows are listed when a read has fewer rows than this (default 50). */
  maxRows?: number;
  snapshots?: 'all' | 'current';
  tables: TableRequest[];
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * One canonical read. Row values: decimals as strings with their scale, timestamps ISO (with `+00:00` when
 * zoned), binary as hex, maps as sorted `[key, value]` pairs, integers beyond 2^53 as strings, NaN/Infinity
 * as strings. `digest` = sha256 of the sorted rendered rows; `columns` are not part of it.
 */
export interface ReadOk {
  rowCount: number;
  digest: string;
  columns: string[];
  /** Present when rowCount < maxRows; sorted like the digest's input. */
  rows?: JsonValue[][];
}

export interface ReadError {
  error: string;
}

export type ReadOutcome = ReadOk | ReadError;

export interface EngineReads {
  /** The table as the engine loads it by default (no snapshot selection). */
  current: ReadOutcome;
  /** Keyed by snapshot id (a decimal string: ids exceed Number.MAX_SAFE_INTEGER). */
  snapshots: Record<string, ReadOutcome>;
  /** Keyed by ref name (branches by name for Spark; PyIceberg and DuckDB read the ref's snapshot id). */
  refs: Record<string, ReadOutcome>;
}

export interface SnapshotInfo {
  snapshotId: string;
  parentId: string | null;
  sequenceNumber: number;
  timestampMs: number | null;
  operation: string | null;
  schemaId: number | null;
}

export interface RefInfo {
  type: 'branch' | 'tag';
  snapshotId: string;
}

export interface TableRead {
  name: string;
  identifier?: string;
  /** The metadata file that was read (resolved through the catalog for catalog requests). */
  metadataLocation?: string;
  formatVersion?: number;
  location?: string;
  currentSnapshotId?: string | null;
  snapshots?: SnapshotInfo[];
  refs?: Record<string, RefInfo>;
  /** Set when the table's metadata could not be resolved or parsed; `reads` is then empty. */
  error?: string;
  reads: Partial<Record<Engine, EngineReads>>;
  /** Seconds spent per engine on this table. */
  readSeconds?: Partial<Record<Engine, number>>;
}

export interface ReadResult {
  harness: { versions: Record<string, string>; engines: Engine[]; seconds: number };
  tables: TableRead[];
}

export interface GeneratedTable {
  /** Short name, e.g. 'v2_identity_mor'. */
  name: string;
  identifier: string;
  catalog: CatalogSpec;
  /** Which writer made it: 'spark', 'pyiceberg', ... */
  writer: string;
  formatVersion: number;
  /** As written in the metadata (`file:///...` for Spark's Hadoop catalog, `file:///...` for PyIceberg). */
  location: string;
  /** Absolute local path of `location`. */
  locationPath: string;
  /** Absolute local path of the current metadata file. */
  currentMetadata: string;
  currentSnapshotId: string | null;
  snapshotCount: number;
  refs: Record<string, RefInfo>;
  /** What the table exercises (free text, for test names and reports). */
  features: string[];
}

export interface GeneratedManifest {
  outDir: string;
  warehouse: string;
  catalogs: Record<string, CatalogSpec>;
  versions: Record<string, string>;
  seconds: number;
  tables: GeneratedTable[];
  /** Tables the writers could not produce here, with the reason. */
  skipped: { name: string; reason: string }[];
}

const harnessDir = path.join(repoRoot, 'harness');
const pythonBin = process.env.IMSYNC_HARNESS_PYTHON ?? path.join(repoRoot, '.tools', 'py', 'bin', 'python');
/** The harness venv's Python (PyIceberg, pyarrow, DuckDB installed), for tests with scripts of their own. */
export const harnessPython = pythonBin;
const jarsDir = process.env.IMSYNC_HARNESS_JARS ?? path.join(repoRoot, '.cache', 'jars');

function requiredJars(): string[] {
  return readFileSync(path.join(harnessDir, 'jars.txt'), 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '')
    .map((coord) => {
      const [, artifact, version] = coord.split(':');
      return path.join(jarsDir, `${artifact}-${version}.jar`);
    });
}

/** Why the harness cannot run here, or undefined when it can (for `test(..., { skip })`). */
export function harnessUnavailableReason(): string | undefined {
  if (!existsSync(pythonBin)) return `no harness venv at ${pythonBin}: run scripts/setup-harness.sh`;
  const missing = requiredJars().filter((jar) => !existsSync(jar));
  if (missing.length > 0) return `missing jars ${missing.join(', ')}: run scripts/setup-harness.sh`;
  return undefined;
}

/** True when scripts/setup-harness.sh has installed the venv and the jars. */
export function harnessAvailable(): boolean {
  return harnessUnavailableReason() === undefined;
}

export function isReadError(outcome: ReadOutcome | undefined): outcome is ReadError {
  return outcome !== undefined && 'error' in outcome;
}

/** The harness process was killed by a signal (not a timeout, not an exit status). */
class HarnessCrash extends Error {
  readonly signal: string;
  constructor(message: string, signal: string) {
    super(message);
    this.signal = signal;
  }
}

export interface RunOutput {
  stdout: string;
  stderr: string;
}

/** Runs `python harness/run.py <args>`; rejects with the exit status and stderr's tail on failure. */
export function runHarness(args: string[], timeoutMs: number): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(pythonBin, [path.join(harnessDir, 'run.py'), ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
      if (err.length > 200_000) err = err.slice(-100_000);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${pythonBin}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      if (code === 0 && !timedOut) {
        resolve({ stdout, stderr: err });
        return;
      }
      const why = timedOut ? `timed out after ${timeoutMs} ms` : `exited with ${code ?? signal}`;
      const message = `harness/run.py ${args[0]} ${why}\n--- stderr (tail) ---\n${err.slice(-8_000)}`;
      reject(!timedOut && signal ? new HarnessCrash(message, signal) : new Error(message));
    });
  });
}

function newestSourceMtime(): number {
  const files = [
    path.join(harnessDir, 'run.py'),
    path.join(harnessDir, 'requirements.txt'),
    path.join(harnessDir, 'jars.txt'),
  ];
  // Everything but the readers (read.py, canonical.py), rewrite_path.py and addfiles.py shapes what `generate` writes.
  const pkg = path.join(harnessDir, 'iceberg_harness');
  for (const f of readdirSync(pkg)) {
    if (f.endsWith('.py') && !['read.py', 'canonical.py', 'rewrite_path.py', 'addfiles.py'].includes(f)) {
      files.push(path.join(pkg, f));
    }
  }
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

const generating = new Map<string, Promise<GeneratedManifest>>();

/**
 * Writes the fixture tables into `outDir` (its `warehouse/`, two sqlite catalogs and `manifest.json`),
 * unless `outDir/manifest.json` is newer than the generator's sources. Takes about a minute when it runs.
 */
export function generateFixtures(
  outDir: string,
  opts: { timeoutMs?: number } = {},
): Promise<GeneratedManifest> {
  const dir = path.resolve(outDir);
  const pending = generating.get(dir);
  if (pending) return pending;
  const job = (async () => {
    const manifestPath = path.join(dir, 'manifest.json');
    if (existsSync(manifestPath) && statSync(manifestPath).mtimeMs > newestSourceMtime()) {
      return JSON.parse(readFileSync(manifestPath, 'utf8')) as GeneratedManifest;
    }
    const reason = harnessUnavailableReason();
    if (reason) throw new Error(reason);
    await runHarness(['generate', dir], opts.timeoutMs ?? 600_000);
    return JSON.parse(readFileSync(manifestPath, 'utf8')) as GeneratedManifest;
  })();
  generating.set(dir, job);
  job.catch(() => generating.delete(dir));
  return job;
}

/** Reads the tables of `spec` with the harness (one JVM for the whole call) and returns its JSON result. */
export async function readTables(spec: ReadSpec, opts: { timeoutMs?: number } = {}): Promise<ReadResult> {
  const reason = harnessUnavailableReason();
  if (reason) throw new Error(reason);
  const dir = mkdtempSync(path.join(tmpdir(), 'imsync-harness-'));
  const specPath = path.join(dir, 'spec.json');
  try {
    writeFileSync(specPath, JSON.stringify(spec));
    const timeoutMs = opts.timeoutMs ?? 900_000;
    // A native reader (DuckDB's extension, pyarrow) has crashed the process with SIGSEGV under load, once in
    // many runs and not reproducibly; reads have no side effects, so one rerun tells a flake from a defect.
    const { stdout, stderr } = await runHarness(['read', specPath], timeoutMs).catch((e: unknown) => {
      if (!(e instanceof HarnessCrash)) throw e;
      console.error(`harness read died by ${e.signal}; reading once more\n${e.message.slice(-4_000)}`);
      return runHarness(['read', specPath], timeoutMs);
    });
    try {
      return JSON.parse(stdout) as ReadResult;
    } catch (e) {
      throw new Error(
        `harness/run.py read printed no valid JSON (${(e as Error).message})\n--- stdout (head) ---\n` +
          `${stdout.slice(0, 2_000)}\n--- stderr (tail) ---\n${stderr.slice(-8_000)}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One table for Iceberg's `rewrite_table_path` procedure (`harness/run.py rewrite-table-path`). */
export interface RewriteTablePathRequest {
  /** Label echoed in the result (default: the metadata path). */
  name?: string;
  /** Absolute path of the source table's metadata file. */
  metadata: string;
  /**
   * Literal prefix of the paths in the metadata (the procedure replaces prefixes literally, so spell it
   * as the metadata does: `file:/x`, `file:///x` or `/x`). The table is registered under the metadata
   * path spelled the same way.
   */
  sourcePrefix: string;
  /** Where the copy lives: a local `file:` URI or absolute path; the file list's targets must lie below it. */
  targetPrefix: string;
  /** Directory for the procedure's rewritten files and its file list. */
  staging: string;
}

/** The procedure's outcome for one table, after its file list was carried out. */
export interface RewriteTablePathOk {
  name: string;
  /** File name of the newest rewritten metadata file (the procedure's `latest_version`). */
  latestVersion: string;
  /** Local path of the file list (`source,target` per line). */
  fileList: string;
  /** Files copied from the file list. */
  copied: number;
  /** Local path of the copied `latestVersion`: the copy's current metadata file. */
  metadataLocation: string;
  /** Every column of the procedure's result row. */
  output: Record<string, string | number | boolean | null>;
  seconds: number;
}

/** A table the procedure refused (or whose file list could not be carried out). */
export interface RewriteTablePathError {
  name: string;
  error: string;
  seconds: number;
}

export type RewriteTablePathOutcome = RewriteTablePathOk | RewriteTablePathError;

export interface RewriteTablePathResult {
  harness: { versions: Record<string, string>; seconds: number };
  tables: RewriteTablePathOutcome[];
}

/**
 * Runs Apache Iceberg's `rewrite_table_path` Spark procedure on each table (one JVM for the whole call)
 * and copies every file of its file list to the local path the target names.
 */
export async function rewriteTablePath(
  tables: RewriteTablePathRequest[],
  opts: { timeoutMs?: number } = {},
): Promise<RewriteTablePathResult> {
  const reason = harnessUnavailableReason();
  if (reason) throw new Error(reason);
  const dir = mkdtempSync(path.join(tmpdir(), 'imsync-harness-'));
  const specPath = path.join(dir, 'spec.json');
  try {
    writeFileSync(specPath, JSON.stringify(tables));
    const { stdout, stderr } = await runHarness(['rewrite-table-path', specPath], opts.timeoutMs ?? 900_000);
    try {
      return JSON.parse(stdout) as RewriteTablePathResult;
    } catch (e) {
      throw new Error(
        `harness/run.py rewrite-table-path printed no valid JSON (${(e as Error).message})\n--- stdout (head) ---\n` +
          `${stdout.slice(0, 2_000)}\n--- stderr (tail) ---\n${stderr.slice(-8_000)}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A table of a generated manifest as a read request: by its current metadata file or through its catalog. */
export function tableRequest(table: GeneratedTable, via: 'metadata' | 'catalog' = 'metadata'): TableRequest {
  return via === 'metadata'
    ? { name: table.name, metadata: table.currentMetadata }
    : { name: table.name, catalog: table.catalog, identifier: table.identifier };
}
