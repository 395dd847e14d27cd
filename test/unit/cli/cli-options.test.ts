/**
 * The command line's shared rules: flag values refused alike by every command, `default-catalog`
 * precedence, `--quiet` / `--json` / `--log-format` holding for warnings, and no credential of a
 * URL in any output, on S3, WebHDFS and PostgreSQL settings. Runs on the bundled sample replica.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { type CliRun, runCli } from '../../helpers/cli.ts';
import { repoRoot, scratchDir } from '../../helpers/paths.ts';

const SOURCE_WAREHOUSE = 'hdfs://prod-nn:8020/warehouse';
const SECRET = 'S3cr3tValue';
const TOKEN = 'T0kenValue';
/** Nothing listens here: every request fails at once with a connection error naming the URL. */
const CLOSED = '127.0.0.1:1';

/** A copy of the sample replica, and the table options of a run over it. */
function sample(prefix: string) {
  const base = scratchDir(prefix);
  const replica = path.join(base, 'replica');
  cpSync(path.join(repoRoot, 'examples', 'replica'), replica, { recursive: true });
  const warehouse = path.join(replica, 'warehouse');
  const table = ['--database', 'sales', '--table', 'orders'];
  const source = ['--replicated-path', warehouse, '--map', `${SOURCE_WAREHOUSE}=${warehouse}`];
  return { base, table, source, args: [...table, ...source] };
}

/** The catalog names that hold `sales.orders` in a SQLite catalog file. */
function catalogsHoldingTable(file: string): string[] {
  const db = new DatabaseSync(file);
  try {
    return db
      .prepare(
        "SELECT catalog_name FROM iceberg_tables WHERE table_namespace = 'sales' AND table_name = 'orders'",
      )
      .all()
      .map((r) => String(r.catalog_name));
  } finally {
    db.close();
  }
}

function assertUsageError(r: CliRun, message: RegExp, label: string): void {
  assert.equal(r.code, 2, `${label}: ${r.stderr}`);
  assert.match(r.stderr, message, label);
  assert.equal(r.json?.status, 'failed', label);
  assert.match(String((r.json?.error as { message?: string })?.message), message, label);
}

describe('iceberg-sync flag values', () => {
  it('refuses a bad --concurrency alike in sync, plan and add-files, before anything is written', () => {
    const s = sample('cli-opt-conc');
    const dr = path.join(s.base, 'dr');
    for (const command of ['sync', 'plan', 'add-files']) {
      for (const bad of ['-3', '0', 'abc', '2.5', '1e3', '']) {
        const r = runCli([command, '--warehouse', dr, ...s.args, '--concurrency', bad, '--json']);
        assertUsageError(
          r,
          new RegExp(`--concurrency: must be a positive whole number \\(got '${bad.replace('.', '\\.')}'\\)`),
          `${command} --concurrency ${bad}`,
        );
      }
    }
    const verify = runCli(['verify', '--warehouse', dr, ...s.table, '--concurrency', '4']);
    assert.equal(verify.code, 2, 'verify takes no --concurrency');
    assert.match(verify.stderr, /unknown option '--concurrency'/);
    assert.equal(existsSync(dr), false, 'a refused run creates nothing');
  });

  it('refuses bad --settle and --format-version values, and takes durations with units', () => {
    const s = sample('cli-opt-settle');
    const dr = path.join(s.base, 'dr');
    for (const command of ['add-files', 'sync']) {
      const mode = command === 'sync' ? ['--mode', 'add-files'] : [];
      const settle = runCli([command, ...mode, '--warehouse', dr, ...s.args, '--settle', 'soon', '--json']);
      assertUsageError(
        settle,
        /--settle: must be a number of seconds, 0 or more, or a duration with a unit/,
        command,
      );
      const negative = runCli([command, ...mode, '--warehouse', dr, ...s.args, '--settle', '-1']);
      assert.equal(negative.code, 2, `${command} --settle -1`);
      const version = runCli([
        command,
        ...mode,
        '--warehouse',
        dr,
        ...s.args,
        '--create',
        '--format-version',
        '4',
      ]);
      assert.equal(version.code, 2);
      assert.match(version.stderr, /--format-version: must be 1, 2 or 3 \(got '4'\)/);
    }
    const ok = runCli([
      'plan',
      '--warehouse',
      dr,
      ...s.args,
      '--concurrency',
      '2',
      '--settle',
      '5m',
      '--json',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.json?.status, 'planned');
  });

  it('refuses a bad --log-format', () => {
    const s = sample('cli-opt-logfmt');
    const r = runCli(['plan', '--warehouse', path.join(s.base, 'dr'), ...s.args, '--log-format', 'xml']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--log-format.*xml.*text, json/);
  });
});

describe('iceberg-sync catalog choice', () => {
  /** A config with SQLite catalogs `names` (each its own file) and the given extra lines. */
  function config(base: string, names: string[], extra = ''): { file: string; db: (n: string) => string } {
    const db = (n: string) => path.join(base, `${n}.db`);
    const lines = ['catalog:'];
    for (const n of names) {
      lines.push(`  ${n}:`, `    uri: sqlite:///${db(n)}`, `    warehouse: ${path.join(base, `wh-${n}`)}`);
    }
    const file = path.join(base, `catalogs-${names.join('-')}.yaml`);
    writeFileSync(file, `${lines.join('\n')}\n${extra}`);
    return { file, db };
  }

  it('--catalog, else default-catalog, else the only catalog, else dr; verify follows the same rule', () => {
    const s = sample('cli-opt-catalog');
    const two = config(s.base, ['prod', 'standby'], 'default-catalog: standby\n');
    const byDefault = runCli(['sync', '--config', two.file, ...s.args, '--json']);
    assert.equal(byDefault.code, 0, byDefault.stderr);
    assert.deepEqual(catalogsHoldingTable(two.db('standby')), ['standby']);
    assert.equal(existsSync(two.db('prod')), false, 'the other catalog is not opened');
    const verify = runCli(['verify', '--config', two.file, ...s.table, '--json']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.equal(verify.json?.ok, true);

    const byFlag = runCli(['sync', '--config', two.file, '--catalog', 'prod', ...s.args, '--json']);
    assert.equal(byFlag.code, 0, byFlag.stderr);
    assert.deepEqual(catalogsHoldingTable(two.db('prod')), ['prod']);

    const only = config(s.base, ['solo']);
    const byOnly = runCli(['plan', '--config', only.file, ...s.args, '--json']);
    assert.equal(byOnly.code, 0, byOnly.stderr);
    assert.equal(byOnly.json?.status, 'planned');
    const added = runCli(['sync', '--config', only.file, ...s.args, '--json']);
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(catalogsHoldingTable(only.db('solo')), ['solo']);

    const withDr = config(s.base, ['dr', 'other']);
    const byName = runCli(['sync', '--config', withDr.file, ...s.args, '--json']);
    assert.equal(byName.code, 0, byName.stderr);
    assert.deepEqual(catalogsHoldingTable(withDr.db('dr')), ['dr']);

    const none = config(s.base, ['east', 'west']);
    const ambiguous = runCli(['sync', '--config', none.file, ...s.args, '--json']);
    assertUsageError(
      ambiguous,
      /name a catalog with --catalog .*: one of east, west/,
      'two catalogs, no default',
    );

    const env = { ...process.env, ICEBERG_SYNC_DEFAULT_CATALOG: 'west' };
    const fromEnv = runCli(['sync', '--config', none.file, ...s.args, '--json'], env);
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.deepEqual(catalogsHoldingTable(none.db('west')), ['west']);
  });
});

describe('iceberg-sync --quiet, --json and --log-format with warnings', () => {
  it('warnings go to stderr (text or JSON lines), never into stdout; --quiet silences them, not errors', () => {
    const s = sample('cli-opt-warn');
    const dr = path.join(s.base, 'dr');
    const first = runCli(['sync', '--warehouse', dr, ...s.args]);
    assert.equal(first.code, 0, first.stderr);
    const state = path.join(dr, 'sales', 'orders', 'metadata', '.iceberg-sync', 'state.json');
    assert.ok(existsSync(state), 'the run left its checkpoint');
    // A damaged checkpoint is a warning (the outputs are found again by path), not an error.
    const run = (...extra: string[]) => {
      writeFileSync(state, '{ not json');
      return runCli(['sync', '--warehouse', dr, ...s.args, ...extra]);
    };
    const warning = /ignoring unreadable sync state .*state\.json/;

    const text = run();
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stderr, new RegExp(`^iceberg-sync: warning: ${warning.source}`, 'm'));
    assert.doesNotMatch(text.stdout, warning);

    const json = run('--json');
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.json?.status, 'up-to-date');
    assert.match(json.stderr, warning);
    assert.doesNotMatch(json.stdout, warning);

    const jsonLogs = run('--json', '--log-format', 'json');
    assert.equal(jsonLogs.code, 0, jsonLogs.stderr);
    const lines = jsonLogs.stderr
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { level: string; msg: string; time: string });
    assert.ok(lines.length >= 2, jsonLogs.stderr);
    assert.ok(
      lines.some((l) => l.level === 'warn' && warning.test(l.msg)),
      jsonLogs.stderr,
    );
    assert.ok(
      lines.some((l) => l.level === 'info' && /^syncing /.test(l.msg)),
      jsonLogs.stderr,
    );
    assert.equal(jsonLogs.json?.status, 'up-to-date');

    const quiet = run('--quiet', '--json');
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, '', 'quiet: no progress, no warning');
    assert.equal(quiet.json?.status, 'up-to-date');

    const failing = runCli([
      'sync',
      '--warehouse',
      dr,
      ...s.table,
      '--table-location',
      path.join(s.base, 'nothing'),
      '--quiet',
    ]);
    assert.notEqual(failing.code, 0);
    assert.match(failing.stderr, /^iceberg-sync: error: /m, 'errors print even when quiet');
    const failingJson = runCli([
      'sync',
      '--warehouse',
      dr,
      ...s.table,
      '--table-location',
      path.join(s.base, 'nothing'),
      '--quiet',
      '--log-format',
      'json',
    ]);
    const error = JSON.parse(failingJson.stderr.trim()) as { level: string; code: string; exitCode: number };
    assert.equal(error.level, 'error');
    assert.equal(error.exitCode, failingJson.code);
  });
});

describe('iceberg-sync masks credentials in URLs', () => {
  /** Runs `args` as text, JSON report and JSON logs; asserts no secret in any output, and `***` in one. */
  function assertMasked(args: string[], label: string, expectCode: number, shown = true): CliRun[] {
    const runs = [
      runCli(args),
      runCli([...args, '--json']),
      runCli([...args, '--json', '--log-format', 'json']),
    ];
    for (const r of runs) {
      assert.equal(r.code, expectCode, `${label}: ${r.stderr}`);
      for (const [stream, out] of [
        ['stdout', r.stdout],
        ['stderr', r.stderr],
      ]) {
        assert.ok(!out!.includes(SECRET) && !out!.includes(TOKEN), `${label}: a secret on ${stream}: ${out}`);
      }
      if (shown) assert.match(r.stderr, /\*\*\*/, `${label}: the URL is shown, masked`);
    }
    if (shown) assert.match(String((runs[1]!.json?.error as { message?: string })?.message), /\*\*\*/);
    return runs;
  }

  it('on S3 settings: a catalog endpoint, a storage: endpoint, an endpoint from the environment, a bad endpoint', () => {
    const s = sample('cli-opt-mask-s3');
    const file = path.join(s.base, 's3.yaml');
    writeFileSync(
      file,
      [
        'catalog:',
        '  dr:',
        `    uri: sqlite:///${path.join(s.base, 'cat.db')}`,
        `    warehouse: ${path.join(s.base, 'wh')}`,
        `    s3.endpoint: http://user:${SECRET}@${CLOSED}`,
        '    s3.access-key-id: AK',
        `    s3.secret-access-key: ${SECRET}`,
        '    s3.max-attempts: 1',
        'storage:',
        '  s3://replica:',
        `    s3.endpoint: http://replica:${SECRET}@${CLOSED}/?X-Amz-Signature=${TOKEN}`,
        '    s3.max-attempts: 1',
        '',
      ].join('\n'),
    );
    const table = [...s.table, '--map', `${SOURCE_WAREHOUSE}=s3://bucket/warehouse`];
    assertMasked(
      ['sync', '--config', file, ...table, '--replicated-path', 's3://bucket/warehouse'],
      'catalog endpoint',
      6,
    );
    assertMasked(
      ['plan', '--config', file, ...table, '--replicated-path', 's3://replica/warehouse'],
      'storage endpoint',
      6,
    );
    assertMasked(['inspect', '--config', file, 's3://replica/warehouse/sales/orders'], 'inspect', 6);

    const envRun = runCli(
      [
        'sync',
        '--warehouse',
        path.join(s.base, 'wh2'),
        ...table,
        '--replicated-path',
        's3://bucket/warehouse',
        '--json',
      ],
      {
        ...process.env,
        AWS_ENDPOINT_URL_S3: `http://env:${SECRET}@${CLOSED}`,
        AWS_ACCESS_KEY_ID: 'AK',
        AWS_SECRET_ACCESS_KEY: 'SK',
        AWS_MAX_ATTEMPTS: '1',
      },
    );
    assert.equal(envRun.code, 6, envRun.stderr);
    assert.ok(!`${envRun.stdout}${envRun.stderr}`.includes(SECRET), envRun.stderr);

    const badFile = path.join(s.base, 'bad.yaml');
    writeFileSync(
      badFile,
      `catalog:\n  dr:\n    uri: sqlite:///${path.join(s.base, 'cat.db')}\n    s3.endpoint: ftp://user:${SECRET}@${CLOSED}\n`,
    );
    const [bad] = assertMasked(['sync', '--config', badFile, ...s.args], 'bad endpoint', 2);
    assert.match(
      bad!.stderr,
      /catalog\.dr\.s3\.endpoint: must be an http:\/\/ or https:\/\/ URL \(got 'ftp:\/\/user:\*\*\*@/,
    );
  });

  it('on WebHDFS settings: NameNode addresses, a webhdfs:// path with userinfo, a delegation token', () => {
    const s = sample('cli-opt-mask-hdfs');
    const write = (name: string, storage: string[]) => {
      const file = path.join(s.base, name);
      writeFileSync(
        file,
        [
          'catalog:',
          '  dr:',
          `    uri: sqlite:///${path.join(s.base, 'cat.db')}`,
          `    warehouse: ${path.join(s.base, 'wh')}`,
          `    hdfs.delegation-token: ${TOKEN}`,
          '    hdfs.max-attempts: 1',
          ...storage,
          '',
        ].join('\n'),
      );
      return file;
    };
    const plain = write('hdfs.yaml', [
      'storage:',
      '  hdfs://replica:',
      `    hdfs.namenodes: http://nn:${SECRET}@${CLOSED}`,
    ]);
    const bad = write('hdfs-bad.yaml', [
      'storage:',
      '  hdfs://replica:',
      `    hdfs.namenodes: ftp://nn:${SECRET}@${CLOSED}`,
    ]);
    const table = [...s.table, '--map', `${SOURCE_WAREHOUSE}=hdfs://drns/warehouse`];
    assertMasked(
      [
        'sync',
        '--config',
        plain,
        ...table,
        '--replicated-path',
        `webhdfs://etl:${SECRET}@${CLOSED}/warehouse`,
      ],
      'webhdfs userinfo',
      6,
    );
    // The NameNode's address is used without its userinfo, so there is nothing to mask.
    assertMasked(
      ['sync', '--config', plain, ...table, '--replicated-path', 'hdfs://replica/warehouse'],
      'namenode',
      6,
      false,
    );
    const [refused] = assertMasked(
      ['sync', '--config', bad, ...table, '--replicated-path', 'hdfs://replica/warehouse'],
      'bad namenode address',
      2,
    );
    assert.match(refused!.stderr, /storage\.hdfs:\/\/replica\.hdfs\.namenodes: 'ftp:\/\/nn:\*\*\*@/);
  });

  it('on catalog URIs', () => {
    const s = sample('cli-opt-mask-pg');
    mkdirSync(path.join(s.base, 'wh'));
    for (const uri of [
      `postgresql://etl:${SECRET}@${CLOSED}/iceberg`,
      `jdbc:postgresql://${CLOSED}/iceberg?user=etl&password=${SECRET}`,
      `mysql://etl:${SECRET}@${CLOSED}/iceberg`,
    ]) {
      const runs = [
        runCli(['sync', '--catalog-uri', uri, '--warehouse', path.join(s.base, 'wh'), ...s.args, '--json']),
      ];
      for (const r of runs) {
        assert.notEqual(r.code, 0);
        assert.ok(!`${r.stdout}${r.stderr}`.includes(SECRET), `${uri}: ${r.stderr}`);
      }
    }
  });
});
