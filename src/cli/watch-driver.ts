/** The warehouse module behind `watch`: its policy, `syncAll`, `warehouseStatus` and the run histories. */
import { loadPolicy, type WarehousePolicy } from '../warehouse/policy.ts';
import { syncAll } from '../warehouse/run.ts';
import { parseShard } from '../warehouse/selection.ts';
import { lagHistories, warehouseStatus } from '../warehouse/status.ts';
import { absolutize } from './context.ts';
import { overridesOf } from './warehouse.ts';
import type { WatchDriver } from './watch.ts';

export const warehouseWatchDriver: WatchDriver = (o) => {
  const overrides = overridesOf(o);
  const shard = o.shard ? parseShard(o.shard) : undefined;
  const file = o.config ?? process.env.ICEBERG_SYNC_CONFIG;
  let policy: WarehousePolicy | undefined;
  return {
    policyFiles: () => (file ? [absolutize(file)] : []),
    loadPolicy: async () => {
      policy = await loadPolicy(o.config, overrides);
    },
    runOnce: (ctx) =>
      syncAll(policy!, {
        signal: ctx.abort,
        stop: ctx.stop,
        skip: (t) =>
          ctx.skip(t)
            ? { code: 'BACKOFF', message: 'left out after repeated failures (back-off)' }
            : undefined,
        onTableStart: ctx.onTableStart,
        ...(shard ? { shard } : {}),
        runId: ctx.runId,
        command: 'watch',
        logger: ctx.logger,
        onTableDone: ctx.onTableDone,
      }),
    statusOf: ({ logger }) => warehouseStatus(policy!, { ...(shard ? { shard } : {}), logger }),
    historyOf: (tables, { logger, limit }) => lagHistories(policy!, tables, { logger, limit }),
  };
};
