/**
 * Azure and GCS without a server: location spellings and their equivalence in path comparison,
 * mapping and the replica guard; the `adls.*` / `gcs.*` settings and how each Azure credential is
 * chosen; and that no secret reaches a message.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, IcebergSyncError } from '../../../src/errors.ts';
import { resolveAccountAccess } from '../../../src/storage/azure/credentials.ts';
import {
  AzureStorage,
  azureOptionsFromProperties,
  canonicalAzureAuthority,
  parseAzurePath,
} from '../../../src/storage/azure/index.ts';
import { GcsStorage, gcsOptionsFromProperties, parseGcsPath } from '../../../src/storage/gcs/index.ts';
import { backendForScheme, createStorageRouter } from '../../../src/storage/registry.ts';
import { isUnderDir, PathMapper, pathKey } from '../../../src/table/path-mapping.ts';
import { findReplicaOverlaps } from '../../../src/table/replica-guard.ts';
import { isSecretName, redactSecrets } from '../../../src/util/redact.ts';

const ABFSS = 'abfss://wh@acct.dfs.core.windows.net';
const WASBS = 'wasbs://wh@acct.blob.core.windows.net';

describe('Azure and GCS locations', () => {
  it('parses the ABFS and WASB spellings, with and without an account', () => {
    assert.deepEqual(parseAzurePath(`${ABFSS}/db/t/data/f.parquet`), {
      scheme: 'abfss',
      container: 'wh',
      account: 'acct',
      endpointSuffix: 'core.windows.net',
      host: 'acct.dfs.core.windows.net',
      blob: 'db/t/data/f.parquet',
    });
    const w = parseAzurePath('WASB://wh@Acct.blob.core.chinacloudapi.cn/x');
    assert.equal(w.scheme, 'wasb');
    assert.equal(w.account, 'acct');
    assert.equal(w.endpointSuffix, 'core.chinacloudapi.cn');
    assert.deepEqual(
      [parseAzurePath('abfs://wh/x/y').container, parseAzurePath('abfs://wh/x/y').account],
      ['wh', ''],
    );
    assert.equal(parseAzurePath(`${ABFSS}`).blob, '');
    for (const bad of ['abfss://', 'abfss://@acct.dfs.core.windows.net/x', 's3://b/k']) {
      assert.throws(() => parseAzurePath(bad), IcebergSyncError, bad);
    }
    assert.deepEqual(parseGcsPath('gs://b/a/b.parquet'), { bucket: 'b', object: 'a/b.parquet' });
    assert.deepEqual(parseGcsPath('gs://b'), { bucket: 'b', object: '' });
    assert.throws(() => parseGcsPath('gcs://b/x'), IcebergSyncError);
  });

  it('compares abfss, abfs, wasbs and wasb of one blob as one location', () => {
    assert.equal(canonicalAzureAuthority('WH@ACCT.BLOB.core.windows.net'), 'wh@acct.dfs.core.windows.net');
    const key = pathKey(`${ABFSS}/db/t/x`);
    for (const other of [
      `${WASBS}/db/t/x`,
      'abfs://wh@acct.dfs.core.windows.net/db//t/x/',
      'wasb://WH@ACCT.blob.core.windows.net/db/t/x',
    ]) {
      assert.equal(pathKey(other), key, other);
    }
    // Another container, another account, another cloud: other locations.
    for (const other of [
      'abfss://wh2@acct.dfs.core.windows.net/db/t/x',
      'abfss://wh@acct2.dfs.core.windows.net/db/t/x',
      'abfss://wh@acct.dfs.core.chinacloudapi.cn/db/t/x',
    ]) {
      assert.notEqual(pathKey(other), key, other);
    }
    assert.ok(isUnderDir(`${WASBS}/db/t/data/f`, `${ABFSS}/db/t`));
    assert.ok(!isUnderDir(`${ABFSS}/db/t2/f`, `${WASBS}/db/t`));
  });

  it('maps a path written in one spelling by a rule written in the other', () => {
    const m = new PathMapper([{ source: `${WASBS}/warehouse`, target: '/dr/replica' }]);
    assert.equal(m.map(`${ABFSS}/warehouse/db/t/data/f.parquet`), '/dr/replica/db/t/data/f.parquet');
    const back = new PathMapper([{ source: '/dr/replica', target: `${ABFSS}/warehouse` }]);
    assert.equal(back.map('/dr/replica/db/t/m.avro'), `${ABFSS}/warehouse/db/t/m.avro`);
    const gs = new PathMapper([{ source: 'gs://prod/wh', target: 'gs://dr/wh' }]);
    assert.equal(gs.map('gs://prod/wh/t/f'), 'gs://dr/wh/t/f');
    assert.equal(gs.maps('gs://prod/wh2/f'), false);
  });

  it('the replica guard refuses an output in the replica however it is spelled', async () => {
    const overlap = async (replica: string, output: string) =>
      (
        await findReplicaOverlaps(
          [{ what: '--replicated-path', path: replica }],
          [{ what: 'metadata root', path: output }],
        )
      )[0]?.message;
    assert.match((await overlap(`${ABFSS}/replica`, `${WASBS}/replica/dr`)) ?? '', /is inside/);
    assert.match(
      (await overlap(`${WASBS}/replica`, `abfs://wh@acct.dfs.core.windows.net/replica/`)) ?? '',
      /is inside/,
    );
    assert.equal(await overlap(`${ABFSS}/replica`, `${WASBS}/dr`), undefined);
    assert.equal(
      await overlap(`${ABFSS}/replica`, 'abfss://other@acct.dfs.core.windows.net/replica/dr'),
      undefined,
    );
    assert.match((await overlap('gs://b/replica', 'gs://B/replica/x')) ?? '', /is inside/);
    assert.equal(await overlap('gs://b/replica', 'gs://b/replica2'), undefined);
  });

  it('is registered: every spelling routes to its backend', () => {
    assert.equal(backendForScheme('wasbs')?.name, 'azure');
    assert.equal(backendForScheme('abfs')?.name, 'azure');
    assert.equal(backendForScheme('gs')?.name, 'gcs');
    const router = createStorageRouter({
      properties: { 'adls.account-key': 'a2V5', 'gcs.service.host': 'http://127.0.0.1:1' },
      storage: [
        { prefix: `${ABFSS}/special`, properties: { 'adls.sas-token': 'sv=1&sig=x' } },
        { prefix: 'gs://special', properties: { 'gcs.project-id': 'p' } },
      ],
    });
    const general = router.resolve(`${ABFSS}/x`);
    assert.ok(general instanceof AzureStorage);
    assert.equal(router.resolve(`${WASBS}/x`), general);
    const special = router.resolve(`${WASBS}/special/x`);
    assert.notEqual(special, general, 'a storage: entry serves both spellings of its prefix');
    assert.equal(router.resolve(`${ABFSS}/special/y`), special);
    assert.ok(router.resolve('gs://b/x') instanceof GcsStorage);
    assert.notEqual(router.resolve('gs://special/x'), router.resolve('gs://b/x'));
    assert.throws(
      () =>
        createStorageRouter({ storage: [{ prefix: `${ABFSS}`, properties: { 'adls.acount-key': 'x' } }] }),
      /adls\.acount-key: unknown setting/,
    );
    assert.throws(
      () => createStorageRouter({ storage: [{ prefix: 'gs://b', properties: { 'gcs.projectid': 'x' } }] }),
      /gcs\.projectid: unknown setting/,
    );
  });
});

describe('Azure credentials', () => {
  const loc = parseAzurePath(`${ABFSS}/x`);
  const access = (props: Record<string, string>) =>
    resolveAccountAccess(
      loc,
      { ...azureOptionsFromProperties(props, 'catalog.dr'), useEnvironment: false },
      'catalog.dr',
    );

  it('chooses connection string, SAS, account key, token, service principal, else DefaultAzureCredential', () => {
    const cs =
      'DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=S2V5;BlobEndpoint=http://127.0.0.1:10000/acct;';
    const a = access({ 'adls.connection-string': cs, 'adls.sas-token': 'sig=x' });
    assert.equal(a.serviceUrl, 'http://127.0.0.1:10000/acct');
    assert.equal(a.auth.kind, 'shared-key');
    assert.equal(a.source, 'adls.connection-string');
    assert.equal(access({ 'adls.sas-token': '?sv=1&sig=x', 'adls.account-key': 'k' }).auth.kind, 'sas');
    const k = access({ 'adls.account-key': 'k' });
    assert.deepEqual([k.auth.kind, k.serviceUrl], ['shared-key', 'https://acct.blob.core.windows.net']);
    assert.equal(access({ 'adls.token': 't' }).auth.kind, 'token');
    const sp = access({ 'adls.tenant-id': 't', 'adls.client-id': 'c', 'adls.client-secret': 's' });
    assert.equal(sp.auth.kind, 'client-secret');
    assert.throws(
      () => access({ 'adls.tenant-id': 't', 'adls.client-secret': 's' }),
      /all of adls.tenant-id/,
    );
    const d = access({ 'adls.client-id': 'mi' });
    assert.deepEqual(d.auth, { kind: 'default', clientId: 'mi' });
    assert.equal(access({}).source, 'DefaultAzureCredential');
  });

  it("takes per-account SAS tokens and connection strings, and refuses another account's", () => {
    const s = access({
      'adls.sas-token.acct.dfs.core.windows.net': 'sig=mine',
      'adls.sas-token.other.dfs.core.windows.net': 'sig=theirs',
    });
    assert.deepEqual(s.auth, { kind: 'sas', sas: 'sig=mine' });
    assert.deepEqual(access({ 'adls.sas-token.acct': 'sig=short' }).auth, { kind: 'sas', sas: 'sig=short' });
    assert.throws(
      () => access({ 'adls.connection-string': 'AccountName=other;AccountKey=S2V5' }),
      (e: unknown) =>
        e instanceof ConfigError && /for the account 'other'/.test(e.message) && !e.message.includes('S2V5'),
    );
  });

  it('builds emulator and sovereign-cloud endpoints', () => {
    assert.equal(
      access({
        'adls.account-key': 'k',
        'adls.blob-storage-authority': '127.0.0.1:10000',
        'adls.blob-storage-scheme': 'http',
      }).serviceUrl,
      'http://127.0.0.1:10000/acct',
    );
    assert.equal(
      access({ 'adls.account-key': 'k', 'adls.blob-storage-authority': '.blob.core.usgovcloudapi.net' })
        .serviceUrl,
      'https://acct.blob.core.usgovcloudapi.net',
    );
    const cn = resolveAccountAccess(
      parseAzurePath('abfss://c@acct.dfs.core.chinacloudapi.cn/x'),
      { accountKey: 'k', useEnvironment: false },
      'x',
    );
    assert.equal(cn.serviceUrl, 'https://acct.blob.core.chinacloudapi.cn');
    assert.throws(
      () =>
        resolveAccountAccess(parseAzurePath('abfs://c/x'), { accountKey: 'k', useEnvironment: false }, 'x'),
      /names no storage account/,
    );
    const named = resolveAccountAccess(
      parseAzurePath('abfs://c/x'),
      { accountKey: 'k', accountName: 'n', useEnvironment: false },
      'x',
    );
    assert.equal(named.serviceUrl, 'https://n.blob.core.windows.net');
  });

  it('reads the typed settings, naming the bad one', () => {
    const o = azureOptionsFromProperties({
      'adls.max-attempts': '3',
      'adls.request-timeout': '90s',
      'adls.block-size': '4194304',
    });
    assert.deepEqual([o.maxAttempts, o.requestTimeoutMs, o.blockSizeBytes], [3, 90_000, 4_194_304]);
    assert.throws(
      () => azureOptionsFromProperties({ 'adls.blob-storage-scheme': 'ftp' }, 'catalog.dr'),
      /catalog\.dr\.adls\.blob-storage-scheme/,
    );
    const g = gcsOptionsFromProperties({
      'gcs.project-id': 'p',
      'gcs.oauth2.token': 'ya29.x',
      'gcs.oauth2.token-expires-at': '1700000000000',
      'gcs.service.host': 'http://127.0.0.1:4443',
      'gcs.requester-pays': 'true',
      'gcs.default-bucket-location': 'EU',
    });
    assert.deepEqual(
      [g.projectId, g.oauth2Token, g.oauth2TokenExpiresAtMs, g.endpoint, g.requesterPays],
      ['p', 'ya29.x', 1_700_000_000_000, 'http://127.0.0.1:4443', true],
    );
    assert.throws(
      () => gcsOptionsFromProperties({ 'gcs.service.host': 'localhost:4443' }),
      /gcs\.service\.host/,
    );
    assert.throws(() => gcsOptionsFromProperties({ 'gcs.requester-pays': 'true' }), /needs gcs\.project-id/);
  });
});

describe('secrets of the cloud backends', () => {
  it('are secret names and are masked in text', () => {
    for (const k of [
      'adls.account-key',
      'adls.sas-token',
      'adls.connection-string',
      'adls.client-secret',
      'adls.token',
      'adls.sas-token.acct.dfs.core.windows.net',
      'gcs.oauth2.token',
    ]) {
      assert.ok(isSecretName(k), k);
    }
    assert.ok(!isSecretName('adls.account-name'));
    const text =
      'failed with DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=S3cr3tKey+/==;EndpointSuffix=core.windows.net ' +
      'GET https://acct.blob.core.windows.net/c/x?sv=2024-11-04&ss=b&sp=rl&sig=S1gnature%2B%3D: failed; ' +
      'BlobEndpoint=https://x;SharedAccessSignature=sv=2024&sig=Other';
    const out = redactSecrets(text);
    for (const secret of ['S3cr3tKey', 'S1gnature', 'Other']) assert.ok(!out.includes(secret), out);
    assert.match(out, /AccountName=acct/);
  });

  it('never appear in configuration errors', () => {
    const secret = 'VerySecretAccountKey==';
    const cases: Record<string, string>[] = [
      { 'adls.account-key': secret, 'adls.max-attempts': 'x' },
      { 'adls.connection-string': `AccountKey=${secret}` },
      { 'adls.connection-string': `AccountName=zzz;AccountKey=${secret}` },
    ];
    for (const props of cases) {
      try {
        resolveAccountAccess(
          parseAzurePath(`${ABFSS}/x`),
          { ...azureOptionsFromProperties(props), useEnvironment: false },
          'catalog.dr',
        );
      } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        assert.ok(!e.message.includes(secret), e.message);
        continue;
      }
      assert.fail(`no error for ${Object.keys(props).join(', ')}`);
    }
    assert.throws(
      () =>
        gcsOptionsFromProperties({
          'gcs.oauth2.token': 'ya29.SECRET',
          'gcs.oauth2.token-expires-at': 'soon',
        }),
      (e: unknown) => e instanceof ConfigError && !e.message.includes('ya29.SECRET'),
    );
  });
});
