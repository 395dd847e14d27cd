/**
 * The add-files side of the interop harness from TypeScript (see harness/README.md, "Add-files"):
 * Parquet file sets written by pyarrow and Spark, reference `add_files` runs by PyIceberg
 * (`Table.add_files`) and by Iceberg Java (Spark's `system.add_files` procedure), and a writer-independent
 * dump of a table's current manifests and entries as PyIceberg decodes them.
 *
 * Tests should skip when `harnessAvailable()` (from ./harness.ts) is false.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../helpers/paths.ts';
import { harnessUnavailableReason, type JsonValue, runHarness } from './harness.ts';

/** An Iceberg type name as the table should get it for a Hive directory key (`date`, `string`, ...). */
export interface PartitionColumn {
  name: string;
  type: string;
}

export interface FileSet {
  /** `pyarrow_flat`, `pyarrow_nested`, `pyarrow_field_ids`, `pyarrow_partitioned`, `pyarrow_hive`, `spark_flat`, `spark_hive`, `spark_iceberg_ids`. */
  name: string;
  writer: 'pyarrow' | 'spark';
  /** The files carry Parquet field ids. */
  fieldIds: boolean;
  /** Struct, list or map columns. */
  nested: boolean;
  /** Hive-style `key=value` directories whose keys are not columns of the files. */
  hive: boolean;
  /** Absolute directory of the set (Spark's sets keep `_SUCCESS` and `.crc` side files there). */
  root: string;
  /** Absolute paths of the Parquet data files, sorted. */
  files: string[];
  /** Hive sets: the directory keys in order, with the Iceberg type each should get; otherwise []. */
  partitionColumns: PartitionColumn[];
  rowCount: number;
  notes?: string;
}

export interface FileSetsManifest {
  outDir: string;
  seconds: number;
  sets: FileSet[];
  /** Sets that could not be written here, with the reason. */
  skipped: { name: string; reason: string }[];
}

/** One partition field of the table to create: `transform` is `identity`, `year`, `month`, `day`, `hour`, `bucket[N]`, `truncate[W]` or `void`. */
export interface PartitionFieldRequest {
  source: string;
  transform?: string;
  /** Default: the source's name for identity, `<source>_<transform>` otherwise (PyIceberg; Spark names its own). */
  name?: string;
}

export interface AddFilesSpec {
  /** sqlite file of PyIceberg's SqlCatalog (catalog name `pyiceberg`); created if missing. Ignored by Spark. */
  catalogDb?: string;
  /** Absolute warehouse directory (Spark: a Hadoop catalog, the table at `<warehouse>/<ns>/<t>`). */
  warehouse: string;
  /** `ns.t`. */
  identifier: string;
  /** PyIceberg: the files to add (required). Spark: used only to find sourceDir when that is not given. */
  files?: string[];
  /** Spark: the directory given to the procedure as `` `parquet`.`<dir>` `` (default: the files' one folder). */
  sourceDir?: string;
  /** Default 2. */
  formatVersion?: number;
  partitionBy?: PartitionFieldRequest[];
  properties?: Record<string, string>;
  /** PyIceberg: the Parquet file whose schema becomes the table's (default: the first file). */
  schemaFrom?: string;
}

export interface PartitionFieldSummaryDump {
  containsNull: boolean;
  containsNan: boolean | null;
  /** Hex of the serialized bound. */
  lowerBound: string | null;
  upperBound: string | null;
}

export interface ManifestDump {
  /** As written in the manifest list. */
  path: string;
  length: number;
  /** 0 data, 1 deletes. */
  content: number;
  addedFilesCount: number | null;
  existingFilesCount: number | null;
  deletedFilesCount: number | null;
  addedRowsCount: number | null;
  existingRowsCount: number | null;
  deletedRowsCount: number | null;
  partitionSpecId: number;
  /** Decimal string. */
  addedSnapshotId: string | null;
  sequenceNumber: number;
  minSequenceNumber: number;
  keyMetadata: string | null;
  partitions: PartitionFieldSummaryDump[] | null;
  /** Format version 3 only: as written in the manifest list (decimal string). */
  firstRowId?: string | null;
}

/**
 * One manifest entry. `snapshotId`, `sequenceNumber` and `fileSequenceNumber` are after inheritance from the
 * manifest list (as readers see them); `written` holds them as stored (null = left to inheritance).
 * Maps keyed by field id (decimal string); a map absent from the manifest is null, an empty one {}.
 */
export interface EntryDump {
  /** 0 existing, 1 added, 2 deleted. */
  status: number;
  snapshotId: string | null;
  sequenceNumber: number | null;
  fileSequenceNumber: number | null;
  written: { snapshotId: string | null; sequenceNumber: number | null; fileSequenceNumber: number | null };
  manifestPath: string;
  /** 0 data, 1 position deletes, 2 equality deletes. */
  content: number;
  filePath: string;
  /** `PARQUET`, `AVRO`, `ORC`, `PUFFIN`. */
  fileFormat: string;
  specId: number | null;
  /** By partition field name: dates, times and timestamps ISO, decimals as strings, binary as hex. */
  partition: Record<string, JsonValue>;
  recordCount: number;
  fileSizeInBytes: number;
  columnSizes: Record<string, number> | null;
  valueCounts: Record<string, number> | null;
  nullValueCounts: Record<string, number> | null;
  nanValueCounts: Record<string, number> | null;
  /** Hex of Iceberg's single-value serialization. */
  lowerBounds: Record<string, string> | null;
  upperBounds: Record<string, string> | null;
  splitOffsets: number[] | null;
  equalityIds: number[] | null;
  sortOrderId: number | null;
  keyMetadata: string | null;
  /** Format version 3 only: the v3 fields as written (`firstRowId` normally null: inherited). */
  v3?: {
    firstRowId: string | null;
    referencedDataFile: string | null;
    contentOffset: number | null;
    contentSizeInBytes: number | null;
  };
}

export interface EntriesDump {
  metadataLocation: string;
  formatVersion: number;
  /** Null when the table has no current snapshot (then manifests and entries are empty). */
  snapshotId: string | null;
  sequenceNumber: number | null;
  /** The snapshot summary as written in the metadata JSON. */
  summary: Record<string, string> | null;
  manifests: ManifestDump[];
  /** Sorted by filePath (then manifest path). */
  entries: EntryDump[];
}

export interface DumpError {
  metadataLocation?: string;
  error: string;
}

/** A table after a reference add_files run: its metadata, and its current snapshot as dump-entries decodes it. */
export interface AddFilesOk {
  /** Local path of the table's current metadata file. */
  metadataLocation: string;
  /** The current schema / default partition spec, as in the metadata JSON. */
  schema: { [key: string]: JsonValue };
  spec: { [key: string]: JsonValue };
  properties: Record<string, string>;
  snapshotId: string | null;
  summary: Record<string, string> | null;
  manifests: ManifestDump[];
  entries: EntryDump[];
  seconds: number;
  /** PyIceberg: what happened to the files' own field ids. */
  notes?: string[];
  /** Spark: the schema Spark inferred for the source directory (Hive keys included), by column. */
  sparkSchema?: Record<string, string>;
  /** Spark: the procedure's result row (`added_files_count`, `changed_partition_count`). */
  procedure?: Record<string, string | number | boolean | null>;
}

export interface AddFilesError {
  error: string;
  /** PyIceberg: the table was created before add_files failed. */
  metadataLocation?: string;
  notes?: string[];
}

export type AddFilesOutcome = AddFilesOk | AddFilesError;

export function isAddFilesError<T extends object>(outcome: T | AddFilesError): outcome is AddFilesError {
  return 'error' in outcome;
}

const harnessDir = path.join(repoRoot, 'harness');

async function runJson<T>(args: string[], timeoutMs: number): Promise<T> {
  const reason = harnessUnavailableReason();
  if (reason) throw new Error(reason);
  const { stdout, stderr } = await runHarness(args, timeoutMs);
  try {
    return JSON.parse(stdout) as T;
  } catch (e) {
    throw new Error(
      `harness/run.py ${args[0]} printed no valid JSON (${(e as Error).message})\n--- stdout (head) ---\n` +
        `${stdout.slice(0, 2_000)}\n--- stderr (tail) ---\n${stderr.slice(-8_000)}`,
    );
  }
}

async function withSpec<T>(command: string, spec: unknown, timeoutMs: number): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'imsync-harness-'));
  const specPath = path.join(dir, 'spec.json');
  try {
    writeFileSync(specPath, JSON.stringify(spec));
    return await runJson<T>([command, specPath], timeoutMs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function newestFixtureSourceMtime(): number {
  const files = [
    path.join(harnessDir, 'run.py'),
    path.join(harnessDir, 'requirements.txt'),
    path.join(harnessDir, 'jars.txt'),
    path.join(harnessDir, 'iceberg_harness', 'addfiles.py'),
    path.join(harnessDir, 'iceberg_harness', 'env.py'),
  ];
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

const writingSets = new Map<string, Promise<FileSetsManifest>>();

/**
 * Writes the Parquet file sets into `outDir` (one folder per set and `manifest.json`), unless
 * `outDir/manifest.json` is newer than the harness's sources. Starts Spark: about 20-25 s when it runs.
 */
export function addFilesFixtures(
  outDir: string,
  opts: { timeoutMs?: number } = {},
): Promise<FileSetsManifest> {
  const dir = path.resolve(outDir);
  const pending = writingSets.get(dir);
  if (pending) return pending;
  const job = (async () => {
    const manifestPath = path.join(dir, 'manifest.json');
    if (existsSync(manifestPath) && statSync(manifestPath).mtimeMs > newestFixtureSourceMtime()) {
      return JSON.parse(readFileSync(manifestPath, 'utf8')) as FileSetsManifest;
    }
    return runJson<FileSetsManifest>(['addfiles-fixtures', dir], opts.timeoutMs ?? 600_000);
  })();
  writingSets.set(dir, job);
  job.catch(() => writingSets.delete(dir));
  return job;
}

/** PyIceberg: create the table from the Parquet schema in a SqlCatalog, then `Table.add_files(files)`. No JVM (~1-3 s). */
export function pyicebergAddFiles(
  spec: AddFilesSpec,
  opts: { timeoutMs?: number } = {},
): Promise<AddFilesOutcome> {
  return withSpec<AddFilesOutcome>('addfiles-pyiceberg', spec, opts.timeoutMs ?? 300_000);
}

/** PyIceberg add_files for several tables in one process; outcomes in the order of `specs`. */
export async function pyicebergAddFilesMany(
  specs: AddFilesSpec[],
  opts: { timeoutMs?: number } = {},
): Promise<AddFilesOutcome[]> {
  const res = await withSpec<{ tables: AddFilesOutcome[] }>(
    'addfiles-pyiceberg',
    specs,
    opts.timeoutMs ?? 300_000,
  );
  return res.tables;
}

/**
 * Iceberg Java through Spark: create the table in a Hadoop catalog at `warehouse` from
 * `spark.read.parquet(sourceDir).schema`, then `CALL system.add_files(source_table => '`parquet`.`<dir>`')`.
 * Starts a JVM: about 30 s for the first table (up to a minute under load), 1-4 s for each further one in the same call.
 */
export function sparkAddFiles(
  spec: AddFilesSpec,
  opts: { timeoutMs?: number } = {},
): Promise<AddFilesOutcome> {
  return withSpec<AddFilesOutcome>('addfiles-spark', spec, opts.timeoutMs ?? 600_000);
}

/** Spark add_files for several tables with one JVM; outcomes in the order of `specs`. */
export async function sparkAddFilesMany(
  specs: AddFilesSpec[],
  opts: { timeoutMs?: number } = {},
): Promise<AddFilesOutcome[]> {
  const res = await withSpec<{ tables: AddFilesOutcome[] }>(
    'addfiles-spark',
    specs,
    opts.timeoutMs ?? 900_000,
  );
  return res.tables;
}

/** The current snapshot's manifest list and manifests of the table at `metadataPath`, decoded by PyIceberg. */
export function dumpEntries(
  metadataPath: string,
  opts: { timeoutMs?: number } = {},
): Promise<EntriesDump | DumpError> {
  return runJson<EntriesDump | DumpError>(['dump-entries', metadataPath], opts.timeoutMs ?? 120_000);
}
