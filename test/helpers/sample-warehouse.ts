/**
 * A replicated warehouse of many tables made from the bundled sample (examples/replica): copies of
 * sales.orders under several namespaces in both layouts (`<ns>/<table>` and `<db>.db/<table>`),
 * one partially replicated (its newest manifest list has not arrived), one with a corrupt
 * manifest (the engine takes it for a file still arriving: behind, reason `unreadable`), one whose
 * every metadata.json is damaged (bad input: nothing to commit), one the policy excludes, and the
 * policy file that syncs them into a SQLite catalog.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { scratchDir } from './paths.ts';
import { sampleWarehouse } from './sample-site.ts';

/** The sample table (v2, 5 snapshots, merge-on-read deletes). */
export const sampleTable = path.join(sampleWarehouse, 'sales', 'orders');

interface SampleMetadata {
  'current-snapshot-id': number | string;
  snapshots: { 'snapshot-id': number | string; 'timestamp-ms': number; 'manifest-list': string }[];
}

/** The sample's newest metadata, read as plain JSON (ids compared as text). */
export function sampleMetadata(): SampleMetadata {
  const text = readFileSync(path.join(sampleTable, 'metadata', 'v8.metadata.json'), 'utf8');
  // Snapshot ids exceed 2^53: keep their digits.
  return JSON.parse(
    text.replace(/("(?:snapshot-id|current-snapshot-id|parent-snapshot-id)":\s*)(\d+)/g, '$1"$2"'),
  );
}

/** A warehouse site: the replica, the DR side, the policy file. */
export interface SampleWarehouse {
  readonly base: string;
  readonly replica: string;
  readonly dr: string;
  readonly dbFile: string;
  readonly config: string;
  /** Every table the replica holds, `ns.table` → its directory. */
  readonly tables: Map<string, string>;
  /** Tables expected to commit the newest version. */
  readonly complete: string[];
  /** The partially replicated table, the one with a corrupt manifest, the one with no valid metadata, the excluded one. */
  readonly behind: string;
  readonly broken: string;
  readonly invalid: string;
  readonly excluded: string;
  /** Adds a complete copy of the sample as `dir` (relative to the replica root). */
  addTable(dir: string): string;
}

/** Namespaces and their layouts: `<ns>/` (Hadoop) and `<db>.db/` (Hive). */
const LAYOUT: readonly [string, string][] = [
  ['sales', 'sales'],
  ['web', 'web.db'],
  ['ops', 'ops'],
  ['fin', 'fin.db'],
];

/** Builds the warehouse: `perNamespace` complete tables in each of four namespaces, plus the four odd ones. */
export function sampleWarehouseSite(prefix: string, perNamespace = 5, policyExtra = ''): SampleWarehouse {
  const base = scratchDir(prefix);
  const replica = path.join(base, 'replica');
  const dr = path.join(base, 'dr');
  mkdirSync(dr, { recursive: true });
  const tables = new Map<string, string>();
  const addTable = (dir: string) => {
    const target = path.join(replica, dir);
    cpSync(sampleTable, target, { recursive: true });
    const [nsDir, name] = dir.split('/') as [string, string];
    tables.set(`${nsDir.replace(/\.db$/, '')}.${name}`, target);
    return target;
  };
  const complete: string[] = [];
  for (const [ns, dir] of LAYOUT) {
    for (let i = 0; i < perNamespace; i++) {
      addTable(`${dir}/t${i}`);
      complete.push(`${ns}.t${i}`);
    }
  }
  const meta = sampleMetadata();
  const newest = meta.snapshots.find((s) => s['snapshot-id'] === meta['current-snapshot-id'])!;
  const listName = path.basename(newest['manifest-list']);
  // Partially replicated: the newest snapshot's manifest list has not arrived yet.
  const behindDir = addTable('web.db/behind');
  rmSync(path.join(behindDir, 'metadata', listName));
  // A corrupt manifest of the newest snapshot (same size, so it passes the size check).
  const brokenDir = addTable('ops/broken');
  const manifest = path.join(
    brokenDir,
    'metadata',
    `${listName.replace(/^snap-\d+-\d+-/, '')}`.replace(/\.avro$/, '-m0.avro'),
  );
  const size = readFileSync(manifest).length;
  writeFileSync(manifest, Buffer.alloc(size, 0x5a));
  // No version Iceberg readers would load: every metadata.json cut short.
  const invalidDir = addTable('ops/invalid');
  for (const f of readdirSync(path.join(invalidDir, 'metadata'))) {
    if (f.endsWith('.metadata.json'))
      writeFileSync(path.join(invalidDir, 'metadata', f), '{"format-version": 2, "table-uuid"');
  }
  addTable('tmp/scratch');
  const dbFile = path.join(dr, 'catalog.db');
  const config = path.join(base, 'dr.yaml');
  writeFileSync(
    config,
    [
      'catalog:',
      '  dr:',
      `    uri: sqlite:///${dbFile}`,
      `    warehouse: ${path.join(dr, 'wh')}`,
      'replication:',
      `  replicated-paths: [${replica}]`,
      "  exclude: ['tmp.*']",
      '  concurrency: 4',
      policyExtra,
      '',
    ].join('\n'),
  );
  return {
    base,
    replica,
    dr,
    dbFile,
    config,
    tables,
    complete: complete.sort(),
    behind: 'web.behind',
    broken: 'ops.broken',
    invalid: 'ops.invalid',
    excluded: 'tmp.scratch',
    addTable,
  };
}
