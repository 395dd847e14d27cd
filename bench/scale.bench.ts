/**
 * Benchmark at scale (not a test): our CLI, as whole processes, against Apache Iceberg's own
 * `rewrite_table_path` (Spark local[2], whole process too) on the same synthetic tables.
 *
 * For each size: a full sync into an empty SQLite DR catalog, an incremental sync after one more
 * commit of 50 data files, a no-op sync, and `verify`; then `rewrite_table_path` of the same
 * table (every metadata version, as ours). Each run is timed as a process: wall, CPU (user +
 * system, children included) and peak RSS, by `/usr/bin/time`. Prints one table per size, the
 * incremental cost against the table size, the ratios, and last one JSON line:
 * `{"runs": [{"tool", "files", "phase", "wallS", "cpuS", "rssMiB"}]}`.
 *
 * Tables (v2, `--partitions` partitions, `--commits` commits, deflate) are built once by
 * bench/synthetic-table.ts with sparse data files and cached under `.work/bench/scale/tables/`
 * (git-ignored); the extra commit of the incremental phase is built with them and kept aside
 * until that phase (then put aside again). Their metadata names `<table dir>/prod/...`, a symbolic
 * link to the replica beside it, so that Iceberg reads the table as it is named while ours maps
 * `prod` to `replica` (paths change length, as real mappings do).
 *
 * Run: node bench/scale.bench.ts --sizes 10000,100000[,1000000] [--commits 20] [--partitions 100]
 *        [--no-iceberg] [--profile DIR] [--cli BIN] [--phases full,incremental,noop,verify]
 *   --cli BIN      the `iceberg-sync` launcher to time (default this checkout's bin/iceberg-sync.js;
 *                  another checkout's gives a before/after comparison on the same tables)
 *   --profile DIR  our runs with `node --cpu-prof` into DIR, with the top self-time functions printed
 * Needs `npm run build` first (the CLI runs dist/ when built) and, for Iceberg, the harness venv
 * `.tools/py` and the jars in `.cache/jars` (scripts/setup-harness.sh).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { link, mkdir, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { summarizeProfile } from './profile-summary.ts';
import { SyntheticTableWriter } from './synthetic-table.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    commits: { type: 'string', default: '20' },
    partitions: { type: 'string', default: '100' },
    'no-iceberg': { type: 'boolean', default: false },
    profile: { type: 'string' },
    cli: { type: 'string' },
    phases: { type: 'string', default: 'full,incremental,noop,verify' },
  },
});
const sizes = values.sizes.split(',').map((s) => Number(s.replace(/_/g, '')));
const COMMITS = Number(values.commits);
const PARTITIONS = Number(values.partitions);
const INCREMENT = 50;
const phases = new Set(values.phases.split(','));
if (sizes.some((n) => !Number.isInteger(n) || n < COMMITS) || !(COMMITS >= 1) || !(PARTITIONS >= 1)) {
  console.error('usage: node bench/scale.bench.ts --sizes 10000,100000 [--commits 20] [--partitions 100]');
  process.exit(2);
}

const repoRoot = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), '..');
const benchRoot = nodePath.join(repoRoot, '.work', 'bench', 'scale');
const cli = nodePath.resolve(values.cli ?? nodePath.join(repoRoot, 'bin', 'iceberg-sync.js'));
const python = nodePath.join(repoRoot, '.tools', 'py', 'bin', 'python');
const withIceberg = !values['no-iceberg'] && existsSync(python);

/** One measured process. */
interface Run {
  readonly tool: 'ours' | 'rewrite_table_path';
  readonly files: number;
  readonly phase: 'full' | 'incremental' | 'noop' | 'verify';
  readonly wallS: number;
  readonly cpuS: number;
  readonly rssMiB: number;
  readonly load: string;
}
const runs: Run[] = [];

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** Runs a command under /usr/bin/time: wall, user + system CPU (children included), peak RSS. */
function timed(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { wallS: number; cpuS: number; rssMiB: number; stdout: string } {
  const out = nodePath.join(benchRoot, 'time.out');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', out, cmd, ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) {
    throw new Error(
      `${nodePath.basename(cmd)} ${args.slice(0, 2).join(' ')} exited ${r.status}:\n${r.stderr}\n${r.stdout}`,
    );
  }
  const [wall, user, sys, rssKiB] = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .at(-1)!
    .split(' ')
    .map(Number);
  return { wallS: wall!, cpuS: user! + sys!, rssMiB: rssKiB! / 1024, stdout: r.stdout };
}

/** A cached table: built once per size, commits and partitions. */
interface Table {
  readonly dir: string;
  /** The replica's table directory (real files). */
  readonly replica: string;
  /** The table location the metadata names (a symbolic link to the replica's warehouse). */
  readonly prodRoot: string;
  readonly replicaRoot: string;
  /** The incremental commit's metadata file, kept aside, and where it goes when it "arrives". */
  readonly pending: string;
  readonly arrived: string;
  readonly newest: string;
}

async function table(files: number): Promise<Table> {
  const dir = nodePath.join(benchRoot, 'tables', `f${files}-c${COMMITS}-p${PARTITIONS}`);
  const replicaRoot = nodePath.join(dir, 'replica');
  const prodRoot = nodePath.join(dir, 'prod');
  const replica = nodePath.join(replicaRoot, 'db', 'events');
  const t: Table = {
    dir,
    replica,
    prodRoot,
    replicaRoot,
    pending: nodePath.join(dir, 'pending', `v${COMMITS + 1}.metadata.json`),
    arrived: nodePath.join(replica, 'metadata', `v${COMMITS + 1}.metadata.json`),
    newest: nodePath.join(replica, 'metadata', `v${COMMITS}.metadata.json`),
  };
  const ready = nodePath.join(dir, 'ready.json');
  if (existsSync(ready)) {
    await rm(t.arrived, { force: true }); // an interrupted run's incremental commit
    return t;
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await symlink('replica', prodRoot);
  const t0 = performance.now();
  const writer = new SyntheticTableWriter({
    localLocation: replica,
    sourceLocation: nodePath.join(prodRoot, 'db', 'events'),
    partitions: PARTITIONS,
    sparseDataFiles: true,
  });
  for (let k = 0; k < COMMITS; k++)
    await writer.commit(Math.floor(files / COMMITS) + (k < files % COMMITS ? 1 : 0));
  await writer.commit(INCREMENT);
  await mkdir(nodePath.dirname(t.pending), { recursive: true });
  await rename(t.arrived, t.pending);
  await writeFile(nodePath.join(replica, 'metadata', 'version-hint.text'), String(COMMITS));
  const seconds = (performance.now() - t0) / 1000;
  await writeFile(ready, JSON.stringify({ files, commits: COMMITS, partitions: PARTITIONS, seconds }));
  console.log(`built the ${files.toLocaleString('en-US')}-file table in ${seconds.toFixed(1)} s (${dir})`);
  return t;
}

function ourArgs(profileDir: string | undefined): string[] {
  return profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, cli] : [cli];
}

async function printProfile(dir: string, label: string): Promise<void> {
  if (!existsSync(dir)) return;
  // The main thread's profile only (`CPU.<date>.<time>.<pid>.0.<n>.cpuprofile`; workers have their own).
  for (const f of readdirSync(dir).filter((x) => /\.\d+\.0\.\d+\.cpuprofile$/.test(x))) {
    const profile = JSON.parse(await readFile(nodePath.join(dir, f), 'utf8'));
    console.log(`  profile ${label} (top self time):`);
    for (const { name, share } of summarizeProfile(profile).slice(0, 12))
      console.log(`    ${(share * 100).toFixed(1).padStart(5)}%  ${name}`);
  }
}

async function ours(t: Table, files: number): Promise<void> {
  const run = nodePath.join(benchRoot, 'run', String(files));
  await rm(run, { recursive: true, force: true });
  await mkdir(run, { recursive: true });
  const tableArgs = [
    '--warehouse',
    nodePath.join(run, 'wh'),
    '--database',
    'db',
    '--table',
    'events',
    '--map',
    `${t.prodRoot}=${t.replicaRoot}`,
  ];
  const syncArgs = ['sync', ...tableArgs, '--table-location', t.replica, '--json', '--quiet'];
  const one = async (
    phase: Run['phase'],
    args: string[],
    expect: (report: Record<string, unknown>) => string | undefined,
  ) => {
    const prof = values.profile
      ? nodePath.join(nodePath.resolve(values.profile), `${files}-${phase}`)
      : undefined;
    if (prof) await rm(prof, { recursive: true, force: true });
    const l = load();
    const m = timed(process.execPath, [...ourArgs(prof), ...args]);
    const report = JSON.parse(m.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    const wrong = expect(report);
    if (wrong) throw new Error(`${files} ${phase}: ${wrong}: ${m.stdout.slice(0, 2000)}`);
    runs.push({ tool: 'ours', files, phase, wallS: m.wallS, cpuS: m.cpuS, rssMiB: m.rssMiB, load: l });
    console.log(
      `  ours ${phase.padEnd(11)} ${m.wallS.toFixed(2).padStart(7)} s wall ${m.cpuS.toFixed(2).padStart(7)} s CPU ${m.rssMiB.toFixed(0).padStart(5)} MiB` +
        `   listings ${String(report.listings ?? '-').padStart(4)} stats ${String(report.stats ?? '-').padStart(7)}   load ${l}`,
    );
    if (prof) await printProfile(prof, `${files} ${phase}`);
  };
  const committed = (r: Record<string, unknown>) =>
    r.status === 'committed' ? undefined : `status ${String(r.status)}`;
  try {
    if (phases.has('full')) await one('full', syncArgs, committed);
    if (phases.has('incremental')) {
      await link(t.pending, t.arrived);
      await one('incremental', syncArgs, committed);
    }
    if (phases.has('noop')) {
      await one('noop', syncArgs, (r) =>
        r.status === 'up-to-date' ? undefined : `status ${String(r.status)}`,
      );
    }
    if (phases.has('verify')) {
      await one('verify', ['verify', ...tableArgs, '--json', '--quiet'], (r) =>
        r.ok === true ? undefined : `not ok: ${JSON.stringify(r.problems).slice(0, 500)}`,
      );
    }
  } finally {
    await unlink(t.arrived).catch(() => {});
    await rm(run, { recursive: true, force: true });
  }
}

async function iceberg(t: Table, files: number): Promise<void> {
  const run = nodePath.join(benchRoot, 'run', `rtp-${files}`);
  await rm(run, { recursive: true, force: true });
  await mkdir(run, { recursive: true });
  const l = load();
  try {
    const m = timed(
      python,
      [
        nodePath.join(repoRoot, 'bench', 'rewrite-table-path.py'),
        nodePath.join(t.prodRoot, 'db', 'events', 'metadata', `v${COMMITS}.metadata.json`),
        nodePath.join(t.prodRoot, 'db', 'events'),
        nodePath.join(run, 'dr', 'db', 'events'),
        nodePath.join(run, 'staging'),
      ],
      { ...process.env, IMSYNC_HARNESS_DRIVER_MEMORY: process.env.IMSYNC_HARNESS_DRIVER_MEMORY ?? '6g' },
    );
    runs.push({
      tool: 'rewrite_table_path',
      files,
      phase: 'full',
      wallS: m.wallS,
      cpuS: m.cpuS,
      rssMiB: m.rssMiB,
      load: l,
    });
    console.log(
      `  rewrite_table_path full ${m.wallS.toFixed(2).padStart(7)} s wall ${m.cpuS.toFixed(2).padStart(7)} s CPU ${m.rssMiB.toFixed(0).padStart(5)} MiB   load ${l}   (${m.stdout.trim().split('\n').at(-1)})`,
    );
  } finally {
    await rm(run, { recursive: true, force: true });
  }
}

console.log(
  `node ${process.version}; cli ${cli}; sizes ${sizes.join(', ')}; ${COMMITS} commits, ${PARTITIONS} partitions; load ${load()}`,
);
for (const files of sizes) {
  const t = await table(files);
  console.log(`${files.toLocaleString('en-US')} data files:`);
  await ours(t, files);
  if (withIceberg && phases.has('full')) await iceberg(t, files);
}

const find = (tool: Run['tool'], files: number, phase: Run['phase']) =>
  runs.find((r) => r.tool === tool && r.files === files && r.phase === phase);
console.log('\nincremental (+50 files) and no-op against the table size:');
const base = find('ours', sizes[0]!, 'incremental');
for (const files of sizes) {
  const inc = find('ours', files, 'incremental');
  const noop = find('ours', files, 'noop');
  if (!inc) continue;
  console.log(
    `  ${files.toLocaleString('en-US').padStart(10)} files: +50 ${inc.wallS.toFixed(2)} s wall, ${inc.cpuS.toFixed(2)} s CPU` +
      (base ? ` (${(inc.cpuS / base.cpuS).toFixed(2)}x CPU of ${sizes[0]!.toLocaleString('en-US')})` : '') +
      (noop ? `; no-op ${noop.wallS.toFixed(2)} s wall, ${noop.cpuS.toFixed(2)} s CPU` : ''),
  );
}
if (runs.some((r) => r.tool === 'rewrite_table_path')) {
  console.log('\nfull rewrite, rewrite_table_path / ours:');
  for (const files of sizes) {
    const a = find('ours', files, 'full');
    const b = find('rewrite_table_path', files, 'full');
    if (a && b)
      console.log(
        `  ${files.toLocaleString('en-US').padStart(10)} files: ${(b.wallS / a.wallS).toFixed(1)}x wall, ${(b.cpuS / a.cpuS).toFixed(1)}x CPU, RSS ${b.rssMiB.toFixed(0)} / ${a.rssMiB.toFixed(0)} MiB`,
      );
  }
}
const round = (x: number) => Math.round(x * 1000) / 1000;
console.log(
  JSON.stringify({
    runs: runs.map((r) => ({
      tool: r.tool,
      files: r.files,
      phase: r.phase,
      wallS: round(r.wallS),
      cpuS: round(r.cpuS),
      rssMiB: Math.round(r.rssMiB),
    })),
  }),
);
