/** Locations the tests share: the repository root, the shared fixtures, a scratch folder. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Apache Impala's Iceberg test tables, read in place (never copied into the project).
 * They live beside the repository in `shared/fixtures`; IMSYNC_FIXTURES overrides.
 */
export const impalaFixtures =
  process.env.IMSYNC_FIXTURES ??
  path.resolve(repoRoot, '../shared/fixtures/impala-iceberg-test/testdata/data/iceberg_test');

/** A fresh scratch directory under `.work/` (git-ignored). */
export function scratchDir(prefix: string): string {
  const base = path.join(repoRoot, '.work', 'tests');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(path.join(base, `${prefix}-`));
}

/** Files below `dir` (sorted, depth first) for which `pred` holds. */
export function walk(dir: string, pred: (p: string) => boolean, out: string[] = []): string[] {
  if (!existsSync(dir)) return out; // no fixtures: the tests that need them skip (requires.ts)
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, pred, out);
    else if (pred(p)) out.push(p);
  }
  return out;
}

/** Every file below `dir` (none when it does not exist). */
export function listFilesRecursive(dir: string): string[] {
  return existsSync(dir) ? walk(dir, () => true) : [];
}

/** Size and modification time of every file below `dir`: equal snapshots mean an untouched tree. */
export function snapshotTree(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of listFilesRecursive(dir)) {
    const st = statSync(f);
    m.set(f, `${st.size}:${st.mtimeMs}`);
  }
  return m;
}
