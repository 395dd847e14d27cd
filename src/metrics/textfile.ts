/**
 * The metrics as a file for node_exporter's textfile collector (`--collector.textfile.directory`),
 * written after each `sync-all` (`--metrics-file PATH`) or watch round.
 *
 * The collector reads every `*.prom` file of its directory at each scrape, so the file is replaced
 * atomically: written to a hidden temporary file in the same directory (which the collector
 * ignores), flushed to disk, then renamed over the old one. A scrape sees the old file or the new
 * one, never half of either.
 *
 * Counters and the duration histogram must survive from one short-lived run to the next, so each
 * write also leaves their values beside the file (`.<name>.carry-over.json`, hidden, ignored by the
 * collector); the next run starts from them. A lost carry-over file only looks like a counter
 * reset to Prometheus, which `rate()` and `increase()` handle.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { ConfigError, StorageError } from '../errors.ts';
import { defaultLogger, type Logger } from '../util/logger.ts';
import { type MetricsCarryOver, WarehouseMetrics } from './metrics.ts';
import type { TableStatus, WarehouseRunReport } from './warehouse-types.ts';

/** Where the counters of the textfile at `path` are kept between runs. */
export function carryOverPath(path: string): string {
  return nodePath.join(nodePath.dirname(path), `.${nodePath.basename(path)}.carry-over.json`);
}

/** Writes `text` to `path` atomically (temporary file in the same directory, fsync, rename). */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const dir = nodePath.dirname(path);
  const tmp = nodePath.join(
    dir,
    `.${nodePath.basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    const e = err as NodeJS.ErrnoException;
    throw new StorageError(`cannot write the metrics file ${path}: ${e.code ?? ''} ${e.message}`.trim(), {
      cause: err,
    });
  }
}

/** The carried-over counters for the textfile at `path`; none when absent or unreadable (a reset). */
export async function readCarryOver(path: string, logger: Logger = defaultLogger): Promise<MetricsCarryOver> {
  const file = carryOverPath(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      logger.warn(`cannot read ${file} (${(err as Error).message}): the counters start again from 0`);
    }
    return [];
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) throw new Error('not a list of metric families');
    return parsed as MetricsCarryOver;
  } catch (err) {
    logger.warn(`${file} is damaged (${(err as Error).message}): the counters start again from 0`);
    return [];
  }
}

/** Writes the exposition of `metrics` to `path`, and its counters beside it for the next run. */
export async function writeMetricsTextfile(path: string, metrics: WarehouseMetrics): Promise<void> {
  // The carry-over first: a crash between the two writes then loses one textfile update, not counts.
  await writeFileAtomic(carryOverPath(path), JSON.stringify(await metrics.carryOver()));
  await writeFileAtomic(path, await metrics.text());
}

/** Checks a `--metrics-file` path before a run spends its time: the collector only reads `*.prom`. */
export function checkMetricsFilePath(path: string, logger: Logger = defaultLogger): string {
  if (path.endsWith('/') || nodePath.basename(path) === '') {
    throw new ConfigError(`--metrics-file '${path}': give a file name (for example iceberg-sync.prom)`);
  }
  if (!path.endsWith('.prom')) {
    logger.warn(`--metrics-file ${path}: node_exporter's textfile collector only reads files named *.prom`);
  }
  return nodePath.resolve(path);
}

/**
 * After a one-shot run: the run's counters added to the earlier runs', every table's standing
 * (when a status check was made), written atomically to `path`.
 */
export async function recordRunToTextfile(
  path: string,
  run: { report: WarehouseRunReport; status?: readonly TableStatus[] },
  logger: Logger = defaultLogger,
): Promise<void> {
  const metrics = new WarehouseMetrics({ seed: await readCarryOver(path, logger) });
  metrics.recordRun(run.report);
  if (run.status) metrics.setStatus(run.status);
  else metrics.setTables(run.report.tables.map((t) => t.table));
  await writeMetricsTextfile(path, metrics);
}
