/**
 * The `iceberg-sync` command line: a thin face over the library. Human output on stdout, logs and
 * progress on stderr; with `--json`, the last stdout line is one JSON object.
 */
import { Command, CommanderError, Option } from 'commander';
import { type AddFilesReport, addFiles, planAddFiles } from '../addfiles/engine.ts';
import { ConfigError, ExitCode, exitCodeFor, IcebergSyncError } from '../errors.ts';
import { formatInspectReport, inspectExitCode, inspectTable } from '../inspect/inspect.ts';
import { planSync, syncTable } from '../sync/engine.ts';
import { PathMapper, parseMappingRule } from '../sync/path-mapping.ts';
import type { SyncReport } from '../sync/report.ts';
import { verifyTable } from '../sync/verify.ts';
import {
  absolutize,
  replicatedTableLocation,
  standaloneStorageRouter,
  type TableCommandOptions,
  tableContext,
} from './context.ts';
import { log, type OutputOptions, progressReporter, toJsonLine } from './output.ts';

const collect = (v: string, prev: string[] = []) => [...prev, v];

function tableOptions(cmd: Command): Command {
  return cmd
    .option(
      '--config <file>',
      'YAML catalog configuration (PyIceberg .pyiceberg.yaml layout); env ICEBERG_SYNC_CONFIG',
    )
    .option('--catalog <name>', 'catalog name in the configuration', 'dr')
    .addOption(
      new Option('--catalog-type <type>', 'catalog type when not configured').choices(['sql', 'hadoop']),
    )
    .option('--catalog-uri <uri>', 'SQL catalog URI (sqlite:////abs/file.db, postgresql://...)')
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
    )
    .option('--json', 'print one JSON object as the last line of stdout')
    .option('-q, --quiet', 'no progress or logs on stderr');
}

interface SyncCommandOptions extends TableCommandOptions, OutputOptions {
  allowUnmapped?: boolean;
  keepPathProperties?: boolean;
  copyPlan?: string;
  sourceMetadata?: string;
  concurrency?: string;
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
    lines.push(`  ${m.reason.padEnd(13)} ${m.kind.padEnd(16)} ${m.target}`);
  }
  if (r.missing.length > 20) lines.push(`  ... and ${r.missingFiles - 20} more`);
  for (const s of r.skippedVersions.slice(0, 10)) lines.push(`skipped          ${s.metadata}: ${s.reason}`);
  lines.push(`took             ${(r.durationMs / 1000).toFixed(2)} s, ${r.listings} directory listings`);
  return lines.join('\n');
}

interface AddFilesCommandOptions extends TableCommandOptions, OutputOptions {
  create?: boolean;
  partitionBy?: string[];
  formatVersion?: string;
  tableProperty?: string[];
  include?: string[];
  exclude?: string[];
  settle?: string;
  concurrency?: string;
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

function positiveNumber(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0)
    throw new ConfigError(`${option} must be a non-negative number, not '${text}'`);
  return n;
}

async function runAddFiles(o: AddFilesCommandOptions, dryRun: boolean): Promise<number> {
  const dataPath = o.replicatedPath ?? o.tableLocation;
  if (!dataPath)
    throw new ConfigError('add-files needs --replicated-path DIR: the replicated directory of Parquet files');
  const fv = o.formatVersion === undefined ? undefined : Number(o.formatVersion);
  if (fv !== undefined && ![1, 2, 3].includes(fv))
    throw new ConfigError(`--format-version must be 1, 2 or 3, not '${o.formatVersion}'`);
  const properties: Record<string, string> = {};
  for (const kv of o.tableProperty ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--table-property '${kv}': expected KEY=VALUE`);
    properties[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const ctx = await tableContext(o);
  try {
    const progress = progressReporter(o);
    const path = absolutize(dataPath);
    log(
      o,
      `${dryRun ? 'planning' : 'adding'} files of ${path} -> ${ctx.catalog.name}.${o.database}.${o.table}`,
    );
    const settle = positiveNumber(o.settle, '--settle');
    const concurrency = positiveNumber(o.concurrency, '--concurrency');
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
              ...(fv ? { formatVersion: fv as 1 | 2 | 3 } : {}),
              properties,
            },
          }
        : {}),
      ...(o.include?.length ? { include: o.include } : {}),
      ...(o.exclude?.length ? { exclude: o.exclude } : {}),
      ...(settle !== undefined ? { settleMs: settle * 1000 } : {}),
      ...(concurrency ? { concurrency } : {}),
      ...(o.removeMissing ? { removeMissing: true } : {}),
      onProgress: progress.onProgress,
    };
    const report = dryRun ? await planAddFiles(opts) : await addFiles(opts);
    progress.stop();
    process.stdout.write(`${describeAddFiles(report)}\n`);
    if (o.json) process.stdout.write(`${toJsonLine(report)}\n`);
    if (report.rejected.length) return ExitCode.BAD_INPUT;
    if (report.deferred.length) return ExitCode.BEHIND;
    return ExitCode.OK;
  } finally {
    await ctx.catalog.close();
  }
}

async function runSync(o: SyncCommandOptions, dryRun: boolean): Promise<number> {
  if (o.mode === 'add-files') return runAddFiles(o as AddFilesCommandOptions, dryRun);
  const ctx = await tableContext(o);
  try {
    const tableLocation = await replicatedTableLocation(o, ctx.router);
    const progress = progressReporter(o);
    log(
      o,
      `${dryRun ? 'planning' : 'syncing'} ${tableLocation} -> ${ctx.catalog.name}.${o.database}.${o.table}`,
    );
    const concurrency = o.concurrency ? Number(o.concurrency) : undefined;
    const opts = {
      table: ctx.table,
      catalog: ctx.catalog,
      tableLocation,
      mappings: ctx.mappings,
      allowUnmapped: o.allowUnmapped ?? false,
      metadataRoot: ctx.metadataRoot,
      resolve: ctx.router.resolver,
      keepPathProperties: o.keepPathProperties ?? false,
      ...(o.copyPlan ? { copyPlanPath: absolutize(o.copyPlan) } : {}),
      ...(o.sourceMetadata ? { sourceMetadata: absolutize(o.sourceMetadata) } : {}),
      ...(concurrency && concurrency > 0 ? { concurrency } : {}),
      onProgress: progress.onProgress,
    };
    const report = dryRun ? await planSync(opts) : await syncTable(opts);
    progress.stop();
    process.stdout.write(`${describe(report)}\n`);
    if (o.json) process.stdout.write(`${toJsonLine(report)}\n`);
    return STATUS_EXIT[report.status];
  } finally {
    await ctx.catalog.close();
  }
}

async function runVerify(o: TableCommandOptions & OutputOptions): Promise<number> {
  const ctx = await tableContext(o);
  try {
    const report = await verifyTable({
      table: ctx.table,
      catalog: ctx.catalog,
      mappings: ctx.mappings,
      metadataRoot: ctx.metadataRoot,
      resolve: ctx.router.resolver,
    });
    const lines = [
      `verify           ${report.ok ? 'ok' : `FAILED: ${report.problems.length} problem(s)`}`,
      `DR metadata      ${report.metadataLocation}`,
      `files checked    ${report.filesChecked} referenced, ${report.outputFilesScanned} rewritten files scanned for source paths`,
      ...report.problems.slice(0, 50).map((p) => `  ${p.path}: ${p.problem}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (o.json) process.stdout.write(`${toJsonLine(report)}\n`);
    return report.ok ? ExitCode.OK : ExitCode.VERIFY_FAILED;
  } finally {
    await ctx.catalog.close();
  }
}

/** Builds the command tree. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command()
    .name('iceberg-sync')
    .description('Make replicated Apache Iceberg tables usable at a disaster-recovery site.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('inspect')
    .description('summarise a table: format, snapshots, refs, file counts, and every path prefix it holds')
    .argument('<location>', 'table directory or metadata.json file')
    .option('--map <SRC=DST>', 'read manifests through this mapping (repeatable)', collect)
    .option(
      '--config <file>',
      'YAML configuration whose s3.* catalog properties and storage: section reach S3; env ICEBERG_SYNC_CONFIG',
    )
    .option('--catalog <name>', 'catalog whose s3.* properties to use (default: the only or default one)')
    .option('--json', 'print one JSON object')
    .action(
      async (location: string, o: { map?: string[]; json?: boolean; config?: string; catalog?: string }) => {
        const router = await standaloneStorageRouter(o);
        const rules = (o.map ?? [])
          .map(parseMappingRule)
          .map((r) => ({ source: r.source, target: absolutize(r.target) }));
        const mapper = rules.length ? new PathMapper(rules, { allowUnmapped: true }) : undefined;
        const report = await inspectTable(absolutize(location), {
          resolve: router.resolver,
          ...(mapper ? { mapRead: (p: string) => mapper.map(p) } : {}),
        });
        process.stdout.write(o.json ? `${toJsonLine(report)}\n` : `${formatInspectReport(report)}\n`);
        const code = inspectExitCode(report);
        if (code !== ExitCode.OK) {
          const first = report.unreadable[0]!;
          process.stderr.write(
            `iceberg-sync: error: the summary is partial: ${report.unreadable.length} file(s) could not be read (first: ${first.reason})\n`,
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
      .option('--format-version <n>', 'format version of a created table (1, 2 or 3)', '2')
      .option('--table-property <key=value>', 'property of a created table, repeatable', collect)
      .option(
        '--include <glob>',
        'only files matching this glob below the directory, repeatable (default **/*.parquet, **/*.parq)',
        collect,
      )
      .option('--exclude <glob>', 'leave out files matching this glob, repeatable', collect)
      .option('--settle <seconds>', 'leave files modified more recently than this for the next run', '60')
      .option(
        '--remove-missing',
        'remove tracked files that are gone from the replicated directory (a delete snapshot)',
      );

  const syncOptions = (cmd: Command) =>
    tableOptions(cmd)
      .option('--allow-unmapped', 'leave paths that no --map rule matches unchanged instead of failing')
      .option('--keep-path-properties', 'leave write.data.path and the other path properties unchanged')
      .option('--copy-plan <file>', 'write the missing files as source,target lines here')
      .option('--source-metadata <file>', 'treat this replicated metadata.json as the newest version')
      .option('--concurrency <n>', 'files read and rewritten at once', '8');

  addFilesOptions(syncOptions(program.command('sync')))
    .description('rewrite the newest complete replicated version and commit it to the DR catalog')
    .addOption(new Option('--mode <mode>', 'sync mode').choices(['rewrite', 'add-files']).default('rewrite'))
    .action(async (o: SyncCommandOptions) => setExit(await runSync(o, false)));

  addFilesOptions(syncOptions(program.command('plan')))
    .description('dry run of sync: consistency point, what would be rewritten, missing files; writes nothing')
    .addOption(new Option('--mode <mode>', 'sync mode').choices(['rewrite', 'add-files']).default('rewrite'))
    .action(async (o: SyncCommandOptions) => setExit(await runSync(o, true)));

  addFilesOptions(tableOptions(program.command('add-files')))
    .description(
      'register new Parquet files of a replicated directory in a DR table, from their footers only',
    )
    .option('--dry-run', 'read the new footers and report what would be added; write nothing')
    .option('--concurrency <n>', 'footers read at once', '16')
    .action(async (o: AddFilesCommandOptions) => setExit(await runAddFiles(o, o.dryRun ?? false)));

  tableOptions(program.command('verify'))
    .description('check the committed DR table: every file present with its size, no source path left')
    .action(async (o: TableCommandOptions & OutputOptions) => setExit(await runVerify(o)));

  return program;
}

/** Runs the CLI; resolves the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.OK;
  const program = buildProgram((c) => {
    code = c;
  });
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    const exit = exitCodeFor(err);
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`iceberg-sync: error: ${message}\n`);
    if (exit === ExitCode.INTERNAL && err instanceof Error && err.stack)
      process.stderr.write(`${err.stack}\n`);
    if (json) {
      const codeName = err instanceof IcebergSyncError ? err.code : 'INTERNAL';
      process.stdout.write(
        `${toJsonLine({ status: 'failed', error: { code: codeName, message }, exitCode: exit })}\n`,
      );
    }
    return exit;
  }
}
