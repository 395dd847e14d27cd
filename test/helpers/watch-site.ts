/**
 * A small replicated warehouse for the watch tests: synthetic Iceberg tables (bench's writer) in a
 * scratch replica, a SQLite DR catalog beside it, and the JSON table list watch-tables.ts reads.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { SyntheticTableWriter } from '../../bench/synthetic-table.ts';
import { SqlCatalog } from '../../src/catalog/sql/sql.ts';
import { decodeMetadata } from '../../src/iceberg/metadata-json.ts';
import { StorageRouter } from '../../src/storage/router.ts';
import { verifyTable } from '../../src/sync/verify.ts';
import { listFilesRecursive, scratchDir } from './paths.ts';
import type { ListedTable, TableListPolicy } from './watch-tables.ts';

export const SOURCE = 'hdfs://prod-nn:8020/warehouse';

/** A table to make. */
export interface TableSpec {
  /** `namespace.name`. */
  readonly key: string;
  readonly commits: number;
  /** Data files per commit (default 3). */
  readonly files?: number;
  /** Partition directories (default 4). */
  readonly partitions?: number;
  readonly thresholdSeconds?: number;
  /** List the table at a directory that does not exist (a typo in the policy): every sync fails. */
  readonly wrongLocation?: boolean;
  /** Remove one data file of the newest commit: the table stays behind. */
  readonly partial?: boolean;
}

/** The site: where everything is, and the writers to add commits with. */
export interface WatchSite {
  readonly base: string;
  readonly replica: string;
  readonly dr: string;
  readonly catalogUri: string;
  readonly policyFile: string;
  readonly policy: TableListPolicy;
  readonly writers: ReadonlyMap<string, SyntheticTableWriter>;
  /** Rewrites the table list (watch reloads it). */
  writePolicy(policy: TableListPolicy): void;
}

function split(key: string): [string, string] {
  const dot = key.lastIndexOf('.');
  return [key.slice(0, dot), key.slice(dot + 1)];
}

/** Removes a data file that the newest commit of `writer` added. */
export function dropNewestDataFile(writer: SyntheticTableWriter): string {
  const k = writer.commits.length;
  const files = listFilesRecursive(path.join(writer.localLocation, 'data')).filter((f) =>
    new RegExp(`^\\d{5}-${k}-`).test(path.basename(f)),
  );
  if (!files.length) throw new Error(`no data file of commit ${k} in ${writer.localLocation}`);
  rmSync(files[0]!);
  return files[0]!;
}

/** Makes the tables of `specs` (nothing synced yet). */
export async function watchSite(label: string, specs: readonly TableSpec[]): Promise<WatchSite> {
  const base = scratchDir(label);
  const replica = path.join(base, 'replica');
  const dr = path.join(base, 'dr');
  mkdirSync(dr, { recursive: true });
  const writers = new Map<string, SyntheticTableWriter>();
  const tables: ListedTable[] = [];
  for (const s of specs) {
    const [ns, name] = split(s.key);
    const rel = `${ns.split('.').join('/')}/${name}`;
    const w = new SyntheticTableWriter({
      localLocation: path.join(replica, rel),
      sourceLocation: `${SOURCE}/${rel}`,
      partitions: s.partitions ?? 4,
    });
    for (let i = 0; i < s.commits; i++) await w.commit(s.files ?? 3);
    if (s.partial) dropNewestDataFile(w);
    writers.set(s.key, w);
    tables.push({
      key: s.key,
      tableLocation: s.wrongLocation ? `${w.localLocation}-typo` : w.localLocation,
      mappings: [{ source: SOURCE, target: replica }],
      metadataRoot: path.join(dr, rel, 'metadata'),
      thresholdSeconds: s.thresholdSeconds ?? 900,
    });
  }
  const policyFile = path.join(base, 'policy.json');
  const catalogUri = `sqlite:///${path.join(dr, 'catalog.db')}`;
  const policy: TableListPolicy = { catalogUri, tables };
  const writePolicy = (p: TableListPolicy) => writeFileSync(policyFile, JSON.stringify(p, null, 2));
  writePolicy(policy);
  return { base, replica, dr, catalogUri, policyFile, policy, writers, writePolicy };
}

/** The current snapshot id of the newest metadata.json a writer made. */
export function newestSnapshotId(writer: SyntheticTableWriter): string {
  const dir = path.join(writer.localLocation, 'metadata');
  const newest = readdirSync(dir)
    .filter((n) => /^v\d+\.metadata\.json$/.test(n))
    .sort((a, b) => Number(/\d+/.exec(b)![0]) - Number(/\d+/.exec(a)![0]))[0]!;
  const file = path.join(dir, newest);
  return String(decodeMetadata(readFileSync(file), file).metadata.currentSnapshotId);
}

/** Run locks left anywhere under the DR site. */
export function locksLeft(site: WatchSite): string[] {
  return listFilesRecursive(site.dr).filter((f) => f.endsWith(`${path.sep}.iceberg-sync${path.sep}lock`));
}

/**
 * For every table: its DR catalog entry, and whether what it points at verifies (every file
 * present, no source path left). `undefined` location: not in the catalog (yet).
 */
export async function catalogState(
  site: WatchSite,
): Promise<Map<string, { location: string | undefined; problems: string[] }>> {
  const resolve = new StorageRouter().resolver;
  const out = new Map<string, { location: string | undefined; problems: string[] }>();
  if (!existsSync(path.join(site.dr, 'catalog.db'))) {
    for (const t of site.policy.tables) out.set(t.key, { location: undefined, problems: [] });
    return out;
  }
  const catalog = await SqlCatalog.open({
    name: 'dr',
    uri: site.catalogUri,
    storageFor: resolve,
    readOnly: true,
  });
  try {
    for (const t of site.policy.tables) {
      const [ns, name] = split(t.key);
      const table = { namespace: ns.split('.'), name };
      const loaded = await catalog.loadTable(table);
      if (!loaded) {
        out.set(t.key, { location: undefined, problems: [] });
        continue;
      }
      const v = await verifyTable({
        table,
        catalog,
        mappings: t.mappings,
        metadataRoot: t.metadataRoot,
        resolve,
      });
      out.set(t.key, {
        location: loaded.metadataLocation,
        problems: v.problems.map((p) => `${p.path}: ${p.problem}`),
      });
    }
  } finally {
    await catalog.close();
  }
  return out;
}
