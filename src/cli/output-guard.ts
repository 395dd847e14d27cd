/**
 * The replica guard over every place a table command writes: the catalog (SQLite file, Hadoop
 * warehouse), the metadata root and what lies below it, and extra outputs such as the copy plan.
 */
import type { CatalogConfig } from '../catalog/config.ts';
import { catalogTypeFor } from '../catalog/registry.ts';
import type { StorageRouter } from '../storage/router.ts';
import { WebHdfsStorage } from '../storage/webhdfs/index.ts';
import { assertOutsideReplica, type GuardedLocation, metadataRootOutputs } from '../table/replica-guard.ts';

/** Refuses (ConfigError, exit 2) any output inside a replica location. Reads only. */
export async function assertCommandOutsideReplica(
  replicas: readonly GuardedLocation[],
  cfg: CatalogConfig,
  metadataRoot: string,
  router: StorageRouter,
  extra: readonly GuardedLocation[] = [],
): Promise<void> {
  const outputs: GuardedLocation[] = [...(catalogTypeFor(cfg.type)?.writesTo?.(cfg) ?? [])];
  outputs.push(...metadataRootOutputs(metadataRoot), ...extra);
  await assertOutsideReplica(replicas, outputs, { hdfsNamenodes: hdfsNamenodesOf(router) });
}

/** The directory of the embedded SQLite catalog (`<warehouse>/iceberg_catalog.db`), to create. */
export function embeddedSqliteDir(cfg: CatalogConfig): string | undefined {
  if (cfg.type !== 'sql' || !cfg.warehouse) return undefined;
  return cfg.uri === `sqlite:///${cfg.warehouse}/iceberg_catalog.db` ? cfg.warehouse : undefined;
}

/** The configured NameNodes of an HDFS path's storage (none for other schemes). */
function hdfsNamenodesOf(router: StorageRouter): (path: string) => readonly string[] {
  return (path) => {
    try {
      const storage = router.resolve(path);
      return storage instanceof WebHdfsStorage ? storage.namenodes : [];
    } catch {
      return [];
    }
  };
}
