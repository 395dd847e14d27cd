/**
 * The warehouse commands: `sync-all`, `plan-all`, `verify-all` and `status`, a thin face over
 * src/warehouse/. Per-table lines and the summary table go to stderr; with `--json` the last
 * stdout line is the run's report (`status` prints its table on stdout).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type Command, Option } from 'commander';
import { ExitCode, exitCodeFor, IcebergSyncError } from '../errors.ts';
import { flag, positiveInt } from '../options/values.ts';
import type { StorageResolver } from '../storage/router.ts';
import { LockedError } from '../table/lock.ts';
import type { Logger } from '../util/logger.ts';
import { redactSecrets } from '../util/redact.ts';
import { appendHistory } from '../warehouse/history.ts';
import { loadPolicy, type PolicyOverrides } from '../warehouse/policy.ts';
import { runWarehouse, type WarehouseMode, type WarehouseRunResult } from '../warehouse/run.ts';
import { parseShard, type Shard } from '../warehouse/selection.ts';
import { statusExitCode, warehouseStatus } from '../warehouse/status.ts';
import type { TableStatus, WarehouseTableReport } from '../warehouse/types.ts';
import { absolutize } from './context.ts';
import { cliLogger, LOG_FORMATS, type OutputOptions, printOut, toJsonLine } from './output.ts';
import { onStopSignals } from './signals.ts';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const parseConcurrency = flag(positiveInt, '--concurrency');

interface WarehouseCommandOptions extends OutputOptions {
  config?: string;
  catalog?: string;
  warehouse?: string;
  replicatedPath?: string[];
  map?: string[];
  include?: string[];
  exclude?: string[];
  concurrency?: number;
  shard?: Shard;
  metadataRoot?: string;
  copyPlan?: string;
  plan?: boolean;
  metricsFile?: string;
}

function warehouseOptions(cmd: Command): Command {
  return cmd
    .option(
      '--config <file>',
      'YAML configuration: catalogs and the replication: policy (see config/warehouse.example.yaml); env ICEBERG_SYNC_CONFIG',
    )
    .option('--catalog <name>', 'the DR catalog (default: replication.catalog, else as for sync)')
    .option(
      '--warehouse <dir>',
      "the DR catalog's warehouse (default rewritten metadata roots live below it)",
    )
    .option(
      '--replicated-path <dir>',
      'replicated warehouse root to discover tables under, repeatable (replaces replication.replicated-paths)',
      collect,
    )
    .option('--map <SRC=DST>', 'path mapping rule, repeatable; tried before the policy rules', collect)
    .option(
      '--include <glob>',
      'tables (namespace.table globs) to take, repeatable (replaces the policy)',
      collect,
    )
    .option('--exclude <glob>', 'tables to leave out, repeatable (replaces the policy)', collect)
    .option(
      '--concurrency <n>',
      'tables at once, 1 or more (default: replication.concurrency, else 4)',
      parseConcurrency,
    )
    .option(
      '--shard <i/n>',
      'only the tables of shard i of n (0-based; by a hash of namespace.table)',
      parseShard,
    )
    .option(
      '--metadata-root <dir>',
      'metadata root template: {namespace} and {table} are filled in (default <warehouse>/<ns>/<table>/metadata)',
    )
    .option('--json', 'print one JSON object as the last line of stdout')
    .option('-q, --quiet', 'no per-table lines, summary or warnings on stderr (errors still print)')
    .addOption(
      new Option('--log-format <format>', 'stderr lines as text or JSON objects (one per line)')
        .choices(LOG_FORMATS)
        .default('text'),
    );
}

/** The selection flags `sync-all`, `status` and `watch` share. */
export interface SelectionFlags {
  readonly replicatedPath?: readonly string[];
  readonly map?: readonly string[];
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly concurrency?: number;
  readonly catalog?: string;
  readonly warehouse?: string;
  readonly metadataRoot?: string;
}

/** The policy overrides the selection flags make. */
export function overridesOf(o: SelectionFlags): PolicyOverrides {
  return {
    ...(o.replicatedPath?.length ? { replicatedPaths: o.replicatedPath.map(absolutize) } : {}),
    ...(o.map?.length ? { mappings: o.map } : {}),
    ...(o.include?.length ? { include: o.include } : {}),
    ...(o.exclude?.length ? { exclude: o.exclude } : {}),
    ...(o.concurrency ? { concurrency: o.concurrency } : {}),
    ...(o.catalog ? { catalog: o.catalog } : {}),
    ...(o.warehouse ? { warehouse: absolutize(o.warehouse) } : {}),
    ...(o.metadataRoot ? { metadataRoot: absolutize(o.metadataRoot) } : {}),
  };
}

/** SIGINT/SIGTERM stop the run cleanly (no new table starts); a second one ends the process. */
function stopOnSignals(logger: Logger): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const dispose = onStopSignals([
    (sig) => {
      logger.warn(`${sig}: stopping after the tables in flight (again to stop at once)`);
      controller.abort(new Error(`stopped by ${sig}`));
    },
    () => process.exit(ExitCode.ABORTED),
  ]);
  return { signal: controller.signal, dispose };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function note(r: WarehouseTableReport): string {
  if (r.error) return `${r.error.code}: ${r.error.message}`;
  if (r.status === 'behind') {
    const first = (r.report as { missing?: { reason: string; target: string }[] } | undefined)?.missing?.[0];
    return `${r.missingFiles} file(s) not at the DR site${first ? ` (first: ${first.reason} ${first.target})` : ''}`;
  }
  return '';
}

/** The summary table of a run, as text. */
export function formatRunSummary(run: WarehouseRunResult): string {
  const rows = run.tables.map((r) => [
    r.table,
    r.status,
    r.snapshotId ?? '-',
    String(r.missingFiles),
    seconds(r.durationMs),
    note(r),
  ]);
  const head = ['TABLE', 'STATUS', 'SNAPSHOT', 'MISSING', 'TIME', 'NOTE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const counts = new Map<string, number>();
  for (const r of run.tables) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const total = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  const lines = [line(head), ...rows.map(line)];
  lines.push(`${run.tables.length} table(s): ${total || 'none'}; exit code ${run.exitCode} (${run.status})`);
  for (const p of run.copyPlans ?? []) {
    lines.push(`copy plan of ${p.table}: ${p.files} file(s) in ${p.copyPlan}`);
    for (const d of p.distcp) lines.push(`  ${d.command}`);
  }
  return lines.join('\n');
}

async function runAll(mode: WarehouseMode, o: WarehouseCommandOptions): Promise<number> {
  const logger = cliLogger(o);
  const policy = await loadPolicy(o.config, overridesOf(o));
  const stop = stopOnSignals(logger);
  try {
    const verb = { sync: 'synced', plan: 'planned', verify: 'verified' }[mode];
    const run = await runWarehouse(policy, mode, {
      signal: stop.signal,
      ...(o.shard ? { shard: o.shard } : {}),
      ...(o.copyPlan ? { copyPlanDir: absolutize(o.copyPlan) } : {}),
      command: `${mode}-all`,
      logger,
      onSelected: (tables) => {
        const where = o.shard ? ` in shard ${o.shard.index}/${o.shard.count}` : '';
        // A typo in a glob or a root selects nothing, which would otherwise pass as success.
        if (tables.length === 0) {
          logger.warn(
            `no table selected${where}: check replicated-paths (${policy.replicatedPaths.join(', ') || 'none'}) and the include/exclude globs`,
          );
        } else logger.info(`${tables.length} table(s) selected${where}`);
      },
      onTableDone: (r) =>
        logger.info(
          { table: r.table, status: r.status, exitCode: r.exitCode, durationMs: r.durationMs },
          `${r.table}: ${r.status}${r.snapshotId ? ` (snapshot ${r.snapshotId})` : ''}${r.error ? `: ${r.error.message}` : ''} [${verb} in ${seconds(r.durationMs)}]`,
        ),
    });
    if (!o.quiet) {
      if (o.logFormat === 'json') {
        logger.info(
          { runId: run.runId, status: run.status, exitCode: run.exitCode, tables: run.tables.length },
          'run finished',
        );
      } else process.stderr.write(`${redactSecrets(formatRunSummary(run))}\n`);
    }
    if (o.metricsFile && mode === 'sync') {
      // Lag figures for the textfile: the status after the run (metadata.json reads only).
      const status = await warehouseStatus(policy, {
        ...(o.shard ? { shard: o.shard } : {}),
        plan: false,
        logger,
      });
      // Loaded here: prom-client is needed by runs that write metrics, not by every run.
      const { checkMetricsFilePath, recordRunToTextfile } = await import('../metrics/textfile.ts');
      await recordRunToTextfile(checkMetricsFilePath(o.metricsFile, logger), { report: run, status }, logger);
    }
    if (o.json) process.stdout.write(`${toJsonLine(run)}\n`);
    return run.exitCode;
  } finally {
    stop.dispose();
  }
}

function formatStatus(rows: readonly TableStatus[]): string {
  const head = ['TABLE', 'DR SNAPSHOT', 'REPLICA NEWEST', 'LAG', 'RPO', 'OK', 'MISSING', 'LAST RUN', 'NOTE'];
  const body = rows.map((s) => [
    s.table,
    s.drSnapshotId ?? '-',
    s.replicaNewestReferencedSnapshotId ?? '-',
    s.lagSeconds === undefined ? '?' : `${Math.round(s.lagSeconds)} s`,
    `${s.thresholdSeconds} s`,
    s.withinThreshold ? 'yes' : 'NO',
    String(s.missingFiles),
    s.lastRun ? `${s.lastRun.status} ${s.lastRun.at}` : '-',
    s.error ? `${s.error.code}: ${s.error.message}` : (s.lastRun?.error?.message ?? ''),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  return [head, ...body]
    .map((cells) =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function runStatus(o: WarehouseCommandOptions): Promise<number> {
  const logger = cliLogger(o);
  const policy = await loadPolicy(o.config, overridesOf(o));
  const rows = await warehouseStatus(policy, {
    ...(o.shard ? { shard: o.shard } : {}),
    plan: o.plan ?? true,
    logger,
  });
  const code = statusExitCode(rows);
  const over = rows.filter((r) => !r.withinThreshold && !r.error).length;
  if (o.json) {
    process.stdout.write(
      `${toJsonLine({ status: code === ExitCode.OK ? 'ok' : code === ExitCode.BEHIND ? 'over-threshold' : 'failed', exitCode: code, tables: rows })}\n`,
    );
  } else {
    printOut(formatStatus(rows));
    printOut(`${rows.length} table(s), ${over} over their RPO threshold; exit code ${code}`);
  }
  return code;
}

/** Adds the warehouse commands to the program. */
export function addWarehouseCommands(program: Command, setExit: (code: number) => void): void {
  warehouseOptions(program.command('sync-all'))
    .description('sync every selected table of the replicated warehouse (policy: replication: in --config)')
    .option('--copy-plan <dir>', "write each behind table's copy plan and DistCp lists into this directory")
    .option('--metrics-file <path>', "write the run's metrics to this node_exporter textfile (*.prom)")
    .action(async (o: WarehouseCommandOptions) => setExit(await runAll('sync', o)));
  warehouseOptions(program.command('plan-all'))
    .description('dry run of sync-all: what each table would commit and what is missing; writes nothing')
    .option('--copy-plan <dir>', "write each behind table's copy plan and DistCp lists into this directory")
    .action(async (o: WarehouseCommandOptions) => setExit(await runAll('plan', o)));
  warehouseOptions(program.command('verify-all'))
    .description('verify every selected table as committed in the DR catalog')
    .action(async (o: WarehouseCommandOptions) => setExit(await runAll('verify', o)));
  warehouseOptions(program.command('status'))
    .description(
      'per table: DR snapshot, newest replicated snapshot, RPO lag against the threshold, last run',
    )
    .option('--no-plan', 'read metadata.json files only (no missing-file count for behind tables)')
    .action(async (o: WarehouseCommandOptions) => setExit(await runStatus(o)));
}

/**
 * Runs a single-table command's engine and records the run in the table's history (not for dry
 * runs, nor when another run holds the lock), so that `status` shows the last run however the
 * table was synced.
 */
export async function recordedRun<
  R extends {
    status: string;
    snapshotId: string | null;
    metadataLocation: string | null;
    lagSeconds?: number;
  },
>(
  resolve: StorageResolver,
  metadataRoot: string,
  command: string,
  dryRun: boolean,
  logger: Logger,
  run: () => Promise<R>,
  missingOf: (r: R) => number,
): Promise<R> {
  if (dryRun) return run();
  const at = new Date();
  const base = { runId: randomUUID(), at: at.toISOString(), command, host: hostname() };
  try {
    const r = await run();
    await appendHistory(
      resolve,
      metadataRoot,
      {
        ...base,
        durationMs: Date.now() - at.getTime(),
        status: r.status,
        ...(r.snapshotId ? { snapshotId: r.snapshotId } : {}),
        ...(r.metadataLocation ? { metadataLocation: r.metadataLocation } : {}),
        missingFiles: missingOf(r),
        ...(typeof r.lagSeconds === 'number' ? { lagSeconds: r.lagSeconds } : {}),
      },
      { logger },
    );
    return r;
  } catch (err) {
    if (!(err instanceof LockedError)) {
      await appendHistory(
        resolve,
        metadataRoot,
        {
          ...base,
          durationMs: Date.now() - at.getTime(),
          status: 'failed',
          exitCode: exitCodeFor(err),
          missingFiles: 0,
          error:
            err instanceof IcebergSyncError
              ? { code: err.code, message: err.message }
              : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) },
        },
        { logger },
      );
    }
    throw err;
  }
}
