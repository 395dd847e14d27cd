/**
 * The DR catalog against the checkpoint, before the checkpoint is trusted. They agree when the
 * catalog points at the checkpoint's last commit and that file is there (one `stat`). Otherwise
 * the run repairs: the table gone from the catalog (its database lost, the row dropped) is
 * registered again; a catalog at another file under the metadata root (restored from a backup)
 * is moved forward; a catalog file that is gone is written again. A catalog entry this tool did
 * not write (outside the metadata root) is never committed over unless the caller says so.
 */
import type { LoadedTable, TableIdentifier } from '../catalog/catalog.ts';
import { formatIdentifier } from '../catalog/catalog.ts';
import { CatalogDivergedError } from '../errors.ts';
import type { StorageResolver } from '../storage/router.ts';
import { isUnderDir } from '../table/path-mapping.ts';
import type { Logger } from '../util/logger.ts';
import type { SyncReport } from './report.ts';
import type { RewrittenFile, SyncState } from './state.ts';

/** What the checks need of a run. */
export interface ReconcileContext {
  readonly catalogName: string;
  readonly table: TableIdentifier;
  /** The metadata root: everything this tool writes for the table is below it. */
  readonly root: string;
  /** The run's checkpoint; outputs found gone are dropped from it. */
  readonly state: SyncState;
  readonly resolve: StorageResolver;
  /** Gets `recovered` when a repair is needed. */
  readonly report: SyncReport;
  readonly logger: Logger;
  readonly dryRun: boolean;
  readonly overwriteCatalog: boolean;
  /**
   * The names this tool gives the outputs of the replicated metadata files listed this run (each
   * output is named after its source): a catalog file of such a name under the root is this
   * tool's, even when the checkpoint never recorded it (a run that committed, then failed).
   */
  readonly outputNames?: ReadonlySet<string>;
}

/**
 * True when the checkpoint's last commit can be trusted as what the catalog holds. When it cannot,
 * says so (`report.recovered`, a warning) and forgets the outputs that are gone, so that the run
 * commits the newest complete version again with everything it names present.
 */
export async function reconcileCatalog(
  ctx: ReconcileContext,
  current: LoadedTable | undefined,
): Promise<boolean> {
  const last = ctx.state.lastCommit;
  const found = async (what: string) => {
    await forgetMissingOutputs(ctx);
    ctx.report.recovered = what;
    ctx.logger.warn(`${what}; ${ctx.dryRun ? 'a sync would commit again' : 'committing again'}`);
  };
  // Someone else's entry: refused at the commit (assertCommittable), after the checks that say more.
  if (current && !isOurs(ctx, current.metadataLocation)) return false;
  if (!last) return true;
  if (!current) {
    await found(`the DR catalog no longer has the table this tool committed last (${last.outputMetadata})`);
    return false;
  }
  if (!(await ctx.resolve(current.metadataLocation).stat(current.metadataLocation))) {
    await found(`the metadata file the DR catalog points at is gone (${current.metadataLocation})`);
    return false;
  }
  if (current.metadataLocation !== last.outputMetadata) {
    await found(
      `the DR catalog points at ${current.metadataLocation}, not at this tool's last commit ${last.outputMetadata}`,
    );
    return false;
  }
  return true;
}

/**
 * Refuses to commit over a catalog entry this tool did not write (see {@link isOurs}), unless
 * `overwriteCatalog` says to.
 */
export function assertCommittable(ctx: ReconcileContext, current: LoadedTable | undefined): void {
  if (!current || isOurs(ctx, current.metadataLocation) || ctx.overwriteCatalog) return;
  const last = ctx.state.lastCommit;
  throw new CatalogDivergedError(
    `${ctx.catalogName}.${formatIdentifier(ctx.table)} points at ${current.metadataLocation}, ` +
      `which this tool did not write (its outputs are under ${ctx.root})` +
      `${last ? `; its last commit was ${last.outputMetadata}` : ''}. Nothing was committed. If the DR ` +
      'table should follow the replica again, rerun with --overwrite-catalog (compare-and-swap against ' +
      'what the catalog holds now); otherwise leave the table to whoever committed it.',
  );
}

/**
 * Whether the catalog's `location` is a commit of this tool: under the metadata root and, when
 * there is a checkpoint, one of the commits it recorded or named as this tool names the output of
 * a replicated version. The second condition matters where the catalog writes its own files
 * beside ours (a REST catalog, whose `write.metadata.path` points into the root, names them with
 * a fresh uuid): another writer's commit then lands under the root too.
 */
function isOurs(ctx: ReconcileContext, location: string): boolean {
  if (!isUnderDir(location, ctx.root)) return false;
  const last = ctx.state.lastCommit;
  if (!last) return true;
  if (last.outputMetadata === location || Object.values(ctx.state.metadata).includes(location)) return true;
  return ctx.outputNames?.has(location.slice(location.lastIndexOf('/') + 1)) ?? false;
}

/** Drops from the checkpoint every output that is no longer there (or not of its size), so it is written again. */
async function forgetMissingOutputs(ctx: ReconcileContext): Promise<void> {
  const { state, root, resolve } = ctx;
  const present = new Map<string, number>();
  for (const dir of [root, `${root}/deletes`]) {
    for await (const f of resolve(dir).list(dir)) present.set(f.path, f.size);
  }
  const gone = (f: RewrittenFile) => present.get(f.outputPath) !== f.outputSize;
  for (const table of [state.manifests, state.manifestLists, state.deleteFiles]) {
    for (const [source, out] of Object.entries(table)) {
      // Its name stays reserved for the same source, so it is written again at the same path.
      if (gone(out)) delete table[source];
    }
  }
  for (const [source, out] of Object.entries(state.metadata)) {
    if (!present.has(out)) delete state.metadata[source];
  }
}
