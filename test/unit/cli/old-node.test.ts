/**
 * The newcomer's path: after the set-up, `npx --no-install iceberg-sync` runs from the repository
 * root even where the machine's own `node` is older than the tool needs, because the entry point
 * hands the run to the Node the set-up installed into .tools/node.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { cliBin } from '../../helpers/cli.ts';
import { repoRoot } from '../../helpers/paths.ts';

const ownNode = path.join(repoRoot, '.tools', 'node', 'node_modules', '.bin', 'node');

/** A node older than 22.18 on this machine (the system's), if there is one. */
function oldNode(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    const bin = path.join(dir, 'node');
    if (!existsSync(bin)) continue;
    const v = spawnSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    const [major, minor] = v.split('.').map(Number);
    if (major !== undefined && minor !== undefined && (major < 22 || (major === 22 && minor < 18)))
      return bin;
  }
  return undefined;
}

const old = oldNode();
const skip = !old
  ? 'no node older than 22.18 on this machine to start the CLI with'
  : !existsSync(ownNode)
    ? 'no .tools/node (run scripts/setup.sh)'
    : false;

describe('the CLI under an old node', { skip }, () => {
  it('runs a command through the Node of .tools/node, with its exit code and output', () => {
    const r = spawnSync(old!, [cliBin, '--version'], { encoding: 'utf8', cwd: repoRoot });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '0.1.0');
    const bad = spawnSync(old!, [cliBin, 'sync-all', '--config', path.join(repoRoot, 'no-such.yaml')], {
      encoding: 'utf8',
      cwd: repoRoot,
    });
    assert.equal(bad.status, 2, 'the exit code of the real run comes through');
    assert.match(bad.stderr, /no-such\.yaml: cannot read the configuration/);
  });

  it('works as the README gives it: npx --no-install iceberg-sync, with the old node first on PATH', () => {
    const env = { ...process.env, PATH: `${path.dirname(old!)}${path.delimiter}${process.env.PATH ?? ''}` };
    const r = spawnSync('npx', ['--no-install', 'iceberg-sync', '--version'], {
      encoding: 'utf8',
      cwd: repoRoot,
      env,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').at(-1), '0.1.0');
  });

  it('says what to do instead of looping when it cannot hand over', () => {
    const r = spawnSync(old!, [cliBin, '--version'], {
      encoding: 'utf8',
      env: { ...process.env, ICEBERG_SYNC_REEXEC: '1' },
    });
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /needs Node\.js >= 22\.18 \(this is \d+\.\d+\.\d+\); in a source checkout, \.\/scripts\/setup\.sh installs one/,
    );
  });
});
