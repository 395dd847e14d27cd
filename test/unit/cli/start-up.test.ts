/**
 * A run loads what it uses: the cloud SDKs, the Glue SDK, the Thrift library of the Hive catalog
 * and prom-client are loaded by the runs that need them only (a cron or watch site running the
 * CLI every minute pays each module's loading on every run). Each run below records every package
 * it resolved, through a module hook given to the child with `--import`. (That the runs needing
 * them still load them is shown by the Glue, Hive, cloud storage and watch tests.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { cliBin, replicatedFixture } from '../../helpers/cli.ts';
import { scratchDir } from '../../helpers/paths.ts';
import { requireFixtures } from '../../helpers/requires.ts';

/** Packages only some runs need, and what needs them. */
const HEAVY = [
  '@aws-sdk/client-glue', // a glue catalog
  '@aws-sdk/client-s3', // s3:// locations
  '@azure/storage-blob', // abfs:// and wasb:// locations
  '@azure/identity',
  '@google-cloud/storage', // gs:// locations
  'google-auth-library',
  'thrift', // a hive catalog
  'prom-client', // watch, or sync-all --metrics-file
  'pg', // a PostgreSQL catalog
];

/** The packages (bare specifiers) a CLI run resolved, with its exit code. */
function packagesLoaded(args: string[]): { code: number | null; stderr: string; packages: Set<string> } {
  const log = path.join(scratchDir('start-up'), 'resolved.txt');
  const hook = `data:text/javascript,${encodeURIComponent(`
    import { registerHooks } from 'node:module';
    import { appendFileSync } from 'node:fs';
    registerHooks({ resolve(spec, ctx, next) {
      if (!/^(node:|[./]|data:|file:)/.test(spec)) appendFileSync(${JSON.stringify(log)}, spec + '\\n');
      return next(spec, ctx);
    } });`)}`;
  const r = spawnSync(process.execPath, ['--import', hook, cliBin, ...args], { encoding: 'utf8' });
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    // Nothing resolved at all.
  }
  // '@scope/name/sub' and 'name/sub' are the package '@scope/name' and 'name'.
  const packages = new Set(
    text
      .split('\n')
      .filter(Boolean)
      .map((s) =>
        s
          .split('/')
          .slice(0, s.startsWith('@') ? 2 : 1)
          .join('/'),
      ),
  );
  return { code: r.status, stderr: r.stderr, packages };
}

describe('CLI start-up', requireFixtures(), () => {
  it('a local sync into a SQLite catalog loads none of the cloud, Glue, Hive, metrics or PostgreSQL packages', () => {
    const run = packagesLoaded(['sync', ...replicatedFixture('start-up-sync').args, '--quiet']);
    assert.equal(run.code, 0, run.stderr);
    // The hook saw the run's own packages: the check below is not vacuous.
    assert.ok(run.packages.has('commander'), [...run.packages].join(', '));
    assert.deepEqual(
      HEAVY.filter((p) => run.packages.has(p)),
      [],
    );
  });
});
