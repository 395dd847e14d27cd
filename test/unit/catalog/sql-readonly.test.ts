/** A SQL catalog opened read-only (dry runs, verify) creates nothing and changes nothing. */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { SqlCatalog } from '../../../src/catalog/sql/index.ts';
import { ConfigError } from '../../../src/errors.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { scratchDir } from '../../helpers/paths.ts';
import { treeChanges, treeDigest } from '../../helpers/tree.ts';

const id = { namespace: ['db'], name: 't' };
const storageFor = new StorageRouter().resolver;

describe('SqlCatalog read-only', () => {
  it('a missing SQLite file (and its missing directory) is a catalog without tables: nothing is created', async () => {
    const base = scratchDir('sql-ro');
    const file = path.join(base, 'no', 'such', 'dir', 'iceberg.db');
    const catalog = await SqlCatalog.open({
      name: 'dr',
      uri: `sqlite:///${file}`,
      readOnly: true,
      storageFor,
    });
    assert.equal(await catalog.loadTable(id), undefined);
    assert.equal(await catalog.namespaceExists(['db']), false);
    await assert.rejects(
      catalog.commitTable(id, undefined, path.join(base, 'm.json'), new Uint8Array(2)),
      ConfigError,
    );
    await assert.rejects(catalog.ensureNamespace(['db']), ConfigError);
    await catalog.close();
    assert.equal(existsSync(path.join(base, 'no')), false);
  });

  it('an empty file has no catalog tables: no table, and the file keeps its bytes', async () => {
    const base = scratchDir('sql-ro-empty');
    const file = path.join(base, 'iceberg.db');
    writeFileSync(file, '');
    const before = treeDigest(base);
    const catalog = await SqlCatalog.open({ name: 'dr', uri: `sqlite:///${file}`, readOnly: true });
    assert.equal(await catalog.loadTable(id), undefined);
    await catalog.close();
    assert.deepEqual(treeChanges(before, treeDigest(base)), []);
  });

  it('an existing catalog is read as it is, byte for byte unchanged', async () => {
    const base = scratchDir('sql-ro-existing');
    const file = path.join(base, 'iceberg.db');
    const meta = path.join(base, 'meta', '00001.metadata.json');
    const rw = await SqlCatalog.open({ name: 'dr', uri: `sqlite:///${file}`, storageFor });
    await rw.ensureNamespace(['db']);
    await rw.commitTable(id, undefined, meta, new TextEncoder().encode('{}'));
    await rw.close();
    const before = treeDigest(base);
    const ro = await SqlCatalog.open({ name: 'dr', uri: `sqlite:///${file}`, readOnly: true, storageFor });
    assert.equal((await ro.loadTable(id))?.metadataLocation, meta);
    assert.equal(await ro.namespaceExists(['db']), true);
    await assert.rejects(ro.dropTable(id), ConfigError);
    await ro.close();
    assert.deepEqual(treeChanges(before, treeDigest(base)), []);
  });
});
