/**
 * The copy plan: the files the newest replicated version still lacks, one `source,target` line
 * each (CSV-quoted where needed), for the operator or a replication job to copy again.
 */
import type { StorageResolver } from '../storage/router.ts';
import type { MissingFile } from './report.ts';

/** Where and how to write the copy plan. */
export interface CopyPlanOptions {
  readonly path: string;
  /** The user named the file (`--copy-plan`): it is written even in a dry run, and even empty. */
  readonly explicit: boolean;
  readonly dryRun: boolean;
}

/**
 * Writes (or, at the default place with nothing missing, removes) the copy plan. Resolves the
 * path written, or `undefined` when none was.
 */
export async function writeCopyPlan(
  resolve: StorageResolver,
  missing: readonly MissingFile[],
  o: CopyPlanOptions,
): Promise<string | undefined> {
  if (missing.length === 0 && !o.explicit) {
    if (!o.dryRun) await resolve(o.path).delete(o.path);
    return undefined;
  }
  if (o.dryRun && !o.explicit) return undefined;
  const csv = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const lines = missing.map((m) => `${csv(m.source)},${csv(m.target)}`);
  await resolve(o.path).write(o.path, new TextEncoder().encode(lines.length ? `${lines.join('\n')}\n` : ''));
  return o.path;
}
