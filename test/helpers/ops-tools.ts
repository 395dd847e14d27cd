/**
 * The operations validators the ops tests run, each found or reported missing by the rule of
 * requires.ts: Python's prometheus_client parser (the harness venv), `promtool` (Debian's
 * `prometheus`), `systemd-analyze`, `kubernetes-validate` (the harness venv) and headless
 * Chromium. `scripts/setup-ops.sh` installs the system packages; `scripts/setup-harness.sh` the venv.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './paths.ts';
import { requirement } from './requires.ts';

/** The harness venv's Python (IMSYNC_HARNESS_PYTHON overrides). */
export const harnessPython =
  process.env.IMSYNC_HARNESS_PYTHON ?? path.join(repoRoot, '.tools', 'py', 'bin', 'python');

function onPath(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function pythonModuleMissing(module: string): string | false {
  if (!existsSync(harnessPython)) return `no harness venv at ${harnessPython}: run scripts/setup-harness.sh`;
  const r = spawnSync(harnessPython, ['-c', `import ${module}`], { encoding: 'utf8' });
  return r.status === 0 ? false : `${harnessPython} cannot import ${module}: run scripts/setup-harness.sh`;
}

/** Python's prometheus_client (its text parser). */
export function requirePromClientParser(): { skip: string | false } {
  return requirement('Python prometheus_client', pythonModuleMissing('prometheus_client'));
}

/** One sample as prometheus_client parsed it; `value` is a number (NaN and ±Inf included). */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One metric family as prometheus_client parsed it. */
export interface ParsedFamily {
  readonly name: string;
  readonly type: string;
  readonly documentation: string;
  readonly samples: readonly ParsedSample[];
}

/** Parses a text exposition with prometheus_client's parser (throws on a parse error). */
export function parseExposition(text: string): ParsedFamily[] {
  const r = spawnSync(harnessPython, [path.join(repoRoot, 'test', 'helpers', 'parse_prometheus.py')], {
    input: text,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`prometheus_client could not parse the exposition: ${r.stderr}`);
  const raw = JSON.parse(r.stdout) as (Omit<ParsedFamily, 'samples'> & {
    samples: { name: string; labels: Record<string, string>; value: string }[];
  })[];
  return raw.map((f) => ({
    ...f,
    samples: f.samples.map((s) => ({
      ...s,
      value:
        s.value === 'nan'
          ? Number.NaN
          : s.value === 'inf'
            ? Infinity
            : s.value === '-inf'
              ? -Infinity
              : Number(s.value),
    })),
  }));
}

/** The value of the sample `name` whose labels include `labels`; undefined when there is none. */
export function sampleValue(
  families: readonly ParsedFamily[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  for (const f of families) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}

/** Every sample named `name`. */
export function samplesOf(families: readonly ParsedFamily[], name: string): ParsedSample[] {
  return families.flatMap((f) => f.samples.filter((s) => s.name === name));
}

/** `promtool` (Debian's `prometheus` package). */
export function requirePromtool(): { skip: string | false } {
  return requirement(
    'promtool',
    onPath('promtool') ? false : 'promtool not on PATH: run scripts/setup-ops.sh (apt package prometheus)',
  );
}

/** `promtool check metrics` on `text`: its exit code and every line it printed (findings). */
export function promtoolCheck(text: string): { code: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { code: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/** `systemd-analyze` (apt package systemd). */
export function requireSystemdAnalyze(): { skip: string | false } {
  return requirement(
    'systemd-analyze',
    onPath('systemd-analyze')
      ? false
      : 'systemd-analyze not on PATH: run scripts/setup-ops.sh (apt package systemd)',
  );
}

/** `kubernetes-validate` (the harness venv). */
export function requireKubernetesValidate(): { skip: string | false } {
  return requirement('kubernetes-validate', pythonModuleMissing('kubernetes_validate'));
}

/** The headless Chromium binary, if any. */
export const chromiumBin = onPath('chromium') ?? onPath('chromium-browser');

/** Headless Chromium (apt package chromium). */
export function requireChromium(): { skip: string | false } {
  return requirement(
    'chromium',
    chromiumBin ? false : 'chromium not on PATH: run scripts/setup-ops.sh (apt package chromium)',
  );
}
