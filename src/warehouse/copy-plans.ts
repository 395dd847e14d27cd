/**
 * The warehouse form of the copy plan (`--copy-plan DIR`): for every table whose newest
 * replicated version still lacks files,
 *
 * - `DIR/<ns.table>.csv`: the `source,target` pairs (the single-table copy plan, written by the
 *   engine itself, so it is complete however many files are missing);
 * - `DIR/<ns.table>.distcp/<n>.list`: one DistCp source list per target directory;
 * - `DIR/<ns.table>.distcp.sh`: the `hadoop distcp -f <list> <dir>` line of each list.
 *
 * A table with nothing missing leaves nothing in DIR (a plan left by an earlier run is removed).
 */

import type { StorageResolver } from '../storage/router.ts';
import { distcpGroups, parseCopyPlan } from '../sync/copy-plan.ts';

/** What was written for one table. */
export interface CopyPlanSummary {
  readonly table: string;
  /** The `source,target` file. */
  readonly copyPlan: string;
  readonly files: number;
  /** One DistCp list per target directory, with the command that copies it. */
  readonly distcp: { list: string; targetDir: string; files: number; command: string }[];
  /** The shell script holding every command. */
  readonly script: string;
  /** Pairs whose file name differs between source and target (not coverable by a list); normally 0. */
  readonly renamed: number;
}

/** Where the engine writes a table's copy plan inside DIR. */
export function copyPlanFile(dir: string, table: string): string {
  return `${dir}/${table}.csv`;
}

/** A location as Hadoop reads it: local paths as `file://` URIs. */
function hadoopUri(p: string): string {
  return p.startsWith('/') ? `file://${p}` : p;
}

/** POSIX shell quoting for the printed commands. */
function shq(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * After a table's run: removes the (empty) copy plan when nothing is missing, or writes the DistCp
 * lists and script beside it. Resolves what was written, if anything.
 */
export async function finishCopyPlan(
  resolve: StorageResolver,
  dir: string,
  table: string,
  missingFiles: number,
): Promise<CopyPlanSummary | undefined> {
  const csv = copyPlanFile(dir, table);
  const storage = resolve(csv);
  if (missingFiles === 0) {
    await storage.delete(csv);
    await resolve(`${dir}/${table}.distcp.sh`).delete(`${dir}/${table}.distcp.sh`);
    return undefined;
  }
  if (!(await storage.stat(csv))) return undefined;
  const pairs = parseCopyPlan(new TextDecoder().decode(await storage.read(csv)));
  const { groups, renamed } = distcpGroups(pairs);
  const listDir = `${dir}/${table}.distcp`;
  // Lists of an earlier run that are no longer needed go first.
  for await (const f of resolve(listDir).list(listDir)) await resolve(f.path).delete(f.path);
  const distcp: CopyPlanSummary['distcp'] = [];
  const width = String(groups.length).length;
  for (const [i, g] of groups.entries()) {
    const list = `${listDir}/${String(i + 1).padStart(width, '0')}.list`;
    await resolve(list).write(list, new TextEncoder().encode(`${g.sources.join('\n')}\n`));
    distcp.push({
      list,
      targetDir: g.targetDir,
      files: g.sources.length,
      command: `hadoop distcp -f ${shq(hadoopUri(list))} ${shq(hadoopUri(g.targetDir))}`,
    });
  }
  const script = `${dir}/${table}.distcp.sh`;
  const body = [
    '#!/bin/sh',
    `# Copies the ${pairs.length} file(s) ${table} still lacks at the DR site, one DistCp job per target directory.`,
    'set -e',
    ...distcp.map((d) => d.command),
    '',
  ].join('\n');
  await resolve(script).write(script, new TextEncoder().encode(body));
  return { table, copyPlan: csv, files: pairs.length, distcp, script, renamed: renamed.length };
}
