/**
 * `iceberg-sync watch`: the warehouse run of `sync-all` at an interval, as a long-running service
 * (src/watch/). The command only reads its flags; what a run is comes from a {@link WatchDriver}:
 * the warehouse policy, `syncAll` and `warehouseStatus`.
 */
import { type Command, Option } from 'commander';
import { duration, flag, nonNegativeInt, positiveInt } from '../options/values.ts';
import type { Logger } from '../util/logger.ts';
import type { WatchDeps } from '../watch/loop.ts';
import { cliLogger, LOG_FORMATS, type OutputOptions } from './output.ts';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const parseInterval = flag(duration(), '--interval');
const parseJitter = flag(duration({ allowZero: true }), '--jitter');
const parseMaxBackoff = flag(duration(), '--max-backoff');
const parsePort = flag(nonNegativeInt, '--metrics-port');
const parseConcurrency = flag(positiveInt, '--concurrency');

/** The flags of `watch` (durations in milliseconds). */
export interface WatchCommandOptions extends OutputOptions {
  readonly config?: string;
  readonly catalog?: string;
  readonly warehouse?: string;
  readonly interval: number;
  readonly jitter?: number;
  readonly maxBackoff?: number;
  readonly metricsPort?: number;
  readonly metricsHost: string;
  readonly metricsFile?: string;
  /** The selection flags, as `sync-all` takes them. */
  readonly replicatedPath?: string[];
  readonly map?: string[];
  readonly include?: string[];
  readonly exclude?: string[];
  readonly metadataRoot?: string;
  readonly concurrency?: number;
  readonly shard?: string;
}

/** Builds the loop's inputs from the flags: load the policy, run it, report its status. */
export type WatchDriver = (o: WatchCommandOptions, logger: Logger) => WatchDeps;

/** Adds `watch` to the program. */
export function addWatchCommand(
  program: Command,
  setExit: (code: number) => void,
  driver: WatchDriver,
): Command {
  return program
    .command('watch')
    .description(
      'run sync-all at an interval as a service: never overlapping runs, per-table back-off, policy reload on change or SIGHUP, status page, /metrics, /healthz, /readyz',
    )
    .option('--config <file>', 'the configuration file with the replication policy; env ICEBERG_SYNC_CONFIG')
    .option('--catalog <name>', 'the DR catalog of the configuration file')
    .option('--warehouse <dir>', 'the DR warehouse (over the configuration)')
    .requiredOption(
      '--interval <duration>',
      'time from one run start to the next: seconds, or 90s, 5m, 1h',
      parseInterval,
    )
    .option('--jitter <duration>', 'add up to this much to each interval at random (default 0)', parseJitter)
    .option(
      '--max-backoff <duration>',
      'longest a failing table is left out of runs (default 1h, never below the interval)',
      parseMaxBackoff,
    )
    .option(
      '--metrics-port <n>',
      'serve /, /metrics, /healthz and /readyz on this port (0: any free one)',
      parsePort,
    )
    .option('--metrics-host <host>', 'address to bind the HTTP server to', '127.0.0.1')
    .option('--metrics-file <path>', 'also write the metrics to this node_exporter textfile after each run')
    .option(
      '--replicated-path <dir>',
      'replicated warehouse root (repeatable; replaces the policy roots)',
      collect,
    )
    .option('--map <SRC=DST>', 'path mapping rule (repeatable; tried before the policy rules)', collect)
    .option(
      '--include <pattern>',
      'namespace.table glob to select (repeatable; replaces the policy)',
      collect,
    )
    .option(
      '--exclude <pattern>',
      'namespace.table glob to leave out (repeatable; replaces the policy)',
      collect,
    )
    .option('--metadata-root <template>', 'metadata root template ({namespace}, {table})')
    .option('--concurrency <n>', 'tables synced at once', parseConcurrency)
    .option('--shard <i/N>', "only this worker's share of the tables (0-based i of N)")
    .option('-q, --quiet', 'no progress, logs or warnings on stderr (errors still print)')
    .addOption(
      new Option('--log-format <format>', 'stderr lines as text or JSON objects (one per line)')
        .choices(LOG_FORMATS)
        .default('text'),
    )
    .action(async (o: WatchCommandOptions) => {
      const logger = cliLogger(o);
      const deps = driver(o, logger);
      // The service (HTTP server, prom-client) is loaded by the command that runs it only.
      const { runWatch } = await import('../watch/run-watch.ts');
      setExit(
        await runWatch(deps, {
          intervalMs: o.interval,
          ...(o.jitter !== undefined ? { jitterMs: o.jitter } : {}),
          ...(o.maxBackoff !== undefined ? { maxBackoffMs: o.maxBackoff } : {}),
          ...(o.metricsPort !== undefined ? { metricsPort: o.metricsPort } : {}),
          metricsHost: o.metricsHost,
          ...(o.metricsFile ? { metricsFile: o.metricsFile } : {}),
          logger,
        }),
      );
    });
}
