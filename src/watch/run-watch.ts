/**
 * `watch` as a process: the loop, its HTTP face, the metrics (with the process's own), the
 * textfile after each round, and the signals a service manager sends:
 *
 * - SIGTERM or SIGINT: no new table starts; the tables in flight finish; exit 0.
 * - the same again: the tables in flight are cut short at their next step (their catalogs stay at
 *   the last commit, their locks are released); exit 8.
 * - a third time: exit at once (128 + the signal's number); a later run takes the lock over.
 * - SIGHUP: reload the policy (after the run in flight, if any).
 */

import { onStopSignals } from '../cli/signals.ts';
import { WarehouseMetrics } from '../metrics/metrics.ts';
import { checkMetricsFilePath, readCarryOver, writeMetricsTextfile } from '../metrics/textfile.ts';
import type { Logger } from '../util/logger.ts';
import { type WatchDeps, WatchLoop } from './loop.ts';
import { startWatchServer, type WatchServer } from './server.ts';

/** Options of {@link runWatch}. */
export interface RunWatchOptions {
  readonly intervalMs: number;
  readonly jitterMs?: number;
  readonly maxBackoffMs?: number;
  /** Serve `/`, `/metrics`, `/healthz`, `/readyz` here (0: any free port); none when undefined. */
  readonly metricsPort?: number;
  /** Default 127.0.0.1. */
  readonly metricsHost?: string;
  /** Also write the metrics to this node_exporter textfile after each round. */
  readonly metricsFile?: string;
  readonly logger: Logger;
  /** Called with the server's URL once it listens. */
  readonly onListening?: (url: string) => void;
}

/** Runs `watch` until stopped; resolves the exit code (0 after a clean stop, 8 when cut short). */
export async function runWatch(deps: WatchDeps, o: RunWatchOptions): Promise<number> {
  const logger = o.logger;
  const metricsFile = o.metricsFile ? checkMetricsFilePath(o.metricsFile, logger) : undefined;
  const metrics = new WarehouseMetrics({
    processMetrics: true,
    ...(metricsFile ? { seed: await readCarryOver(metricsFile, logger) } : {}),
  });
  const loop = new WatchLoop(deps, {
    intervalMs: o.intervalMs,
    ...(o.jitterMs !== undefined ? { jitterMs: o.jitterMs } : {}),
    ...(o.maxBackoffMs !== undefined ? { maxBackoffMs: o.maxBackoffMs } : {}),
    logger,
    metrics,
    ...(metricsFile ? { onRound: () => writeMetricsTextfile(metricsFile, metrics) } : {}),
  });
  const offStop = onStopSignals([
    (s) => loop.stop(`${s} received`),
    (s) => loop.abort(`${s} received again`),
  ]);
  const onHup = () => loop.requestReload('SIGHUP received');
  process.on('SIGHUP', onHup);
  let server: WatchServer | undefined;
  try {
    if (o.metricsPort !== undefined) {
      server = await startWatchServer({
        port: o.metricsPort,
        ...(o.metricsHost ? { host: o.metricsHost } : {}),
        state: () => loop.state(),
        metrics,
        logger,
      });
      logger.info(
        { url: server.url },
        `serving the status page, /metrics, /healthz and /readyz on ${server.url}`,
      );
      o.onListening?.(server.url);
    }
    const code = await loop.run();
    logger.info(
      { exitCode: code },
      code === 0 ? 'watch stopped' : 'watch stopped, the tables in flight cut short',
    );
    return code;
  } finally {
    offStop();
    process.off('SIGHUP', onHup);
    await server?.close();
  }
}
