/**
 * The deployment files under examples/ checked by the tools that will read them: the systemd
 * units by `systemd-analyze verify`, the Kubernetes manifests by kubernetes-validate in strict
 * mode with its bundled schemas (and a broken manifest refused), the alert rules by `promtool
 * check rules` and their unit tests by `promtool test rules`, the Grafana dashboard's queries by
 * promtool's PromQL parser against the metric names the tool exposes, the npm package holding
 * them all, and the cron run script.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { METRIC_NAMES } from '../../../src/metrics/metrics.ts';
import { cliBin, runCli } from '../../helpers/cli.ts';
import {
  harnessPython,
  parseExposition,
  requireKubernetesValidate,
  requirePromClientParser,
  requirePromtool,
  requireSystemdAnalyze,
  sampleValue,
} from '../../helpers/ops-tools.ts';
import { repoRoot, scratchDir } from '../../helpers/paths.ts';
import { requirement } from '../../helpers/requires.ts';
import { sampleSite } from '../../helpers/sample-site.ts';

const deploy = path.join(repoRoot, 'examples', 'deploy');
const k8sDir = path.join(deploy, 'kubernetes');
const unitsDir = path.join(deploy, 'systemd');

/** systemd-analyze verify of the units in `dir`: its exit code and everything it printed. */
function verifyUnits(dir: string, names: string[]) {
  const r = spawnSync('systemd-analyze', ['verify', ...names.map((n) => path.join(dir, n))], {
    encoding: 'utf8',
    env: { ...process.env, SYSTEMD_LOG_COLOR: '0' },
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/**
 * The units copied to a scratch directory with their command pointed at this checkout's
 * entry point: verify checks that the command exists, and this machine has no installed package.
 */
function unitsHere(label: string, edit: (name: string, text: string) => string = (_n, t) => t): string {
  const dir = scratchDir(label);
  for (const name of readdirSync(unitsDir)) {
    const text = readFileSync(path.join(unitsDir, name), 'utf8').replaceAll(
      '/usr/local/bin/iceberg-sync',
      cliBin,
    );
    writeFileSync(path.join(dir, name), edit(name, text));
  }
  return dir;
}

function kubernetesValidate(files: string[]) {
  const bin = path.join(path.dirname(harnessPython), 'kubernetes-validate');
  const r = spawnSync(bin, ['--strict', ...files], { encoding: 'utf8' });
  return { code: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

describe('deployment files', () => {
  describe('systemd units', requireSystemdAnalyze(), () => {
    const units = readdirSync(unitsDir).sort();

    it('pass systemd-analyze verify with nothing to report', () => {
      assert.deepEqual(units, ['iceberg-sync-watch.service', 'iceberg-sync.service', 'iceberg-sync.timer']);
      const r = verifyUnits(unitsHere('units'), units);
      assert.equal(r.code, 0, r.output);
      assert.equal(r.output, '', 'no findings');
      // The timer drives the oneshot service; the watch service reloads with SIGHUP.
      const timer = readFileSync(path.join(unitsDir, 'iceberg-sync.timer'), 'utf8');
      assert.match(timer, /^Unit=iceberg-sync\.service$/m);
      assert.match(readFileSync(path.join(unitsDir, 'iceberg-sync.service'), 'utf8'), /^Type=oneshot$/m);
      assert.match(
        readFileSync(path.join(unitsDir, 'iceberg-sync-watch.service'), 'utf8'),
        /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m,
      );
    });

    it('and verify reports a broken one', () => {
      const dir = unitsHere('units-broken', (name, text) =>
        name === 'iceberg-sync.timer'
          ? text.replace(/^OnCalendar=.*$/m, 'OnCalendar=every other tuesday')
          : text,
      );
      const r = verifyUnits(dir, units);
      assert.match(r.output, /iceberg-sync\.timer:\d+: Failed to parse calendar specification/);
    });
  });

  describe('Kubernetes manifests', requireKubernetesValidate(), () => {
    const manifests = readdirSync(k8sDir)
      .filter((n) => n.endsWith('.yaml'))
      .sort();

    it('pass kubernetes-validate in strict mode', () => {
      assert.deepEqual(manifests, [
        'configmap.yaml',
        'cronjob.yaml',
        'sharded-job.yaml',
        'watch-deployment.yaml',
      ]);
      const r = kubernetesValidate(manifests.map((m) => path.join(k8sDir, m)));
      assert.equal(r.code, 0, r.output);
      for (const resource of [
        'configmap/iceberg-sync-config',
        'cronjob/iceberg-sync',
        'job/iceberg-sync-sharded',
        'deployment/iceberg-sync-watch',
        'service/iceberg-sync-watch',
      ]) {
        assert.match(r.output, new RegExp(`passed for resource ${resource} `), resource);
      }
      assert.doesNotMatch(r.output, /WARN|ERROR/);
    });

    it('and refuse a broken one: a misspelled field, a value of the wrong type', () => {
      const dir = scratchDir('k8s-broken');
      const cron = readFileSync(path.join(k8sDir, 'cronjob.yaml'), 'utf8');
      const job = readFileSync(path.join(k8sDir, 'sharded-job.yaml'), 'utf8');
      const cases = {
        'misspelled.yaml': cron.replace('  concurrencyPolicy: Forbid', '  concurencyPolicy: Forbid'),
        'wrong-type.yaml': job.replace('  completions: 4', '  completions: four'),
      };
      for (const [name, text] of Object.entries(cases)) {
        assert.notEqual(text, name.startsWith('m') ? cron : job, `${name} differs from the original`);
        writeFileSync(path.join(dir, name), text);
        const r = kubernetesValidate([path.join(dir, name)]);
        assert.notEqual(r.code, 0, `${name}: ${r.output}`);
        assert.match(r.output, name === 'misspelled.yaml' ? /concurencyPolicy/ : /four/);
      }
    });

    it('run the shard of each index and probe the health endpoints', () => {
      const job = readFileSync(path.join(k8sDir, 'sharded-job.yaml'), 'utf8');
      assert.match(job, /completionMode: Indexed/);
      assert.match(job, /- \$\(JOB_COMPLETION_INDEX\)\/4/);
      const watch = readFileSync(path.join(k8sDir, 'watch-deployment.yaml'), 'utf8');
      assert.match(watch, /livenessProbe:\n\s+httpGet:\n\s+path: \/healthz/);
      assert.match(watch, /readinessProbe:\n\s+httpGet:\n\s+path: \/readyz/);
      assert.match(watch, /terminationGracePeriodSeconds: 900/);
    });
  });

  describe('alert rules and the Grafana dashboard', requirePromtool(), () => {
    const promDir = path.join(deploy, 'prometheus');

    it('the alert rules pass promtool check rules and their unit tests', () => {
      const check = spawnSync('promtool', ['check', 'rules', 'iceberg-sync-alerts.yaml'], {
        cwd: promDir,
        encoding: 'utf8',
      });
      assert.equal(check.status, 0, check.stdout + check.stderr);
      assert.match(check.stdout, /SUCCESS: 6 rules found/);
      const t = spawnSync('promtool', ['test', 'rules', 'iceberg-sync-alerts.test.yaml'], {
        cwd: promDir,
        encoding: 'utf8',
      });
      assert.equal(t.status, 0, t.stdout + t.stderr);
    });

    it("the dashboard's queries parse as PromQL and name only metrics the tool exposes", () => {
      const dash = JSON.parse(
        readFileSync(path.join(repoRoot, 'examples', 'grafana', 'iceberg-sync-dashboard.json'), 'utf8'),
      );
      const exprs: string[] = [];
      const visit = (v: unknown) => {
        if (Array.isArray(v)) v.forEach(visit);
        else if (v && typeof v === 'object') {
          for (const [k, x] of Object.entries(v)) {
            if (k === 'expr' && typeof x === 'string') exprs.push(x);
            else visit(x);
          }
        }
      };
      visit(dash.panels);
      assert.ok(exprs.length >= 15);
      // Grafana's variables, as Grafana fills them in.
      const filled = exprs.map((e) =>
        e.replaceAll('$__rate_interval', '5m').replaceAll('$job', '.*').replaceAll('$table', '.*'),
      );
      const dir = scratchDir('dashboard');
      const rules = {
        groups: [
          { name: 'dashboard', rules: filled.map((expr, i) => ({ record: `dashboard:q${i}`, expr })) },
        ],
      };
      writeFileSync(path.join(dir, 'rules.json'), JSON.stringify(rules));
      const check = spawnSync('promtool', ['check', 'rules', path.join(dir, 'rules.json')], {
        encoding: 'utf8',
      });
      assert.equal(check.status, 0, check.stdout + check.stderr);
      const known = new Set<string>(Object.values(METRIC_NAMES));
      const histogram = `${METRIC_NAMES.runDuration}_bucket`;
      for (const e of exprs) {
        for (const [name] of e.matchAll(/\b(?:iceberg_sync|process)_[a-z_]+\b/g)) {
          assert.ok(known.has(name) || name === histogram || name.startsWith('process_'), `${name} in ${e}`);
        }
      }
    });
  });

  it('ship in the npm package, with the run script', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const files = new Set(
      (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path),
    );
    for (const f of [
      'examples/deploy/iceberg-sync-run.sh',
      'examples/deploy/cron/iceberg-sync.cron',
      'examples/deploy/systemd/iceberg-sync.service',
      'examples/deploy/systemd/iceberg-sync.timer',
      'examples/deploy/systemd/iceberg-sync-watch.service',
      'examples/deploy/kubernetes/cronjob.yaml',
      'examples/deploy/kubernetes/watch-deployment.yaml',
      'examples/deploy/kubernetes/sharded-job.yaml',
      'examples/deploy/prometheus/iceberg-sync-alerts.yaml',
      'examples/grafana/iceberg-sync-dashboard.json',
      'bin/iceberg-sync.js',
    ]) {
      assert.ok(files.has(f), `${f} is in the package`);
    }
  });

  describe('the cron run script', () => {
    const script = path.join(deploy, 'iceberg-sync-run.sh');

    it('leaves a run still going alone: logs it and exits 0', async () => {
      const dir = scratchDir('run-script-lock');
      const logDir = path.join(dir, 'log');
      mkdirSync(logDir);
      const config = path.join(dir, 'dr.yaml');
      writeFileSync(config, 'catalog: {}\n');
      // Another run holds the lock (flock on the same file, as the script takes it).
      const holder = spawn('flock', [path.join(logDir, '.run.lock'), 'sleep', '30'], { stdio: 'ignore' });
      try {
        for (let i = 0; i < 100 && !existsSync(path.join(logDir, '.run.lock')); i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        // flock has the file open once it exists; give it the moment to take the lock.
        let r: ReturnType<typeof spawnSync> | undefined;
        for (let i = 0; i < 50; i++) {
          r = spawnSync('bash', [script], {
            encoding: 'utf8',
            env: {
              ...process.env,
              ICEBERG_SYNC_CONFIG: config,
              ICEBERG_SYNC_BIN: cliBin,
              ICEBERG_SYNC_LOG_DIR: logDir,
            },
          });
          if (/still going/.test(String(r.stderr))) break;
          await new Promise((res) => setTimeout(res, 100));
        }
        assert.equal(r!.status, 0, String(r!.stderr));
        assert.match(String(r!.stderr), /the previous run is still going/);
        assert.match(
          readFileSync(path.join(logDir, 'runs.log'), 'utf8'),
          /^\d{8}T\d{6}Z skipped: the previous run is still going$/m,
        );
      } finally {
        holder.kill();
      }
    });

    it('refuses a configuration it cannot read with exit 2', () => {
      const r = spawnSync('bash', [script], {
        encoding: 'utf8',
        env: { ...process.env, ICEBERG_SYNC_CONFIG: '/nonexistent/dr.yaml', ICEBERG_SYNC_BIN: cliBin },
      });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /cannot read the configuration \/nonexistent\/dr\.yaml/);
    });

    const hasSyncAll = /^\s+sync-all\b/m.test(runCli(['--help']).stdout);
    describe(
      'over the real sync-all',
      requirement('the sync-all command', hasSyncAll ? false : 'this build has no sync-all command'),
      () => {
        it(
          'runs sync-all, writes the metrics textfile, keeps the log and report, exits with its code',
          requirePromClientParser(),
          () => {
            const s = sampleSite('run-script');
            const dir = s.base;
            const config = path.join(dir, 'dr.yaml');
            writeFileSync(
              config,
              [
                'catalog:',
                '  dr:',
                `    uri: sqlite:///${s.dbFile}`,
                `    warehouse: ${s.dr}`,
                'replication:',
                '  catalog: dr',
                `  replicated-paths: [${s.replica}]`,
                `  map: ['${s.args[s.args.indexOf('--map') + 1]}']`,
                '',
              ].join('\n'),
            );
            const logDir = path.join(dir, 'log');
            const metrics = path.join(dir, 'textfile', 'iceberg-sync.prom');
            mkdirSync(path.dirname(metrics));
            const env = {
              ...process.env,
              ICEBERG_SYNC_CONFIG: config,
              ICEBERG_SYNC_BIN: cliBin,
              ICEBERG_SYNC_LOG_DIR: logDir,
              ICEBERG_SYNC_METRICS_FILE: metrics,
            };
            const r = spawnSync('bash', [script], { encoding: 'utf8', env });
            assert.equal(r.status, 0, r.stderr);
            const runs = readFileSync(path.join(logDir, 'runs.log'), 'utf8').trim().split('\n');
            assert.equal(runs.length, 1);
            const m = /exit=0 seconds=\d+ log=(\S+) report=(\S+)$/.exec(runs[0]!);
            assert.ok(m, runs[0]);
            const report = JSON.parse(readFileSync(m[2]!, 'utf8')) as {
              status: string;
              tables: { table: string; status: string }[];
            };
            assert.deepEqual(
              report.tables.map((t) => [t.table, t.status]),
              [['sales.orders', 'committed']],
            );
            for (const line of readFileSync(m[1]!, 'utf8').trim().split('\n')) JSON.parse(line);
            const families = parseExposition(readFileSync(metrics, 'utf8'));
            const table = { table: 'sales.orders' };
            assert.equal(
              sampleValue(families, 'iceberg_sync_table_runs_total', { ...table, result: 'committed' }),
              1,
            );
            assert.equal(
              sampleValue(families, 'iceberg_sync_table_lag_seconds', table),
              0,
              'the whole sample is committed',
            );
            assert.equal(sampleValue(families, 'iceberg_sync_last_run_exit_code'), 0);
            assert.ok(sampleValue(families, 'iceberg_sync_table_last_success_timestamp_seconds', table)! > 0);

            // The next run adds to the counters of the first one.
            const again = spawnSync('bash', [script], { encoding: 'utf8', env });
            assert.equal(again.status, 0, again.stderr);
            const next = parseExposition(readFileSync(metrics, 'utf8'));
            assert.equal(
              sampleValue(next, 'iceberg_sync_table_runs_total', { ...table, result: 'up-to-date' }),
              1,
            );
            assert.equal(
              sampleValue(next, 'iceberg_sync_table_runs_total', { ...table, result: 'committed' }),
              1,
            );
            assert.equal(readFileSync(path.join(logDir, 'runs.log'), 'utf8').trim().split('\n').length, 2);
          },
        );
      },
    );
  });
});
