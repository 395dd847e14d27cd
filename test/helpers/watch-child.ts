/**
 * A watch process over the tables of a JSON list (watch-tables.ts), for the tests that stop or
 * kill it: the same runWatch (signals, HTTP server, metrics textfile) as `iceberg-sync watch`.
 *
 * Usage: node test/helpers/watch-child.ts POLICY.json INTERVAL_MS [METRICS_FILE]
 * Logs JSON lines on stderr; the HTTP server listens on a free loopback port, announced in the
 * line with a `url` field.
 */
import { jsonLogger } from '../../src/util/logger.ts';
import { runWatch } from '../../src/watch/run-watch.ts';
import { tableListDeps } from './watch-tables.ts';

const [policyFile, intervalMs, metricsFile] = process.argv.slice(2);
if (!policyFile || !intervalMs) {
  process.stderr.write('usage: watch-child.ts POLICY.json INTERVAL_MS [METRICS_FILE]\n');
  process.exit(2);
}
const logger = jsonLogger({ level: 'info' });
try {
  process.exitCode = await runWatch(tableListDeps(policyFile), {
    intervalMs: Number(intervalMs),
    metricsPort: 0,
    ...(metricsFile ? { metricsFile } : {}),
    logger,
  });
} catch (err) {
  logger.error({ code: (err as { code?: string }).code ?? 'INTERNAL' }, (err as Error).message);
  process.exitCode = 2;
}
