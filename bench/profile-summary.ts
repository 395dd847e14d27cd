/**
 * Summary of a V8 CPU profile (`node --cpu-prof`): the functions with the most self time, as a
 * share of all samples (not a test).
 *
 * Run: node bench/profile-summary.ts <file.cpuprofile> [top]     (default top 15)
 */
import { readFile } from 'node:fs/promises';
import * as nodePath from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly hitCount?: number;
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples?: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** Self-time shares by function (name, file and line), largest first. */
export function summarizeProfile(profile: Profile): { name: string; share: number }[] {
  const hits = new Map<number, number>();
  if (profile.samples) for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  else for (const n of profile.nodes) hits.set(n.id, n.hitCount ?? 0);
  const byName = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const h = hits.get(n.id) ?? 0;
    if (h === 0) continue;
    total += h;
    const f = n.callFrame;
    const where = f.url ? ` ${nodePath.basename(f.url)}:${f.lineNumber + 1}` : '';
    const name = `${f.functionName || '(anonymous)'}${where}`;
    byName.set(name, (byName.get(name) ?? 0) + h);
  }
  return [...byName]
    .map(([name, h]) => ({ name, share: total === 0 ? 0 : h / total }))
    .sort((a, b) => b.share - a.share);
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 15);
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  console.log(
    `${nodePath.basename(file)}: ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s profiled`,
  );
  for (const { name, share } of summarizeProfile(profile).slice(0, top))
    console.log(`${(share * 100).toFixed(1).padStart(5)}%  ${name}`);
}
