/**
 * The sync checkpoint: what earlier runs rewrote, kept as JSON next to the output metadata
 * (`<metadata-root>/.iceberg-sync/state.json`). Manifests are immutable, so a source file once
 * rewritten (same path, same size) never needs rewriting again. The state only accelerates:
 * when it is lost, outputs already present at their deterministic paths are found again.
 */
import { createHash } from 'node:crypto';
import { IcebergSyncError } from '../errors.ts';
import type { StorageResolver } from '../storage/router.ts';
import { stateDir } from '../table/checkpoint.ts';
import type { PathMappingRule } from '../table/path-mapping.ts';
import { type JsonObject, parseJson, stringifyJson } from '../util/json.ts';
import { defaultLogger, type Logger } from '../util/logger.ts';

/** One rewritten file. */
export interface RewrittenFile {
  /** Source size when known (manifests, delete files). */
  readonly sourceSize?: number;
  readonly outputPath: string;
  readonly outputSize: number;
}

/** The persisted state of one table's sync. */
export interface SyncState {
  readonly version: 1;
  /** Fingerprint of the mapping rules the outputs were made with. */
  mappingFingerprint: string;
  /** Source manifests whose files were all present, and their rewritten copies. */
  manifests: Record<string, RewrittenFile>;
  /** Source manifest lists, their rewritten copies, and the manifests they list. */
  manifestLists: Record<string, RewrittenFile>;
  /** Rewritten position-delete and deletion-vector files. */
  deleteFiles: Record<string, RewrittenFile>;
  /** Source metadata.json (DR path) → rewritten metadata.json. */
  metadata: Record<string, string>;
  /**
   * Output file names in use → the source path they were made from (to avoid collisions); `''`
   * for a file left by a run with other mapping rules, whose source is not known.
   */
  names: Record<string, string>;
  /**
   * `'none'`: the run that last found nothing missing removed the copy plan at the default place
   * (absent: there may be one).
   */
  copyPlan?: 'none';
  /** The last commit this tool made. */
  lastCommit?: {
    sourceMetadata: string;
    outputMetadata: string;
    snapshotId?: string;
    committedAt: string;
  };
}

/** A fresh, empty state. */
export function emptyState(rules: readonly PathMappingRule[]): SyncState {
  return {
    version: 1,
    mappingFingerprint: mappingFingerprint(rules),
    manifests: {},
    manifestLists: {},
    deleteFiles: {},
    metadata: {},
    names: {},
  };
}

/** A stable fingerprint of mapping rules (order-independent). */
export function mappingFingerprint(rules: readonly PathMappingRule[]): string {
  const canon = rules
    .map((r) => `${r.source}\u0000${r.target}`)
    .sort()
    .join('\n');
  return createHash('sha256').update(canon).digest('hex').slice(0, 16);
}

/**
 * The state a run with mapping `rules` continues from. Outputs are a function of their source and
 * the mapping, so a state made with other rules is refused once it has committed, or once the
 * catalog holds the table at a file under the metadata root (outputs there may be in use). Before
 * that (a first run that failed, e.g. on an unmapped path, and the rules were corrected), the
 * outputs of the old rules are referenced by nothing: the run starts from an empty state with the
 * new rules, and every file name in use under the root stays reserved, so that no output of the
 * old rules is adopted (a file present is taken as done only when its name is not reserved).
 * Returns `changed` when the state is such a new one, to be saved before anything is written.
 */
export async function stateForMapping(
  loaded: SyncState | undefined,
  rules: readonly PathMappingRule[],
  ctx: {
    readonly resolve: StorageResolver;
    readonly root: string;
    /** True when the catalog holds the table at a file under the metadata root. */
    readonly committedUnderRoot: boolean;
    readonly logger: Logger;
  },
): Promise<{ state: SyncState; changed: boolean }> {
  if (!loaded) return { state: emptyState(rules), changed: false };
  if (loaded.mappingFingerprint === mappingFingerprint(rules)) return { state: loaded, changed: false };
  if (loaded.lastCommit || ctx.committedUnderRoot) {
    throw new IcebergSyncError(
      'CONFIG',
      `the mapping rules differ from those of earlier runs into ${ctx.root}, which committed with them; ` +
        'use the same --map rules, or a new --metadata-root',
    );
  }
  const state = emptyState(rules);
  Object.assign(state.names, loaded.names);
  // Outputs a run wrote after its last checkpoint are known only by their names.
  for (const [dir, prefix] of [
    [ctx.root, ''],
    [`${ctx.root}/deletes`, 'deletes/'],
  ] as const) {
    for await (const f of ctx.resolve(dir).list(dir)) {
      const key = `${prefix}${f.path.slice(f.path.lastIndexOf('/') + 1)}`;
      state.names[key] ??= '';
    }
  }
  ctx.logger.warn(
    `the mapping rules differ from those of the earlier runs into ${ctx.root}, which committed nothing: ` +
      'starting again with the new rules (outputs of the old rules are not reused)',
  );
  return { state, changed: true };
}

/** The bytes of the checkpoint file for `state`. */
export function serializeState(state: SyncState): string {
  return `${JSON.stringify(state, null, 1)}\n`;
}

/**
 * Loads the state and the file's text (for {@link saveState} to compare against), or `undefined`
 * when there is none.
 */
export async function loadState(
  resolve: StorageResolver,
  metadataRoot: string,
  logger: Logger = defaultLogger,
): Promise<{ state: SyncState; text: string } | undefined> {
  const path = `${stateDir(metadataRoot)}/state.json`;
  const storage = resolve(path);
  if (!(await storage.stat(path))) return undefined;
  const text = new TextDecoder().decode(await storage.read(path));
  try {
    const json = parseJson(text) as JsonObject;
    // Plain JSON (no 64-bit values are stored as numbers: ids are strings), so a round trip through
    // JSON.parse is safe.
    const state = JSON.parse(stringifyJson(json)) as SyncState;
    if (state.version !== 1) throw new Error(`unknown state version ${String(state.version)}`);
    return { state, text };
  } catch (err) {
    // A damaged state is only a lost cache: outputs are found again by path. Say so and move on.
    logger.warn(`ignoring unreadable sync state ${path}: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * Saves the state atomically (write to a temporary name, then replace), unless its bytes are
 * `previous`, the file's content as last read or written: a run that changed nothing writes
 * nothing (a watch loop would otherwise rewrite every table's checkpoint each cycle). Resolves
 * with the file's content now.
 */
export async function saveState(
  resolve: StorageResolver,
  metadataRoot: string,
  state: SyncState,
  previous?: string,
): Promise<string> {
  const text = serializeState(state);
  if (text === previous) return text;
  const path = `${stateDir(metadataRoot)}/state.json`;
  await resolve(path).write(path, new TextEncoder().encode(text));
  return text;
}
