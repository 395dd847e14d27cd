/**
 * The `iceberg-sync` command line: a thin face over the library. Human output on stdout, logs and
 * progress on stderr; with `--json`, the last stdout line is one JSON object.
 */
import { Command, CommanderError, Option } from 'commander';
import { type AddFilesReport, addFiles, planAddFiles } from '../addfiles/engine.ts';
import { CATALOG_TYPES } from '../catalog/registry.ts';
import { ConfigError, ExitCode, exitCodeFor, IcebergSyncError } from '../errors.ts';
import { formatInspectReport, inspectExitCode, inspectTable } from '../inspect/inspect.ts';
import { duration, flag, oneOf, positiveInt } from '../options/values.ts';
import { planSync, syncTable } from '../sync/engine.ts';
import { type SyncReport, symlinkText } from '../sync/report.ts';
import { verifyTable } from '../sync/verify.ts';
import { PathMapper, parseMappingRule } from '../table/path-mapping.ts';
import type { Logger } from '../util/logger.ts';
import {
  absolutize,
  closeTableContext,
  replicatedTableLocation,
  standaloneStorageRouter,
  type TableCommandOptions,
  tableContext,
} from './context.ts';
import {
  cliLogger,
  LOG_FORMATS,
  type OutputOptions,
  outputOptionsFromArgv,
  printOut,
  progressReporter,
  toJsonLine,
} from './output.ts';
import { withStopSignals } from './signals.ts';
import { addWarehouseCommands, recordedRun } from './warehouse.ts';
import { addWatchCommand } from './watch.ts';
import { warehouseWatchDriver } from './watch-driver.ts';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Flag values, by the rules every setting follows (src/options/values.ts). */
const parseConcurrency = flag(positiveInt, '--concurrency');
const parseSettle = flag(duration({ allowZero: true }), '--settle');
const parseFormatVersion = flag(oneOf([1, 2, 3] as const), '--format-version');
/** `--settle` when not given: a minute, so that files still being copied are left for the next run. */
const DEFAULT_SETTLE_MS = 60_000;

/** `--json`, `--quiet` and `--log-format`, on every command. */
function outputOptions(cmd: Command, quiet = true): Command {
  cmd.option('--json', 'print one JSON object as the last line of stdout');
  if (quiet) cmd.option('-q, --quiet', 'no progress, logs or warnings on stderr (errors still print)');
  return cmd.addOption(
    new Option('--log-format <format>', 'stderr lines as text or JSON objects (one per line)')
      .choices(LOG_FORMATS)
      .default('text'),
  );
}

function tableOptions(cmd: Command): Command {
  cmd
    .option(
      '--config <file>',
      'YAML catalog configuration (PyIceberg .pyiceberg.yaml layout); env ICEBERG_SYNC_CONFIG',
    )
    .option(
      '--catalog <name>',
      "catalog name in the configuration (default: its default-catalog, else its only catalog, else 'dr')",
    )
    .addOption(
      new Option('--catalog-type <type>', 'catalog type when not configured').choices(
        CATALOG_TYPES.map((t) => t.type),
      ),
    )
    .option(
      '--catalog-uri <uri>',
      'catalog URI: sqlite:////abs/file.db or postgresql://... (sql), thrift://host:9083[,...] (hive), http(s):// (rest), the Glue endpoint (glue)',
    )
    .option(
      '--warehouse <dir>',
      'DR warehouse (the embedded SQLite catalog lives here when no catalog is configured)',
    )
    .requiredOption('--database <db>', 'namespace of the table (dots for nested levels)')
    .requiredOption('--table <name>', 'table name')
    .option(
      '--replicated-path <dir>',
      'DR warehouse root of the replica: the table is at <dir>/<db>/<table> or <dir>/<db>.db/<table>',
    )
    .option('--table-location <dir>', 'the replicated table directory itself')
    .option('--map <SRC=DST>', 'path mapping rule, repeatable; longest source prefix wins', collect)
    .option(
      '--metadata-root <dir>',
      'where rewritten metadata goes (default <warehouse>/<db>/<table>/metadata)',
    );
  return outputOptions(cmd);
}

interface SyncCommandOptions extends TableCommandOptions, OutputOptions {
  allowUnmapped?: boolean;
  keepPathProperties?: boolean;
  overwriteCatalog?: boolean;
  copyPlan?: string;
  sourceMetadata?: string;
  concurrency?: number;
  mode?: string;
}

const STATUS_EXIT: Record<SyncReport['status'], number> = {
  committed: ExitCode.OK,
  'up-to-date': ExitCode.OK,
  planned: ExitCode.OK,
  behind: ExitCode.BEHIND,
  failed: ExitCode.INTERNAL,
};

function describe(r: SyncReport): string {
  const lines: string[] = [];
  const verb = {
    committed: 'committed',
    'up-to-date': 'up to date: nothing new to sync',
    behind: 'behind: the newest replicated metadata is not complete at the DR site yet',
    planned: 'plan: would commit',
    failed: 'failed',
  }[r.status];
  lines.push(`status           ${verb}`);
  if (r.sourceMetadata) lines.push(`source metadata  ${r.sourceMetadata}`);
  if (r.newestSourceMetadata && r.newestSourceMetadata !== r.sourceMetadata) {
    lines.push(`newest replicated ${r.newestSourceMetadata}`);
  }
  lines.push(`DR metadata      ${r.metadataLocation ?? '(none)'}`);
  lines.push(`snapshot         ${r.snapshotId ?? '(none)'}`);
  const would = r.dryRun ? 'to rewrite' : 'rewritten';
  lines.push(
    `${would.padEnd(16)} ${r.manifestsRewritten} manifests, ${r.manifestListsRewritten} manifest lists, ${r.deleteFilesRewritten} delete files (${r.manifestsReused} manifests reused)`,
  );
  lines.push(`missing files    ${r.missingFiles}${r.copyPlan ? ` (copy plan: ${r.copyPlan})` : ''}`);
  for (const m of r.missing.slice(0, 20)) {
    const note = m.reason === 'symlink' ? `: ${symlinkText(m.target, m.symlink)}` : '';
    lines.push(`  ${m.reason.padEnd(13)} ${m.kind.padEnd(16)} ${m.target}${note}`);
  }
  if (r.missing.length > 20) lines.push(`  ... and ${r.missingFiles - 20} more`);
  for (const s of r.skippedVersions.slice(0, 10)) lines.push(`skipped          ${s.metadata}: ${s.reason}`);
  lines.push(`took             ${(r.durationMs / 1000).toFixed(2)} s, ${r.listings} directory listings`);
  return lines.join('\n');
}

interface AddFilesCommandOptions extends TableCommandOptions, OutputOptions {
  create?: boolean;
  partitionBy?: string[];
  formatVersion?: 1 | 2 | 3;
  tableProperty?: string[];
  include?: string[];
  exclude?: string[];
  /** Milliseconds. */
  settle?: number;
  concurrency?: number;
  dryRun?: boolean;
  removeMissing?: boolean;
}

function describeAddFiles(r: AddFilesReport): string {
  const verb = {
    committed: r.created ? 'committed (table created)' : 'committed',
    'up-to-date': 'up to date: no new files to add',
    planned: r.created ? 'plan: would create the table and add' : 'plan: would add',
  }[r.status];
  const lines = [
    `status           ${verb}`,
    `table            ${r.table}`,
    `DR metadata      ${r.metadataLocation ?? '(none)'}`,
    `snapshot         ${r.snapshotId ?? '(none)'}`,
    `files            ${r.filesListed} listed, ${r.filesAlreadyTracked} already tracked, ${r.filesAdded} ${r.dryRun ? 'to add' : 'added'} (${r.recordsAdded} rows, ${r.bytesAdded} bytes), ${r.rejected.length} rejected, ${r.deferred.length} deferred, ${r.ignored} ignored`,
    `footers read     ${r.footersRead}`,
  ];
  if (r.filesMissing) {
    lines.push(
      `missing          ${r.filesMissing} tracked files are gone from the replica; ${r.filesRemoved ? `${r.filesRemoved} ${r.dryRun ? 'to remove' : 'removed'}` : 'kept (pass --remove-missing to remove them)'}`,
    );
    for (const m of r.missing.slice(0, 10)) lines.push(`  missing   ${m}`);
  }
  for (const x of r.rejected.slice(0, 20)) lines.push(`  rejected  ${x.path}: ${x.reason}`);
  if (r.rejected.length > 20) lines.push(`  ... and ${r.rejected.length - 20} more rejected`);
  for (const x of r.deferred.slice(0, 20)) lines.push(`  deferred  ${x.path}: ${x.reason}`);
  if (r.deferred.length > 20) lines.push(`  ... and ${r.deferred.length - 20} more deferred`);
  lines.push(`took             ${(r.durationMs / 1000).toFixed(2)} s`);
  return lines.join('\n');
}

async function runAddFiles(
  o: AddFilesCommandOptions,
  dryRun: boolean,
  signal?: AbortSignal,
): Promise<number> {
  const dataPath = o.replicatedPath ?? o.tableLocation;
  if (!dataPath)
    throw new ConfigError('add-files needs --replicated-path DIR: the replicated directory of Parquet files');
  const properties: Record<string, string> = {};
  for (const kv of o.tableProperty ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--table-property '${kv}': expected KEY=VALUE`);
    properties[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const logger = cliLogger(o);
  const ctx = await tableContext(o, { readOnly: dryRun }, logger);
  try {
    const progress = progressReporter(o, logger);
    const path = absolutize(dataPath);
    logger.info(
      `${dryRun ? 'planning' : 'adding'} files of ${path} -> ${ctx.catalog.name}.${o.database}.${o.table}`,
    );
    const opts = {
      table: ctx.table,
      catalog: ctx.catalog,
      resolve: ctx.router.resolver,
      dataPath: path,
      metadataRoot: ctx.metadataRoot,
      ...(o.create
        ? {
            create: {
              partitionBy: o.partitionBy ?? [],
              ...(o.formatVersion ? { formatVersion: o.formatVersion } : {}),
              properties,
            },
          }
        : {}),
      ...(o.include?.length ? { include: o.include } : {}),
      ...(o.exclude?.length ? { exclude: o.exclude } : {}),
      settleMs: o.settle ?? DEFAULT_SETTLE_MS,
      ...(o.concurrency ? { concurrency: o.concurrency } : {}),
      ...(o.removeMissing ? { removeMissing: true } : {}),
      onProgress: progress.onProgress,
      logger,
      ...(signal ? { signal } : {}),
    };
    const report = await recordedRun(
      ctx.router.resolver,
      ctx.metadataRoot,
      'add-files',
      dryRun,
      logger,
      () => (dryRun ? planAddFiles(opts) : addFiles(opts)),
      (r) => r.filesMissing,
    );
    progress.stop();
    printOut(describeAddFiles(report));
    if (o.json) process.stdout.write(`${toJsonLine(report)}\n`);
    if (report.rejected.length) return ExitCode.BAD_INPUT;
    if (report.deferred.length) return ExitCode.BEHIND;
    return ExitCode.OK;
  } finally {
    await closeTableContext(ctx);
  }
}

async function runSync(o: SyncCommandOptions, dryRun: boolean, signal?: AbortSignal): Promise<number> {
  if (o.mode === 'add-files') return runAddFiles(o as AddFilesCommandOptions, dryRun, signal);
  const logger = cliLogger(o);
  const ctx = await tableContext(
    o,
    {
      readOnly: dryRun,
      ...(o.copyPlan ? { outputs: [{ what: 'copy plan (--copy-plan)', path: absolutize(o.copyPlan) }] } : {}),
    },
    logger,
  );
  try {
    const tableLocation = await replicatedTableLocation(o, ctx.router);
    const progress = progressReporter(o, logger);
    logger.info(
      `${dryRun ? 'planning' : 'syncing'} ${tableLocation} -> ${ctx.catalog.name}.${o.database}.${o.table}`,
    );
    const opts = {
      table: ctx.table,
      catalog: ctx.catalog,
      tableLocation,
      mappings: ctx.mappings,
      allowUnmapped: o.allowUnmapped ?? false,
      metadataRoot: ctx.metadataRoot,
      resolve: ctx.router.resolver,
      keepPathProperties: o.keepPathProperties ?? false,
      overwriteCatalog: o.overwriteCatalog ?? false,
      ...(o.copyPlan ? { copyPlanPath: absolutize(o.copyPlan) } : {}),
      ...(o.sourceMetadata ? { sourceMetadata: absolutize(o.sourceMetadata) } : {}),
      ...(o.concurrency ? { concurrency: o.concurrency } : {}),
      onProgress: progress.onProgress,
      logger,
      ...(signal ? { signal } : {}),
    };
    const report = await recordedRun(
      ctx.router.resolver,
      ctx.metadataRoot,
      'sync',
      dryRun,
      logger,
      () => (dryRun ? planSync(opts) : syncTable(opts)),
      (r) => r.missingFiles,
    );
    progress.stop();
    printOut(describe(report));
    if (o.json) process.stdout.write(`${toJsonLine(report)}\n`);
    return STATUS_EXIT[report.status];
  } finally {
    await closeTableContext(ctx);
  }
}

async function runVerify(o: TableCommandOptions & OutputOptions, signal?: AbortSignal): Promise<number> {
  // verify writes nothing: the catalog is only read, and there is nothing to guard.
  const ctx = await tableContext(o, { readOnly: true, guard: false }, cliLogger(o));
  try {
    const report = await verifyTable({
      table: ctx.table,
      catalog: ctx.catalog,
      mappings: ctx.mappings,
      metadataRoot: ctx.metadataRoot,
      resolve: ctx.router.resolver,
      ...(signal ? { signal } : {}),
    });
    const lines = [
      `verify           ${report.ok ? 'ok' : `FAILED: ${report.problems.length} problem(s)`}`,
      `DR metadata      ${report.metadataLocation}`,
      `files checked    ${report.filesChecked} referenced, ${report.outputFilesScanned} rewritten files scanned for source paths`,
      ...report.problems.slice(0, 50).map((p) => `  ${p.path}: ${p.problem}`),
    ];
    printOut(lines.join('\n'));
    if (o.json) process.stdout.write(`${toJsonLine(report)}\n`);
    return report.ok ? ExitCode.OK : ExitCode.VERIFY_FAILED;
  } finally {
    await closeTableContext(ctx);
  }
}

/** Builds the command tree. `writeErr` receives commander's own messages (usage errors, help on stderr). */
export function buildProgram(
  setExit: (code: number) => void,
  writeErr: (text: string) => void = (t) => process.stderr.write(t),
): Command {
  const program = new Command()
    .name('iceberg-sync')
    .description('Make replicated Apache Iceberg tables usable at a disaster-recovery site.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr });

  outputOptions(
    program
      .command('inspect')
      .description('summarise a table: format, snapshots, refs, file counts, and every path prefix it holds')
      .argument('<location>', 'table directory or metadata.json file')
      .option('--map <SRC=DST>', 'read manifests through this mapping (repeatable)', collect)
      .option(
        '--config <file>',
        'YAML configuration whose s3.* catalog properties and storage: section reach S3; env ICEBERG_SYNC_CONFIG',
      )
      .option('--catalog <name>', 'catalog whose s3.* properties to use (default: the only or default one)'),
  ).action(
    async (location: string, o: OutputOptions & { map?: string[]; config?: string; catalog?: string }) => {
      const router = await standaloneStorageRouter(o, cliLogger(o));
      const rules = (o.map ?? [])
        .map(parseMappingRule)
        .map((r) => ({ source: r.source, target: absolutize(r.target) }));
      const mapper = rules.length ? new PathMapper(rules, { allowUnmapped: true }) : undefined;
      const report = await inspectTable(absolutize(location), {
        resolve: router.resolver,
        ...(mapper ? { mapRead: (p: string) => mapper.map(p) } : {}),
      }).finally(() => router.close());
      if (o.json) process.stdout.write(`${toJsonLine(report)}\n`);
      else printOut(formatInspectReport(report));
      const code = inspectExitCode(report);
      if (code !== ExitCode.OK) {
        const first = report.unreadable[0]!;
        cliLogger(o).error(
          `the summary is partial: ${report.unreadable.length} file(s) could not be read (first: ${first.reason})`,
        );
      }
      setExit(code);
    },
  );

  const addFilesOptions = (cmd: Command) =>
    cmd
      .option('--create', 'create the table from the first file when it does not exist')
      .option(
        '--partition-by <field>',
        'partition field of a created table, repeatable: col, col:type (a Hive directory column), day(col), bucket(16, col)...',
        collect,
      )
      .option(
        '--format-version <n>',
        'format version of a created table: 1, 2 or 3 (default 2)',
        parseFormatVersion,
      )
      .option('--table-property <key=value>', 'property of a created table, repeatable', collect)
      .option(
        '--include <glob>',
        'only files matching this glob below the directory, repeatable (default **/*.parquet, **/*.parq)',
        collect,
      )
      .option('--exclude <glob>', 'leave out files matching this glob, repeatable', collect)
      .option(
        '--settle <duration>',
        'leave files modified more recently than this for the next run: seconds, or 500ms, 90s, 5m, 1h (default 60)',
        parseSettle,
      )
      .option(
        '--remove-missing',
        'remove tracked files that are gone from the replicated directory (a delete snapshot)',
      );

  const syncOptions = (cmd: Command) =>
    tableOptions(cmd)
      .option('--allow-unmapped', 'leave paths that no --map rule matches unchanged instead of failing')
      .option('--keep-path-properties', 'leave write.data.path and the other path properties unchanged')
      .option(
        '--overwrite-catalog',
        'commit even over a catalog entry this tool did not write (compare-and-swap against it)',
      )
      .option('--copy-plan <file>', 'write the missing files as source,target lines here')
      .option('--source-metadata <file>', 'treat this replicated metadata.json as the newest version')
      .option(
        '--concurrency <n>',
        'files read and rewritten at once, 1 or more (default 8; with --mode add-files, footers read at once, default 16)',
        parseConcurrency,
      );

  addFilesOptions(syncOptions(program.command('sync')))
    .description('rewrite the newest complete replicated version and commit it to the DR catalog')
    .addOption(new Option('--mode <mode>', 'sync mode').choices(['rewrite', 'add-files']).default('rewrite'))
    .action(async (o: SyncCommandOptions) => setExit(await withStopSignals((s) => runSync(o, false, s))));

  addFilesOptions(syncOptions(program.command('plan')))
    .description('dry run of sync: consistency point, what would be rewritten, missing files; writes nothing')
    .addOption(new Option('--mode <mode>', 'sync mode').choices(['rewrite', 'add-files']).default('rewrite'))
    .action(async (o: SyncCommandOptions) => setExit(await withStopSignals((s) => runSync(o, true, s))));

  addFilesOptions(tableOptions(program.command('add-files')))
    .description(
      'register new Parquet files of a replicated directory in a DR table, from their footers only',
    )
    .option('--dry-run', 'read the new footers and report what would be added; write nothing')
    .option('--concurrency <n>', 'footers read at once, 1 or more (default 16)', parseConcurrency)
    .action(async (o: AddFilesCommandOptions) =>
      setExit(await withStopSignals((s) => runAddFiles(o, o.dryRun ?? false, s))),
    );

  tableOptions(program.command('verify'))
    .description('check the committed DR table: every file present with its size, no source path left')
    .action(async (o: TableCommandOptions & OutputOptions) =>
      setExit(await withStopSignals((s) => runVerify(o, s))),
    );

  addWatchCommand(program, setExit, warehouseWatchDriver);

  addWarehouseCommands(program, setExit);

  return program;
}

/** Reports a failure: on stderr through the logger (errors print even with --quiet), with --json also as stdout's last line. */
function reportFailure(
  logger: Logger | undefined,
  json: boolean,
  failure: { code: string; message: string; exitCode: number; stack?: string | undefined },
): void {
  const { code, message, exitCode, stack } = failure;
  logger?.error({ code, exitCode, ...(stack ? { stack } : {}) }, message);
  if (json) process.stdout.write(`${toJsonLine({ status: 'failed', error: { code, message }, exitCode })}\n`);
}

/** Runs the CLI; resolves the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.OK;
  // For errors raised before or while commander parses: the output settings the raw arguments give.
  const out = outputOptionsFromArgv(argv);
  const logger = cliLogger(out);
  const jsonLogs = out.logFormat === 'json';
  const program = buildProgram(
    (c) => {
      code = c;
    },
    // With JSON logs, commander's own text is replaced by one error line (below).
    jsonLogs ? () => {} : undefined,
  );
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return ExitCode.OK;
      // Commander has printed its message already, unless the logs are JSON.
      reportFailure(jsonLogs ? logger : undefined, out.json ?? false, {
        code: 'CONFIG',
        message: err.message.replace(/^error: /, ''),
        exitCode: ExitCode.USAGE,
      });
      return ExitCode.USAGE;
    }
    const exitCode = exitCodeFor(err);
    reportFailure(logger, out.json ?? false, {
      code: err instanceof IcebergSyncError ? err.code : 'INTERNAL',
      message: err instanceof Error ? err.message : String(err),
      exitCode,
      stack: exitCode === ExitCode.INTERNAL && err instanceof Error ? err.stack : undefined,
    });
    return exitCode;
  }
}
