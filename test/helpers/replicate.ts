/**
 * Simulated replication for tests: copies a table tree to a new place (as SyncIQ or DistCp would)
 * and derives the mapping rules from where the table's metadata says it lived.
 */
import { cpSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { decodeMetadata } from '../../src/iceberg/metadata-json.ts';
import type { PathMappingRule } from '../../src/table/path-mapping.ts';

/** Table directories (those with a metadata/ folder holding metadata.json files) below `root`. */
export function findTables(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    const names = readdirSync(dir);
    if (
      names.includes('metadata') &&
      readdirSync(path.join(dir, 'metadata')).some((n) => n.endsWith('.metadata.json'))
    ) {
      out.push(dir);
      return;
    }
    for (const n of names) {
      const p = path.join(dir, n);
      if (statSync(p).isDirectory()) visit(p);
    }
  };
  visit(root);
  return out.sort();
}

/** The `location` of the newest metadata.json of a table directory. */
export function sourceLocation(tableDir: string): string {
  const dir = path.join(tableDir, 'metadata');
  const files = readdirSync(dir)
    .filter((n) => n.endsWith('.metadata.json'))
    .map((n) => ({ n, v: Number(/^v?(\d+)/.exec(n)?.[1] ?? -1) }))
    .sort((a, b) => b.v - a.v);
  const file = path.join(dir, files[0]!.n);
  return decodeMetadata(readFileSync(file), file).metadata.location;
}

/**
 * Copies `tableDir` to `targetDir` and returns mapping rules for both spellings Impala's tables use
 * for one location: scheme-less `/test-warehouse/...` and `hdfs://localhost:20500/test-warehouse/...`.
 */
export function replicate(
  tableDir: string,
  targetDir: string,
  alternateAuthority = 'hdfs://localhost:20500',
): PathMappingRule[] {
  cpSync(tableDir, targetDir, { recursive: true });
  const location = sourceLocation(tableDir);
  const rules: PathMappingRule[] = [{ source: location, target: targetDir }];
  if (location.startsWith('/')) rules.push({ source: `${alternateAuthority}${location}`, target: targetDir });
  else if (location.startsWith(`${alternateAuthority}/`)) {
    rules.push({ source: location.slice(alternateAuthority.length), target: targetDir });
  }
  return rules;
}
