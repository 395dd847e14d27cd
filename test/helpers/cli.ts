/** Running the built command line from tests: one run with its JSON report, or a run killed on cue. */
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { impalaFixtures, repoRoot, scratchDir } from './paths.ts';
import { replicate } from './replicate.ts';

/** The CLI entry point (it runs the build in dist/). */
export const cliBin = path.join(repoRoot, 'bin', 'iceberg-sync.js');

/** How a CLI run ended: exit code, output, and the `--json` report (the last stdout line) if any. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly json: Record<string, unknown> | undefined;
}

/** Runs `iceberg-sync args` to the end with `env` (default: this process's environment). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs?: number): CliRun {
  const r = spawnSync(process.execPath, [cliBin, ...args], {
    encoding: 'utf8',
    env,
    ...(timeoutMs ? { timeout: timeoutMs } : {}),
  });
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '');
  } catch {
    json = undefined;
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

/**
 * {@link runCli} without blocking this process: for tests that serve the run from here (a fault
 * proxy in front of a catalog) or run several at once.
 */
export function runCliAsync(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

/** This process's environment without the variables matching `drop`. */
export function envWithout(drop: RegExp, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !drop.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/**
 * Runs `iceberg-sync args` and kills it with SIGKILL as soon as its stderr matches `when` (or when
 * `afterMs` has passed). Resolves with how it ended and whether the cue was seen.
 */
export function killedCliRun(
  args: string[],
  when: RegExp | undefined,
  afterMs?: number,
): Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string; sawCue: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let sawCue = false;
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const timer = afterMs !== undefined ? setTimeout(kill, afterMs) : undefined;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (when && !sawCue && when.test(stderr)) {
        sawCue = true;
        kill();
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ signal, code, stderr, sawCue });
    });
  });
}

/** The Impala fixture table (v2, partitioned, position deletes) the CLI tests sync. */
export const FIXTURE_TABLE = 'iceberg_v2_partitioned_position_deletes';

/**
 * The fixture table replicated under a fresh `<scratch>/replica` (as replication would put it),
 * and the CLI flags that sync it into a SQLite catalog under `<scratch>/dr`.
 */
export function replicatedFixture(label: string): {
  base: string;
  replicaRoot: string;
  rules: ReturnType<typeof replicate>;
  args: string[];
} {
  const base = scratchDir(label);
  const replicaRoot = path.join(base, 'replica');
  const rules = replicate(
    path.join(impalaFixtures, 'hadoop_catalog', 'ice', FIXTURE_TABLE),
    path.join(replicaRoot, 'ice', FIXTURE_TABLE),
  );
  const args = [
    '--warehouse',
    path.join(base, 'dr'),
    '--database',
    'ice',
    '--table',
    FIXTURE_TABLE,
    '--replicated-path',
    replicaRoot,
    ...rules.flatMap((r) => ['--map', `${r.source}=${r.target}`]),
  ];
  return { base, replicaRoot, rules, args };
}
