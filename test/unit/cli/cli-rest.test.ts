/**
 * The command line against Iceberg's reference REST catalog (private servers, fresh databases):
 * register, then server-side commits of later versions; no-op reruns; verify; the replica never
 * written, by us or by the catalog; conflicts with another writer; answers lost or refused in
 * flight (a fault proxy in front of the real server); the server stopped and restarted; two runs
 * at once; credentials refused.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { type JsonObject, parseJson } from '../../../src/util/json.ts';
import { type CliRun, runCliAsync } from '../../helpers/cli.ts';
import { type Fault, startFaultProxy } from '../../helpers/fault-proxy.ts';
import { writeDataFile } from '../../helpers/parquet-files.ts';
import { scratchDir } from '../../helpers/paths.ts';
import { requireServer } from '../../helpers/requires.ts';
import { type RestServer, restSkipReason, startRestServer } from '../../helpers/rest.ts';
import { checksums, type SampleSite, sampleSite } from '../../helpers/sample-site.ts';

const servers: RestServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function server(options: Parameters<typeof startRestServer>[0] = {}): Promise<RestServer> {
  const s = await startRestServer(options);
  servers.push(s);
  return s;
}

/** The sample site with its newest two versions held back (not replicated yet). */
function site(prefix: string) {
  const s = sampleSite(prefix);
  // Checksums of the whole replica, as it is once every version has arrived.
  const replicated = checksums(s.replica);
  const held = path.join(s.base, 'held');
  mkdirSync(held);
  for (const v of ['v7.metadata.json', 'v8.metadata.json'])
    renameSync(path.join(s.metadataDir, v), path.join(held, v));
  const release = () => {
    for (const v of ['v7.metadata.json', 'v8.metadata.json'])
      renameSync(path.join(held, v), path.join(s.metadataDir, v));
  };
  return { ...s, release, replicated, root: path.join(s.base, 'dr-metadata') };
}

/** The table arguments against a REST catalog at `uri` (the sample's, without its SQLite warehouse). */
function restArgs(s: SampleSite & { root: string }, uri: string): string[] {
  return ['--catalog-type', 'rest', '--catalog-uri', uri, '--metadata-root', s.root, ...s.args.slice(2)];
}

async function load(
  uri: string,
): Promise<{ location: string; metadata: Record<string, unknown> } | undefined> {
  const r = await fetch(`${uri}/v1/namespaces/sales/tables/orders`);
  if (r.status === 404) return undefined;
  const body = (await r.json()) as { 'metadata-location': string; metadata: Record<string, unknown> };
  return { location: body['metadata-location'], metadata: body.metadata };
}

/** Current snapshot id as text (read from the raw JSON, so no 64-bit id passes through a number). */
async function currentSnapshot(uri: string): Promise<string | undefined> {
  const r = await fetch(`${uri}/v1/namespaces/sales/tables/orders`);
  return /"current-snapshot-id"\s*:\s*(-?\d+)/.exec(await r.text())?.[1];
}

const ok = (r: CliRun, what: string) => assert.equal(r.code, 0, `${what}: ${r.stderr}${r.stdout}`);

describe('sync into an Iceberg REST catalog', requireServer('Iceberg REST catalog', restSkipReason), () => {
  it('registers, moves forward with a server-side commit, stays put on a rerun; verify passes; the replica is untouched', async () => {
    const rest = await server();
    const s = site('rest-sync');
    const args = restArgs(s, rest.uri);
    const plan = await runCliAsync(['plan', ...args, '--json']);
    ok(plan, 'plan');
    assert.equal(plan.json?.status, 'planned');
    const namespaces = (await (await fetch(`${rest.uri}/v1/namespaces`)).json()) as { namespaces: unknown[] };
    assert.deepEqual(namespaces.namespaces, [], 'a plan creates nothing in the catalog');
    const first = await runCliAsync(['sync', ...args, '--json']);
    ok(first, 'first sync');
    assert.equal(first.json?.status, 'committed', 'v6, the newest version replicated so far');
    const registered = await load(rest.uri);
    assert.equal(registered?.location, first.json?.metadataLocation);
    assert.ok(String(registered?.location).startsWith(s.root), 'registered from the metadata root');

    s.release();
    const second = await runCliAsync(['sync', ...args, '--json']);
    ok(second, 'second sync');
    assert.equal(second.json?.status, 'committed');
    const moved = await load(rest.uri);
    assert.equal(moved?.location, second.json?.metadataLocation, 'the report names what the catalog holds');
    assert.notEqual(moved?.location, registered?.location);
    assert.ok(
      String(moved?.location).startsWith(s.root),
      "the catalog's own file is under the metadata root",
    );
    assert.equal(await currentSnapshot(rest.uri), String(second.json?.snapshotId));
    const props = moved?.metadata.properties as Record<string, string>;
    assert.equal(props['write.metadata.path'], path.dirname(String(moved?.location)));
    // Every snapshot and ref of the source is there (ids compared as text: they exceed 2^53).
    const source = parseJson(
      readFileSync(path.join(s.metadataDir, 'v8.metadata.json'), 'utf8'),
    ) as JsonObject;
    const served = parseJson(
      await (await fetch(`${rest.uri}/v1/namespaces/sales/tables/orders`)).text(),
    ) as JsonObject;
    const ids = (m: JsonObject) => (m.snapshots as JsonObject[]).map((x) => String(x['snapshot-id'])).sort();
    const refs = (m: JsonObject) =>
      Object.entries(m.refs as Record<string, JsonObject>)
        .map(([k, r]) => `${k}=${r['snapshot-id']}`)
        .sort();
    assert.deepEqual(ids(served.metadata as JsonObject), ids(source));
    assert.deepEqual(refs(served.metadata as JsonObject), refs(source));

    const third = await runCliAsync(['sync', ...args, '--json']);
    ok(third, 'third sync');
    assert.equal(third.json?.status, 'up-to-date');
    assert.equal((await load(rest.uri))?.location, moved?.location, 'a no-op run commits nothing');

    const verify = await runCliAsync(['verify', ...args, '--json']);
    ok(verify, 'verify');
    assert.deepEqual(
      checksums(s.replica),
      s.replicated,
      'neither the tool nor the catalog wrote into the replica',
    );
  });

  it('another writer commits between our load and our commit: exit 5, the table keeps their commit; the next run stops at exit 9', async () => {
    const rest = await server();
    const s = site('rest-conflict');
    ok(await runCliAsync(['sync', ...restArgs(s, rest.uri), '--json']), 'first sync');
    const theirs = await load(rest.uri);
    const snapshots = theirs?.metadata.snapshots as {
      'snapshot-id': number;
      'parent-snapshot-id'?: number;
    }[];
    s.release();
    let injected = false;
    const proxy = await startFaultProxy(rest.uri, (r): Fault | undefined => {
      if (r.method !== 'POST' || !r.url.endsWith('/tables/orders') || injected) return undefined;
      injected = true;
      // Another writer rolls main back one snapshot, guarded as any writer's commit is.
      return {
        before: async () => {
          const raw = await (await fetch(`${rest.uri}/v1/namespaces/sales/tables/orders`)).text();
          const current = /"current-snapshot-id"\s*:\s*(\d+)/.exec(raw)![1]!;
          const parent = new RegExp(
            `"parent-snapshot-id"\\s*:\\s*(\\d+)[^}]*"snapshot-id"\\s*:\\s*${current}|"snapshot-id"\\s*:\\s*${current}[^}]*"parent-snapshot-id"\\s*:\\s*(\\d+)`,
          ).exec(raw);
          const target = parent?.[1] ?? parent?.[2];
          assert.ok(target, `a parent of ${current} in ${snapshots.length} snapshots`);
          const body = `{"identifier":{"namespace":["sales"],"name":"orders"},"requirements":[{"type":"assert-ref-snapshot-id","ref":"main","snapshot-id":${current}}],"updates":[{"action":"set-snapshot-ref","ref-name":"main","type":"branch","snapshot-id":${target}}]}`;
          const res = await fetch(`${rest.uri}/v1/namespaces/sales/tables/orders`, { method: 'POST', body });
          assert.equal(res.status, 200, await res.text());
          writeFileSync(path.join(s.base, 'theirs.txt'), target);
        },
      };
    });
    try {
      const ours = await runCliAsync(['sync', ...restArgs(s, proxy.uri), '--json']);
      assert.equal(ours.code, 5, ours.stderr);
      assert.match(ours.stderr, /changed since it was loaded|CommitFailed/);
      assert.ok(injected);
    } finally {
      await proxy.close();
    }
    const after = await load(rest.uri);
    assert.notEqual(after?.location, theirs?.location, 'their commit stands');
    const next = await runCliAsync(['sync', ...restArgs(s, rest.uri), '--json']);
    assert.equal(next.code, 9, `the DR table is someone else's now: ${next.stderr}`);
    assert.equal((await load(rest.uri))?.location, after?.location, 'and stays so');
  });

  it('a commit that landed but whose answer was lost (502) counts as committed, once', async () => {
    const rest = await server();
    const s = site('rest-lost-answer');
    ok(await runCliAsync(['sync', ...restArgs(s, rest.uri), '--json']), 'first sync');
    const registered = await load(rest.uri);
    assert.ok(registered);
    const registeredLog = (registered.metadata['metadata-log'] as unknown[]).length;
    s.release();
    let commits = 0;
    const proxy = await startFaultProxy(rest.uri, (r): Fault | undefined => {
      if (r.method === 'POST' && r.url.endsWith('/tables/orders')) {
        commits++;
        if (commits === 1) return { forwardThenRespond: { status: 502, body: 'bad gateway' } };
      }
      return undefined;
    });
    try {
      const r = await runCliAsync(['sync', ...restArgs(s, proxy.uri), '--json']);
      ok(r, 'sync through a lost answer');
      assert.equal(r.json?.status, 'committed');
      assert.equal(commits, 1, 'decided by reloading, not by committing again');
      const now = await load(rest.uri);
      assert.equal(now?.location, r.json?.metadataLocation);
      const log = now?.metadata['metadata-log'] as unknown[];
      assert.equal(log.length, registeredLog + 1, 'one server-side commit after the registration');
    } finally {
      await proxy.close();
    }
    ok(await runCliAsync(['verify', ...restArgs(s, rest.uri)]), 'verify');
  });

  it('a commit loads the table once: the commit starts from the load of the run, not from a second GET', async () => {
    const rest = await server();
    const s = site('rest-one-load');
    ok(await runCliAsync(['sync', ...restArgs(s, rest.uri), '--json']), 'first sync');
    s.release();
    const proxy = await startFaultProxy(rest.uri, () => undefined);
    let r: CliRun;
    try {
      r = await runCliAsync(['sync', ...restArgs(s, proxy.uri), '--json']);
    } finally {
      await proxy.close();
    }
    ok(r, 'second sync');
    assert.equal(r.json?.status, 'committed');
    const table = /^(GET|POST) \/v1\/namespaces\/sales\/tables\/orders(\?|$)/;
    const calls = proxy.log.filter((l) => table.test(l)).map((l) => l.split(' ')[0]);
    assert.deepEqual(calls, ['GET', 'POST'], `requests on the table:\n${proxy.log.join('\n')}`);
    assert.equal((await load(rest.uri))?.location, r.json?.metadataLocation);
  });

  it('rides out a 503 storm with Retry-After, and a commit refused with 503 is sent again', async () => {
    const rest = await server();
    const s = site('rest-503');
    let gets = 0;
    let refusedCommits = 0;
    const proxy = await startFaultProxy(rest.uri, (r): Fault | undefined => {
      if (r.method === 'GET' && gets++ < 3) {
        return {
          respond: {
            status: 503,
            headers: { 'retry-after': '1' },
            body: '{"error":{"message":"busy","type":"ServiceUnavailable","code":503}}',
          },
        };
      }
      if (r.method === 'POST' && r.url.endsWith('/tables/orders') && refusedCommits++ < 1) {
        return {
          respond: {
            status: 503,
            body: '{"error":{"message":"busy","type":"ServiceUnavailable","code":503}}',
          },
        };
      }
      return undefined;
    });
    try {
      ok(await runCliAsync(['sync', ...restArgs(s, proxy.uri), '--json']), 'first sync through 503s');
      s.release();
      const r = await runCliAsync(['sync', ...restArgs(s, proxy.uri), '--json']);
      ok(r, 'second sync through a refused commit');
      assert.equal(r.json?.status, 'committed');
      assert.ok(gets >= 3 && refusedCommits >= 1, `${gets} GETs, ${refusedCommits} commits refused`);
      assert.equal((await load(rest.uri))?.location, r.json?.metadataLocation);
    } finally {
      await proxy.close();
    }
  });

  it('the server stopped mid-way: a clear error (exit 6), the catalog as it was; after a restart the run completes', async () => {
    const rest = await server();
    const s = site('rest-stopped');
    ok(await runCliAsync(['sync', ...restArgs(s, rest.uri), '--json']), 'first sync');
    const before = await load(rest.uri);
    await rest.stop();
    s.release();
    const down = await runCliAsync(['sync', ...restArgs(s, rest.uri), '--json']);
    assert.equal(down.code, 6, down.stderr);
    assert.match(down.stderr, /REST catalog|ECONNREFUSED|connect/i);
    const again = await server({ database: rest.database, warehouse: rest.warehouse });
    assert.equal((await load(again.uri))?.location, before?.location, 'nothing changed while it was down');
    const r = await runCliAsync(['sync', ...restArgs(s, again.uri), '--json']);
    ok(r, 'sync after the restart');
    assert.equal(r.json?.status, 'committed');
    ok(
      await runCliAsync(['verify', ...restArgs(s, again.uri)]),
      'verify: every file the catalog names is there',
    );
  });

  it('two runs at once: one commits, the other is refused or finds it done; verify passes', async () => {
    const rest = await server();
    const s = site('rest-two');
    s.release();
    const results = await Promise.all([
      runCliAsync(['sync', ...restArgs(s, rest.uri), '--json']),
      runCliAsync(['sync', ...restArgs(s, rest.uri), '--json']),
    ]);
    const codes = results.map((r) => r.code).sort();
    assert.ok(codes[0] === 0, `one run succeeds: ${results.map((r) => r.stderr).join('\n')}`);
    assert.ok(codes[1] === 0 || codes[1] === 5, `the other succeeds (up to date) or is refused: ${codes}`);
    const committed = results.filter((r) => r.json?.status === 'committed');
    assert.equal(committed.length, 1, 'exactly one commit');
    assert.equal((await load(rest.uri))?.location, committed[0]?.json?.metadataLocation);
    ok(await runCliAsync(['verify', ...restArgs(s, rest.uri)]), 'verify');
  });

  it('add-files: creates the table by registration, appends by server-side commits, reruns add nothing; verify passes', async () => {
    const rest = await server();
    const base = scratchDir('rest-addfiles');
    const data = path.join(base, 'replica', 'clicks');
    const args = [
      '--catalog-type',
      'rest',
      '--catalog-uri',
      rest.uri,
      '--metadata-root',
      path.join(base, 'dr-metadata'),
      '--database',
      'web',
      '--table',
      'clicks',
      '--replicated-path',
      data,
    ];
    writeDataFile(path.join(data, 'region=eu', 'a.parquet'), [1n, 2n]);
    writeDataFile(path.join(data, 'region=us', 'b.parquet'), [3n]);
    const replicaBefore = checksums(path.join(base, 'replica'));
    const first = await runCliAsync(['add-files', ...args, '--create', '--partition-by', 'region', '--json']);
    ok(first, 'create');
    assert.equal(first.json?.filesAdded, 2);
    assert.equal((await fetch(`${rest.uri}/v1/namespaces/web/tables/clicks`)).status, 200);
    writeDataFile(path.join(data, 'region=eu', 'c.parquet'), [4n, 5n, 6n]);
    const second = await runCliAsync(['add-files', ...args, '--json']);
    ok(second, 'append');
    assert.equal(second.json?.filesAdded, 1);
    const raw = await (await fetch(`${rest.uri}/v1/namespaces/web/tables/clicks`)).text();
    const served = parseJson(raw) as JsonObject;
    assert.equal(served['metadata-location'], second.json?.metadataLocation);
    const summary = ((served.metadata as JsonObject).snapshots as JsonObject[]).at(-1)?.summary as JsonObject;
    assert.equal(summary['total-data-files'], '3');
    assert.equal(summary['total-records'], '6');
    const third = await runCliAsync(['add-files', ...args, '--json']);
    ok(third, 'rerun');
    assert.equal(third.json?.filesAdded, 0);
    ok(await runCliAsync(['verify', ...args]), 'verify');
    const replicaAfter = checksums(path.join(base, 'replica'));
    for (const [f, sum] of replicaBefore) assert.equal(replicaAfter.get(f), sum, `${f} untouched`);
  });

  it('https with a CA bundle and custom headers; without the bundle a clear error', async (t) => {
    const rest = await server();
    const s = site('rest-tls');
    const dir = path.join(s.base, 'tls');
    mkdirSync(dir);
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          key,
          '-out',
          cert,
        ],
        { stdio: 'ignore' },
      );
    } catch {
      t.skip('openssl is not available to make a test certificate');
      return;
    }
    const headers: (string | undefined)[] = [];
    const proxy = await startFaultProxy(
      rest.uri,
      (r) => {
        headers.push(r.headers['x-dr-site'] as string | undefined);
        return undefined;
      },
      { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') },
    );
    try {
      const config = (withCa: boolean) => {
        const file = path.join(s.base, `tls-${withCa}.yaml`);
        const ssl = withCa ? `    ssl:\n      cabundle: ${cert}\n` : '';
        writeFileSync(
          file,
          `catalog:\n  dr:\n    type: rest\n    uri: ${proxy.uri}\n${ssl}    header:\n      X-Dr-Site: onefs-b\n`,
        );
        return ['--config', file, '--metadata-root', s.root, ...s.args.slice(2)];
      };
      const untrusted = await runCliAsync(['sync', ...config(false), '--json']);
      assert.equal(untrusted.code, 6, untrusted.stderr);
      assert.match(untrusted.stderr, /certificate/i);
      const trusted = await runCliAsync(['sync', ...config(true), '--json']);
      ok(trusted, 'sync over https with the CA bundle');
      assert.equal(trusted.json?.status, 'committed');
      assert.ok(
        headers.length > 0 && headers.every((h) => h === 'onefs-b'),
        `header on every request: ${headers}`,
      );
    } finally {
      await proxy.close();
    }
  });

  it('OAuth2: wrong client secret is a clear error that does not show the secret; the right one syncs', async () => {
    const rest = await server({ credential: 'dr-sync:s3cr3t-value', tokenTtlSeconds: 60 });
    const s = site('rest-oauth');
    const config = (credential: string) => {
      const file = path.join(s.base, `catalog-${credential.length}.yaml`);
      writeFileSync(
        file,
        `catalog:\n  dr:\n    type: rest\n    uri: ${rest.uri}\n    credential: ${credential}\n`,
      );
      return ['--config', file, '--metadata-root', s.root, ...s.args.slice(2)];
    };
    const bad = await runCliAsync(['sync', ...config('dr-sync:wrong-secret-xyz'), '--json']);
    assert.equal(bad.code, 6, bad.stderr);
    assert.match(bad.stderr, /OAuth2 token request .* failed: HTTP 401/);
    assert.doesNotMatch(bad.stderr + bad.stdout, /wrong-secret-xyz/);
    const good = await runCliAsync(['sync', ...config('dr-sync:s3cr3t-value'), '--json']);
    ok(good, 'sync with the right credential');
    assert.doesNotMatch(good.stderr + good.stdout, /s3cr3t-value/);
  });
});
