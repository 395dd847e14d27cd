/**
 * `verify`: checks the committed DR table. Every live file its metadata references exists with the
 * recorded size, and no source path is left in any file this tool wrote (metadata.json, manifest
 * lists, manifests, rewritten position-delete files, Puffin footers). Streams like sync: one
 * manifest block decoded at a time, the files checked remembered by hash, presence checked in
 * batches, so memory stays bounded whatever the size of the table.
 */
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { Catalog, TableIdentifier } from '../catalog/catalog.ts';
import { IcebergSyncError } from '../errors.ts';
import { decodeMetadata, metadataNameMismatch } from '../iceberg/metadata-json.ts';
import { findMetadataProblems } from '../iceberg/metadata-validate.ts';
import { abortableResolver } from '../storage/abortable.ts';
import { type StorageResolver, StorageRouter } from '../storage/router.ts';
import { HashedStringSet } from '../table/hashed-set.ts';
import { isUnderDir, PathMapper, type PathMappingRule, perDirectory } from '../table/path-mapping.ts';
import { type FoundPath, type UnreadableFile, walkTable } from '../table/walk.ts';
import type { JsonObject } from '../util/json.ts';
import { PresenceChecker } from './presence.ts';
import { symlinkText } from './report.ts';

/** Inputs of {@link verifyTable}. */
export interface VerifyOptions {
  readonly table: TableIdentifier;
  readonly catalog: Catalog;
  /** The mapping rules the table was synced with: their sources must not appear in outputs. */
  readonly mappings: readonly PathMappingRule[];
  /** The metadata root the sync wrote to: files below it are checked for leftover source paths. */
  readonly metadataRoot: string;
  readonly resolve?: StorageResolver;
  /** Stops the check with `AbortedError` (verify writes nothing, so there is nothing to undo). */
  readonly signal?: AbortSignal;
}

/** One problem found. */
export interface VerifyProblem {
  readonly path: string;
  readonly problem: string;
}

/** The result of {@link verifyTable}. */
export interface VerifyReport {
  ok: boolean;
  metadataLocation: string | null;
  filesChecked: number;
  outputFilesScanned: number;
  problems: VerifyProblem[];
}

const enc = new TextEncoder();

/** Live files whose presence is checked at once. */
const PRESENCE_BATCH = 1024;

function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return -1;
  return Buffer.from(hay.buffer, hay.byteOffset, hay.length).indexOf(Buffer.from(needle));
}

const dec = new TextDecoder();
const SLASH = 0x2f;

/**
 * The strings of a decoded record (bytes values read as UTF-8) that could be paths: a mapping
 * rule's source is absolute, so a string without a `/` never matches one. Most values of a
 * manifest (bounds of numeric columns, ids) are passed over without being decoded or mapped.
 */
function collectStrings(v: unknown, out: string[]): void {
  // Numbers, bigints and nulls (most values of a manifest) leave at the first test; objects are
  // walked without an array of their values (a record of metrics has hundreds).
  if (typeof v !== 'object' || v === null) {
    if (typeof v === 'string' && v.includes('/')) out.push(v);
    return;
  }
  if (v instanceof Uint8Array) {
    if (v.includes(SLASH)) out.push(dec.decode(v));
  } else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) collectStrings(v[i], out);
  else if (v instanceof Map) for (const x of v.values()) collectStrings(x, out);
  else for (const k in v) collectStrings((v as Record<string, unknown>)[k], out);
}

/**
 * Errors that say something about the table (a file absent or damaged), listed as problems; any
 * other (storage unreachable, permission, an abort) fails verify itself.
 */
const TABLE_PROBLEMS: ReadonlySet<string> = new Set(['NOT_FOUND', 'CORRUPT_FILE', 'UNSUPPORTED']);

function isTableProblem(err: unknown): err is IcebergSyncError {
  return err instanceof IcebergSyncError && TABLE_PROBLEMS.has(err.code);
}

/** Verifies the DR table as committed in the catalog. */
export async function verifyTable(options: VerifyOptions): Promise<VerifyReport> {
  const resolve = abortableResolver(options.resolve ?? new StorageRouter().resolver, options.signal);
  const report: VerifyReport = {
    ok: false,
    metadataLocation: null,
    filesChecked: 0,
    outputFilesScanned: 0,
    problems: [],
  };
  const loaded = await options.catalog.loadTable(options.table);
  if (!loaded) {
    throw new IcebergSyncError(
      'NOT_FOUND',
      `table ${[...options.table.namespace, options.table.name].join('.')} is not in catalog ${options.catalog.name}`,
    );
  }
  const location = loaded.metadataLocation;
  report.metadataLocation = location;
  const sources = new PathMapper(
    options.mappings.map((r) => ({ source: r.source, target: r.source })),
    { allowUnmapped: true },
  );
  const targets = new PathMapper(
    options.mappings.map((r) => ({ source: r.target, target: r.target })),
    { allowUnmapped: true },
  );
  // Asked of every string of every record: decided once per directory.
  const isLeftover = perDirectory(
    (p) => sources.maps(p) && !targets.maps(p),
    options.mappings.flatMap((r) => [r.source, r.target]),
  );
  // Byte patterns: only prefixes with a scheme are distinctive enough to search raw bytes for.
  const needles = options.mappings
    .filter((r) => r.source.includes('://'))
    .map((r) => ({ text: r.source, bytes: enc.encode(r.source) }));
  // Compared normalised, as mapping rules are (`s3a://b/x` is `s3://b/x`, `file:/x` is `/x`).
  // Asked for every file and record: decided once per directory.
  const ours = perDirectory((p) => isUnderDir(p, options.metadataRoot), [options.metadataRoot]);

  const scanBytes = (path: string, bytes: Uint8Array) => {
    for (const n of needles) {
      if (indexOfBytes(bytes, n.bytes) >= 0)
        report.problems.push({ path, problem: `contains source prefix '${n.text}'` });
    }
  };
  const scanStrings = (path: string, strings: string[]) => {
    for (const s of strings) {
      if (isLeftover(s)) {
        report.problems.push({ path, problem: `still names source path '${s}'` });
        return;
      }
    }
  };

  /** A metadata file Iceberg readers cannot load: its name claims another codec, or it breaks their rules. */
  const checkMetadataFile = (path: string, gzip: boolean, json: JsonObject) => {
    const mismatch = metadataNameMismatch(path, gzip);
    if (mismatch) report.problems.push({ path, problem: `name does not match content: ${mismatch}` });
    for (const p of findMetadataProblems(json))
      report.problems.push({ path, problem: `invalid table metadata: ${p.field}: ${p.detail}` });
  };

  // The file the catalog points at: missing or unreadable, the DR table cannot be loaded at all.
  let metaBytes: Uint8Array;
  let doc: ReturnType<typeof decodeMetadata>;
  try {
    if (!(await resolve(location).stat(location))) {
      report.problems.push({
        path: location,
        problem: `the catalog's current metadata file is missing (run sync to write it again)`,
      });
      return report;
    }
    metaBytes = await resolve(location).read(location);
    doc = decodeMetadata(metaBytes, location);
  } catch (err) {
    if (!isTableProblem(err)) throw err;
    report.problems.push({ path: location, problem: `the catalog's current metadata file: ${err.message}` });
    return report;
  }
  report.outputFilesScanned++;
  scanBytes(location, metaBytes);
  checkMetadataFile(location, doc.gzip, doc.json);
  const presence = new PresenceChecker(resolve, { roots: options.mappings.map((r) => r.target) });
  const scanned = new Set<string>();
  /** Live files checked already (by hash: a million paths in a few megabytes). */
  const checked = new HashedStringSet();
  // A manifest list or manifest that cannot be read is a problem to list, not a reason to stop.
  const onUnreadable = (u: UnreadableFile) => {
    if (!TABLE_PROBLEMS.has(u.code)) throw new IcebergSyncError(u.code, u.reason);
    const missing = u.code === 'NOT_FOUND';
    report.problems.push({
      path: u.path,
      problem: missing ? `missing (referenced by ${u.field} in ${u.in})` : `unreadable: ${u.reason}`,
    });
  };
  // Our manifest lists and manifests are scanned as the walk reads them: their bytes for source
  // prefixes, their records (one at a time) for source paths, one problem per file.
  const leftoverIn = new Set<string>();
  const onFile = (path: string, bytes: Uint8Array) => {
    if (!ours(path) || scanned.has(path)) return;
    scanned.add(path);
    report.outputFilesScanned++;
    scanBytes(path, bytes);
  };
  const onRecord = (path: string, record: unknown) => {
    if (!ours(path) || leftoverIn.has(path)) return;
    const strings: string[] = [];
    collectStrings(record, strings);
    const before = report.problems.length;
    scanStrings(path, strings);
    if (report.problems.length > before) leftoverIn.add(path);
  };
  /** Our other outputs (rewritten delete files, Puffin files), read whole once their presence is known. */
  const scanOutput = async (found: FoundPath) => {
    if (!ours(found.path) || scanned.has(found.path)) return;
    if (found.kind === 'manifest' || found.kind === 'manifest-list') return; // scanned by the walk
    scanned.add(found.path);
    report.outputFilesScanned++;
    const bytes = await resolve(found.path).read(found.path);
    scanBytes(found.path, bytes);
    // Our own output, already read: a decoder failing on it means the file is damaged.
    try {
      if (found.kind === 'position-deletes' && found.path.endsWith('.parquet')) {
        const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
        const rows = await parquetReadObjects({ file, columns: ['file_path'], compressors });
        scanStrings(
          found.path,
          rows.map((r) => String(r.file_path)),
        );
      }
    } catch (err) {
      report.problems.push({ path: found.path, problem: `unreadable: ${(err as Error).message}` });
    }
  };
  // Presence is checked a batch at a time: concurrent stats, and the listing-or-stat choice per
  // directory made over the batch.
  let pending: FoundPath[] = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    const results = await presence.checkMany(batch.map((f) => ({ path: f.path, size: f.size })));
    for (const [i, r] of results.entries()) {
      const found = batch[i]!;
      if (!r.ok) {
        report.problems.push({
          path: found.path,
          problem:
            r.reason === 'missing'
              ? `missing (referenced by ${found.field} in ${found.in})`
              : r.reason === 'symlink'
                ? `${symlinkText(found.path, r.symlink)} (referenced by ${found.field} in ${found.in})`
                : `size ${r.actualSize} differs from the recorded ${String(found.size)} (${found.field} in ${found.in})`,
        });
        continue;
      }
      await scanOutput(found);
    }
  };
  await walkTable(
    doc,
    location,
    resolve,
    async (found) => {
      if (isLeftover(found.path)) {
        report.problems.push({
          path: found.in,
          problem: `${found.field} still names source path '${found.path}'`,
        });
        return;
      }
      if (found.kind === 'metadata' && ours(found.path) && !scanned.has(found.path)) {
        // Older metadata this tool wrote: readers load it for time travel and rollback.
        scanned.add(found.path);
        const info = await resolve(found.path).stat(found.path);
        if (!info) return; // removed after commit (write.metadata.delete-after-commit): not needed
        report.outputFilesScanned++;
        const bytes = await resolve(found.path).read(found.path);
        scanBytes(found.path, bytes);
        try {
          const old = decodeMetadata(bytes, found.path);
          checkMetadataFile(found.path, old.gzip, old.json);
        } catch (err) {
          if (!(err instanceof IcebergSyncError)) throw err;
          report.problems.push({ path: found.path, problem: err.message });
        }
        return;
      }
      if (!found.live || !checked.add(found.path)) return;
      report.filesChecked++;
      pending.push(found);
      if (pending.length >= PRESENCE_BATCH) await flush();
    },
    undefined,
    { onUnreadable, onFile, onRecord },
  );
  await flush();
  // A file several snapshots name is one problem, listed once.
  const seen = new Set<string>();
  report.problems = report.problems.filter((p) => {
    const key = `${p.path}\u0000${p.problem}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  report.ok = report.problems.length === 0;
  return report;
}
