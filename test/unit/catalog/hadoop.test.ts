import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { HadoopCatalog, metadataFileVersion } from '../../../src/catalog/hadoop/hadoop.ts';
import { CommitConflictError, ConfigError, StorageError } from '../../../src/errors.ts';
import { LocalStorage } from '../../../src/storage/local/local.ts';
import type { Storage } from '../../../src/storage/storage.ts';
import { scratchDir } from '../../helpers/paths.ts';

const t = { namespace: ['db', 'sub'], name: 'events' };
const bytes = (s: string) => new TextEncoder().encode(s);

function setup(prefix: string, storage: Storage = new LocalStorage()) {
  const wh = scratchDir(prefix);
  const warnings: string[] = [];
  const cat = new HadoopCatalog({ name: 'dr', warehouse: wh, storage, onWarning: (m) => warnings.push(m) });
  const meta = path.join(wh, 'db/sub/events/metadata');
  return { wh, cat, meta, warnings };
}

// The catalog contract (test/contract/catalog.contract.ts) runs over the Hadoop layout too, on
// local disk, in memory and on S3: load, register, compare-and-swap, two racing committers,
// namespaces, listing. What follows is the layout's own: version files, hints, spellings.
describe('HadoopCatalog', () => {
  it('lays tables out as Spark HadoopCatalog does and commits v1, v2', async () => {
    const { wh, cat, meta } = setup('hadoop-basic');
    assert.equal(cat.tableLocation(t), `${wh}/db/sub/events`);
    assert.equal(await cat.loadTable(t), undefined);
    assert.equal(cat.nextMetadataLocation(t, undefined), `${meta}/v1.metadata.json`);

    const v1 = await cat.commitTable(t, undefined, `${meta}/00000-abc.metadata.json`, bytes('{"v":1}'));
    assert.equal(v1, `${meta}/v1.metadata.json`);
    assert.equal(readFileSync(v1, 'utf8'), '{"v":1}');
    assert.equal(readFileSync(`${meta}/version-hint.text`, 'utf8'), '1');
    assert.deepEqual(await cat.loadTable(t), { metadataLocation: v1, version: 1 });

    assert.equal(cat.nextMetadataLocation(t, v1), `${meta}/v2.metadata.json`);
    const v2 = await cat.commitTable(t, v1, cat.nextMetadataLocation(t, v1), bytes('{"v":2}'));
    assert.equal(v2, `${meta}/v2.metadata.json`);
    assert.equal(readFileSync(`${meta}/version-hint.text`, 'utf8'), '2');
    assert.equal(await cat.readVersionHint(t), 2);
    assert.deepEqual(readdirSync(meta).sort(), ['v1.metadata.json', 'v2.metadata.json', 'version-hint.text']);

    // A gzip-compressed file keeps its Iceberg spelling.
    const v3 = await cat.commitTable(t, v2, `${meta}/00002-x.gz.metadata.json`, bytes('gz'));
    assert.equal(v3, `${meta}/v3.gz.metadata.json`);
    assert.deepEqual(await cat.loadTable(t), { metadataLocation: v3, version: 3 });
    assert.equal(cat.nextMetadataLocation(t, v3), `${meta}/v4.metadata.json`);
  });

  it('refuses stale expectations and files outside the metadata directory', async () => {
    const { cat, meta } = setup('hadoop-cas');
    const v1 = await cat.commitTable(t, undefined, `${meta}/v1.metadata.json`, bytes('1'));
    await cat.commitTable(t, v1, `${meta}/v2.metadata.json`, bytes('2'));
    await assert.rejects(
      cat.commitTable(t, v1, `${meta}/v2.metadata.json`, bytes('x')),
      (e: Error) =>
        e instanceof CommitConflictError &&
        e.message === `dr.db.sub.events: current metadata is ${meta}/v2.metadata.json, expected ${v1}`,
    );
    await assert.rejects(
      cat.commitTable(t, undefined, `${meta}/v1.metadata.json`, bytes('x')),
      CommitConflictError,
    );
    await assert.rejects(
      cat.commitTable({ namespace: ['db'], name: 'none' }, v1, `${meta}/v1.metadata.json`, bytes('x')),
      ConfigError, // wrong directory for that table
    );
    await assert.rejects(
      cat.commitTable(t, `${meta}/v2.metadata.json`, '/elsewhere/v3.metadata.json', bytes('x')),
      /a hadoop catalog keeps metadata in/,
    );
    await assert.rejects(
      cat.commitTable(t, `${meta}/v2.metadata.json`, `${meta}/v3.metadata.json`),
      /needs the metadata bytes/,
    );
    assert.equal(readFileSync(`${meta}/v2.metadata.json`, 'utf8'), '2');
  });

  it('compares file: URIs and plain paths as the same location', async () => {
    const wh = scratchDir('hadoop-uri');
    const cat = new HadoopCatalog({ name: 'dr', warehouse: `file://${wh}/`, storage: new LocalStorage() });
    const v1 = await cat.commitTable(t, undefined, cat.nextMetadataLocation(t, undefined), bytes('1'));
    assert.equal(v1, `file://${wh}/db/sub/events/metadata/v1.metadata.json`);
    // Spark reports `file:/...`; the catalog accepts any spelling of the same file.
    const v2 = await cat.commitTable(
      t,
      `file:${wh}/db/sub/events/metadata/v1.metadata.json`,
      cat.nextMetadataLocation(t, v1),
      bytes('2'),
    );
    assert.equal(readFileSync(new URL(v2), 'utf8'), '2');
  });

  it('fails with a conflict when v<N+1> appears between its check and its write', async () => {
    const { cat, meta } = setup('hadoop-race-window');
    const v1 = await cat.commitTable(t, undefined, `${meta}/v1.metadata.json`, bytes('1'));
    // Another committer's v2 lands after our listing: the exclusive create must catch it.
    const local = new LocalStorage();
    const racing: Storage = {
      stat: (p) => local.stat(p),
      read: (p, r) => local.read(p, r),
      readStream: (p) => local.readStream(p),
      list: (d, o) => local.list(d, o),
      delete: (p) => local.delete(p),
      close: () => local.close(),
      write: async (p, data, o) => {
        if (p.endsWith('/v2.metadata.json')) await local.write(p, bytes('theirs'), { ifNotExists: true });
        return local.write(p, data, o);
      },
    };
    const cat2 = new HadoopCatalog({ name: 'dr', warehouse: cat.warehouse, storage: racing });
    await assert.rejects(
      cat2.commitTable(t, v1, `${meta}/v2.metadata.json`, bytes('ours')),
      (e: Error) =>
        e instanceof CommitConflictError && e.message === 'dr.db.sub.events: v2 was committed concurrently',
    );
    assert.equal(readFileSync(`${meta}/v2.metadata.json`, 'utf8'), 'theirs');
  });

  it('does not trust a stale version hint, and repairs it on commit', async () => {
    const { cat, meta } = setup('hadoop-stale-hint');
    const v1 = await cat.commitTable(t, undefined, `${meta}/v1.metadata.json`, bytes('1'));
    const v2 = await cat.commitTable(t, v1, `${meta}/v2.metadata.json`, bytes('2'));
    await cat.commitTable(t, v2, `${meta}/v3.metadata.json`, bytes('3'));
    writeFileSync(`${meta}/version-hint.text`, '1\n');
    assert.equal(await cat.readVersionHint(t), 1);
    assert.deepEqual(await cat.loadTable(t), { metadataLocation: `${meta}/v3.metadata.json`, version: 3 });
    await assert.rejects(cat.commitTable(t, v1, `${meta}/v2.metadata.json`, bytes('x')), CommitConflictError);
    await cat.commitTable(t, `${meta}/v3.metadata.json`, `${meta}/v4.metadata.json`, bytes('4'));
    assert.equal(readFileSync(`${meta}/version-hint.text`, 'utf8'), '4');
  });

  it('copes with an empty or missing version hint and ignores stray files', async () => {
    const { cat, meta } = setup('hadoop-empty-hint');
    const v1 = await cat.commitTable(t, undefined, `${meta}/v1.metadata.json`, bytes('1'));
    await cat.commitTable(t, v1, `${meta}/v2.metadata.json`, bytes('2'));
    writeFileSync(`${meta}/version-hint.text`, '');
    // Temporary files and other writers' names are not versions.
    for (const stray of [
      'v9.metadata.json.123.tmp',
      '00009-uuid.metadata.json',
      'v10.metadata.jsonx',
      'snap-1.avro',
    ]) {
      writeFileSync(`${meta}/${stray}`, 'x');
    }
    assert.equal(await cat.readVersionHint(t), undefined);
    assert.deepEqual(await cat.loadTable(t), { metadataLocation: `${meta}/v2.metadata.json`, version: 2 });
    await cat.commitTable(t, `${meta}/v2.metadata.json`, `${meta}/v3.metadata.json`, bytes('3'));
    assert.equal(readFileSync(`${meta}/version-hint.text`, 'utf8'), '3');

    const { cat: other, meta: otherMeta } = setup('hadoop-no-hint');
    await other.commitTable(t, undefined, `${otherMeta}/v1.metadata.json`, bytes('1'));
    writeFileSync(`${otherMeta}/version-hint.text`, 'garbage');
    assert.equal((await other.loadTable(t))?.version, 1);
  });

  it('prefers the plain file when one version exists in two spellings, and reads legacy .metadata.json.gz', async () => {
    const { cat, meta } = setup('hadoop-spellings');
    await cat.commitTable(t, undefined, `${meta}/v1.metadata.json`, bytes('1'));
    writeFileSync(`${meta}/v2.gz.metadata.json`, 'gz');
    writeFileSync(`${meta}/v2.metadata.json`, 'plain');
    assert.equal((await cat.loadTable(t))?.metadataLocation, `${meta}/v2.metadata.json`);
    writeFileSync(`${meta}/v3.metadata.json.gz`, 'old');
    assert.equal((await cat.loadTable(t))?.metadataLocation, `${meta}/v3.metadata.json.gz`);
    assert.equal(metadataFileVersion('v12.gz.metadata.json'), 12);
    assert.equal(metadataFileVersion('12.metadata.json'), undefined);
  });

  it('commits even when the version hint cannot be written, with a warning', async () => {
    const local = new LocalStorage();
    const noHint: Storage = {
      stat: (p) => local.stat(p),
      read: (p, r) => local.read(p, r),
      readStream: (p) => local.readStream(p),
      list: (d, o) => local.list(d, o),
      delete: (p) => local.delete(p),
      close: () => local.close(),
      write: async (p, data, o) => {
        if (p.endsWith('/version-hint.text')) throw new StorageError(`${p}: quota exceeded`);
        return local.write(p, data, o);
      },
    };
    const { cat, meta, warnings } = setup('hadoop-hint-fails', noHint);
    const v1 = await cat.commitTable(t, undefined, `${meta}/v1.metadata.json`, bytes('1'));
    assert.deepEqual(await cat.loadTable(t), { metadataLocation: v1, version: 1 });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /could not update the version hint: .*quota exceeded/);
  });

  it('validates names and warehouses', async () => {
    const { cat } = setup('hadoop-names');
    await cat.ensureNamespace(['db']);
    await assert.rejects(cat.ensureNamespace(['a/b']), ConfigError);
    await assert.rejects(cat.ensureNamespace([]), ConfigError);
    assert.throws(() => cat.tableLocation({ namespace: ['..'], name: 't' }), ConfigError);
    assert.throws(
      () => cat.nextMetadataLocation(t, '/x/00001-a.metadata.json'),
      /not a Hadoop-layout metadata file/,
    );
    assert.throws(
      () => new HadoopCatalog({ name: 'dr', warehouse: 'relative/wh', storage: new LocalStorage() }),
      ConfigError,
    );
  });
});
