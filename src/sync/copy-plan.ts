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

/** One `source,target` pair of a copy plan. */
export interface CopyPair {
  readonly source: string;
  readonly target: string;
}

/** Reads back a copy plan written by {@link writeCopyPlan} (its own CSV quoting). */
export function parseCopyPlan(text: string): CopyPair[] {
  const out: CopyPair[] = [];
  const field = /"((?:[^"]|"")*)"|([^,\n]*)/y;
  let i = 0;
  while (i < text.length) {
    const cells: string[] = [];
    for (;;) {
      field.lastIndex = i;
      const m = field.exec(text)!;
      cells.push(m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2]!);
      i = field.lastIndex;
      if (text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\n') i++;
    else if (i < text.length) i++; // a stray character: skip it rather than loop
    if (cells.length >= 2 && cells[0] !== '') out.push({ source: cells[0]!, target: cells[1]! });
  }
  return out;
}

/** The files one `hadoop distcp -f <list> <dir>` copies: every source whose target lies in `dir`. */
export interface DistCpGroup {
  /** The target directory. */
  readonly targetDir: string;
  /** The sources, as the source metadata names them. */
  readonly sources: string[];
}

/**
 * Copy pairs grouped by target directory, for DistCp: `hadoop distcp -f LIST DIR` copies each
 * source of LIST into DIR under its own name, and the mapping only changes prefixes, so a file's
 * name is the same at both ends. A pair whose names differ is left out of the groups (and
 * counted): it cannot be copied by a list.
 */
export function distcpGroups(pairs: readonly CopyPair[]): { groups: DistCpGroup[]; renamed: CopyPair[] } {
  const byDir = new Map<string, string[]>();
  const renamed: CopyPair[] = [];
  for (const p of pairs) {
    const slash = p.target.lastIndexOf('/');
    const name = p.target.slice(slash + 1);
    if (slash <= 0 || p.source.slice(p.source.lastIndexOf('/') + 1) !== name) {
      renamed.push(p);
      continue;
    }
    const dir = p.target.slice(0, slash);
    const list = byDir.get(dir) ?? [];
    if (!list.includes(p.source)) list.push(p.source);
    byDir.set(dir, list);
  }
  const groups = [...byDir]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([targetDir, sources]) => ({ targetDir, sources }));
  return { groups, renamed };
}
