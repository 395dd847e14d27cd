/**
 * `verify` must fail (exit 7, with the list) for every kind of problem it reports; a verify that
 * always said ok would pass every other test. Kinds covered elsewhere: a name that lies about its
 * codec and metadata Iceberg readers refuse (hostile-metadata-cli), a referenced symlink
 * (cli-replica-guard), the catalog's metadata file gone (catalog-lost).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.ts';
import { sampleSite, sampleSourcePrefix as sourcePrefix } from '../../helpers/sample-site.ts';

function synced(prefix: string) {
  const s = sampleSite(prefix);
  const r = runCli(['sync', ...s.args, '--json', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const ok = runCli(['verify', ...s.args, '--json']);
  assert.equal(ok.code, 0, ok.stdout);
  return { ...s, metadata: String(r.json?.metadataLocation) };
}

/** Runs verify and returns its problems, asserting exit 7 and a non-empty list. */
function failing(args: string[]): { path: string; problem: string }[] {
  const v = runCli(['verify', ...args, '--json']);
  assert.equal(v.code, 7, `${v.stdout}\n${v.stderr}`);
  assert.equal(v.json?.ok, false);
  const problems = (v.json?.problems ?? []) as { path: string; problem: string }[];
  assert.ok(problems.length > 0);
  // The human report lists them too.
  const text = runCli(['verify', ...args]);
  assert.equal(text.code, 7);
  for (const p of problems) assert.ok(text.stdout.includes(p.path), text.stdout);
  return problems;
}

function dataFiles(table: string): string[] {
  return readdirSync(path.join(table, 'data'), { recursive: true })
    .map(String)
    .filter((n) => n.endsWith('.parquet') && !n.includes('deletes'))
    .map((n) => path.join(table, 'data', n));
}

describe('verify fails for each kind of problem', () => {
  it('a live data file missing from the replica', () => {
    const s = synced('vf-missing');
    const gone = dataFiles(s.table).find((f) => f.includes('00000-12-'))!;
    rmSync(gone);
    const problems = failing(s.args);
    assert.deepEqual(
      problems.map((p) => p.path),
      [gone],
    );
    assert.match(problems[0]!.problem, /^missing \(referenced by data_file\.file_path in .*\.avro\)$/);
  });

  it('a data file whose size differs from the recorded one', () => {
    const s = synced('vf-size');
    const short = dataFiles(s.table).find((f) => f.includes('00000-12-'))!;
    const size = readFileSync(short).length;
    truncateSync(short, size - 1);
    const problems = failing(s.args);
    assert.deepEqual(
      problems.map((p) => p.path),
      [short],
    );
    assert.match(problems[0]!.problem, new RegExp(`^size ${size - 1} differs from the recorded ${size} `));
  });

  it('a rewritten manifest gone from the metadata root', () => {
    const s = synced('vf-manifest');
    const manifest = readdirSync(s.root).find((n) => n.endsWith('-m0.avro'))!;
    rmSync(path.join(s.root, manifest));
    const problems = failing(s.args);
    assert.ok(
      problems.some(
        (p) => p.path === path.join(s.root, manifest) && /^missing \(referenced by/.test(p.problem),
      ),
      JSON.stringify(problems),
    );
  });

  it('a rewritten manifest list damaged', () => {
    const s = synced('vf-list');
    const list = readdirSync(s.root).find((n) => n.startsWith('snap-1744344999796821571'))!;
    const file = path.join(s.root, list);
    const bytes = readFileSync(file);
    bytes.fill(0x41, bytes.length - 300, bytes.length - 200);
    writeFileSync(file, bytes);
    const problems = failing(s.args);
    assert.ok(
      problems.some((p) => p.path === file && /^unreadable: /.test(p.problem)),
      JSON.stringify(problems),
    );
  });

  it('a source path left in the committed metadata.json', () => {
    const s = synced('vf-leftover');
    const text = readFileSync(s.metadata, 'utf8');
    const edited = text.replace(`"location":"${s.table}"`, `"location":"${sourcePrefix}/sales/orders"`);
    assert.notEqual(edited, text, 'the location field was found');
    writeFileSync(s.metadata, edited);
    const problems = failing(s.args);
    assert.ok(
      problems.some((p) => p.path === s.metadata && p.problem === `contains source prefix '${sourcePrefix}'`),
      JSON.stringify(problems),
    );
  });
});
