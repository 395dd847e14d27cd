/** The replication: policy of the configuration file: parsing, defaults, overrides, errors naming the key. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/errors.ts';
import { metadataRootFor, parsePolicy, tableSettings } from '../../../src/warehouse/policy.ts';

const catalogs = `
catalog:
  dr:
    uri: sqlite:////srv/dr/catalog.db
    warehouse: /srv/dr/wh
`;

const parse = (text: string, overrides = {}) => parsePolicy(text, overrides, { source: 'dr.yaml', env: {} });

async function refused(text: string, message: RegExp): Promise<void> {
  await assert.rejects(parse(text), (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.match(err.message, message);
    return true;
  });
}

describe('warehouse policy', () => {
  it('reads roots, rules in both spellings, globs and durations, with defaults for the rest', async () => {
    const p = await parse(`${catalogs}
replication:
  replicated-paths: [/srv/replica/a, /srv/replica/b]
  map:
    - hdfs://prod-nn:8020/warehouse=/srv/replica/a
  include: 'sales.*'
  rpo: 15m
  tables:
    sales.orders:
      map: { 'hdfs://other/wh/orders': /srv/replica/b/orders }
      rpo: 90s
    web.clicks: { mode: add-files, location: /srv/landing/clicks, settle: 5m, create: { partition-by: ['dt:date'] } }
`);
    assert.equal(p.catalogName, 'dr');
    assert.equal(p.catalog.type, 'sql');
    assert.deepEqual(p.replicatedPaths, ['/srv/replica/a', '/srv/replica/b']);
    assert.deepEqual(p.mappings, [{ source: 'hdfs://prod-nn:8020/warehouse', target: '/srv/replica/a' }]);
    assert.deepEqual(p.include, ['sales.*']);
    assert.deepEqual(p.exclude, []);
    assert.equal(p.rpoMs, 900_000);
    assert.equal(p.concurrency, 4);
    assert.equal(p.settleMs, 60_000);
    const orders = tableSettings(p, ['sales'], 'orders');
    assert.equal(orders.rpoMs, 90_000);
    assert.equal(orders.mode, 'rewrite');
    assert.deepEqual(
      orders.mappings.map((m) => m.source),
      ['hdfs://other/wh/orders', 'hdfs://prod-nn:8020/warehouse'],
      "the table's own rules come first",
    );
    assert.equal(orders.metadataRoot, '/srv/dr/wh/sales/orders/metadata');
    const clicks = tableSettings(p, ['web'], 'clicks');
    assert.equal(clicks.mode, 'add-files');
    assert.equal(clicks.settleMs, 300_000);
    assert.deepEqual(clicks.override?.create, { partitionBy: ['dt:date'] });
    assert.equal(clicks.override?.location, '/srv/landing/clicks');
  });

  it('takes command-line flags over the file', async () => {
    const p = await parse(
      `${catalogs}\nreplication:\n  replicated-path: /srv/replica\n  include: ['a.*']\n  concurrency: 2\n`,
      {
        replicatedPaths: ['/other/replica'],
        mappings: ['s3://src/wh=/other/replica'],
        include: ['b.*'],
        exclude: ['b.tmp'],
        concurrency: 9,
        metadataRoot: '/srv/meta/{namespace}/{table}',
      },
    );
    assert.deepEqual(p.replicatedPaths, ['/other/replica']);
    assert.deepEqual(p.mappings, [{ source: 's3://src/wh', target: '/other/replica' }]);
    assert.deepEqual(p.include, ['b.*']);
    assert.deepEqual(p.exclude, ['b.tmp']);
    assert.equal(p.concurrency, 9);
    assert.equal(metadataRootFor(p, ['b'], 't'), '/srv/meta/b/t');
  });

  it('fills a metadata-root template, or puts <ns>/<table>/metadata below a plain directory', async () => {
    const a = await parse(`${catalogs}\nreplication:\n  replicated-path: /r\n  metadata-root: /m\n`);
    assert.equal(metadataRootFor(a, ['x', 'y'], 't'), '/m/x/y/t/metadata');
    const b = await parse(
      `${catalogs}\nreplication:\n  replicated-path: /r\n  metadata-root: /m/{table}@{namespace}\n`,
    );
    assert.equal(metadataRootFor(b, ['x'], 't'), '/m/t@x');
  });

  it('works from flags alone, without a file', async () => {
    const p = await parsePolicy('', { replicatedPaths: ['/r'], warehouse: '/dr' }, { env: {} });
    assert.equal(p.catalogName, 'dr');
    assert.equal(p.catalog.type, 'sql');
    assert.equal(metadataRootFor(p, ['n'], 't'), '/dr/n/t/metadata');
  });

  it('refuses unknown keys and bad values, naming the file and the key', async () => {
    await refused(
      `${catalogs}\nreplication:\n  replicated-path: /r\n  concurency: 3\n`,
      /dr\.yaml: replication: .*concurency/,
    );
    await refused(
      `${catalogs}\nreplication:\n  replicated-path: /r\n  concurrency: 0\n`,
      /replication\.concurrency: must be a positive whole number \(got 0\)/,
    );
    await refused(
      `${catalogs}\nreplication:\n  replicated-path: /r\n  rpo: soon\n`,
      /replication\.rpo: must be/,
    );
    await refused(
      `${catalogs}\nreplication:\n  replicated-path: /r\n  tables:\n    a.b: { mode: copy }\n`,
      /replication\.tables\.a\.b\.mode: must be rewrite or add-files/,
    );
    await refused(
      `${catalogs}\nreplication:\n  replicated-path: /r\n  tables:\n    a.b: { settle: -1 }\n`,
      /replication\.tables\.a\.b\.settle: must be/,
    );
    await refused(
      `${catalogs}\nreplication:\n  replicated-path: /r\n  tables:\n    orders: {}\n`,
      /replication\.tables\.orders: a table is named namespace\.table/,
    );
    await refused(
      `${catalogs}\nreplication:\n  replicated-path: /r\n  tables:\n    a.b: { mode: add-files }\n`,
      /replication\.tables\.a\.b\.location: required for an add-files table/,
    );
    await refused(
      `${catalogs}\nreplication:\n  map: ['nonsense']\n  replicated-path: /r\n`,
      /replication\.map\[0\]: 'nonsense' is not of the form/,
    );
    await refused(`${catalogs}\nreplication:\n  include: ['*']\n`, /replication\.replicated-paths: required/);
    await refused(
      `${catalogs}\nreplication:\n  replicated-path: /r\n  catalog: nope\n`,
      /catalog 'nope' is not configured/,
    );
    await refused('replication: [1, 2]\n', /replication: /);
    await refused(
      'catalog:\n  h: { type: hadoop, warehouse: /dr }\nreplication:\n  replicated-path: /r\n  metadata-root: /m\n',
      /replication\.metadata-root: a hadoop catalog keeps metadata in its warehouse/,
    );
  });
});

describe('the policy template', () => {
  it('config/warehouse.example.yaml parses as it stands', async () => {
    const { readFileSync } = await import('node:fs');
    const { repoRoot } = await import('../../helpers/paths.ts');
    const file = `${repoRoot}/config/warehouse.example.yaml`;
    const p = await parsePolicy(readFileSync(file, 'utf8'), {}, { source: file, env: {} });
    assert.equal(p.catalogName, 'dr');
    assert.deepEqual(p.replicatedPaths, ['/ifs/dr/warehouse']);
    assert.equal(p.mappings.length, 2);
    assert.equal(tableSettings(p, ['web'], 'clicks').mode, 'add-files');
    assert.equal(tableSettings(p, ['sales'], 'orders').rpoMs, 900_000);
    assert.equal(p.tables['finance.ledger_legacy']?.disabled, true);
  });
});
