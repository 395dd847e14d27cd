/**
 * add-files never appends to, or commits, table metadata that Iceberg readers would refuse: the
 * table's current metadata is checked when it is loaded, and nothing is written or committed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { addFiles } from '../../../src/addfiles/engine.ts';
import { SqlCatalog } from '../../../src/catalog/sql/index.ts';
import { ExitCode, exitCodeFor } from '../../../src/errors.ts';
import { decodeMetadata, encodeMetadata } from '../../../src/iceberg/metadata-json.ts';
import { InvalidMetadataError } from '../../../src/iceberg/metadata-validate.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { listFilesRecursive, scratchDir } from '../../helpers/paths.ts';

const resolve = new StorageRouter().resolver;

function writeParquet(file: string, ids: bigint[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const bytes = parquetWriteBuffer({
    columnData: [{ name: 'id', data: ids, type: 'INT64', nullable: true }],
  });
  writeFileSync(file, new Uint8Array(bytes));
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(file, old, old);
}

describe('add-files and table metadata Iceberg readers would refuse', () => {
  it('refuses to append to a table whose current metadata breaks the rules, naming file and field', async () => {
    const base = scratchDir('addfiles-validate');
    const data = path.join(base, 'replica', 'events');
    const root = path.join(base, 'dr', 'db', 'events', 'metadata');
    const catalog = await SqlCatalog.open({
      name: 'dr',
      uri: `sqlite:///${base}/catalog.db`,
      storageFor: resolve,
    });
    try {
      const table = { namespace: ['db'], name: 'events' };
      const opts = {
        table,
        catalog,
        resolve,
        dataPath: data,
        metadataRoot: root,
        create: { partitionBy: [] },
      };
      writeParquet(path.join(data, 'a.parquet'), [1n, 2n]);
      const first = await addFiles(opts);
      assert.equal(first.status, 'committed');
      const location = first.metadataLocation!;
      // Someone breaks the committed metadata: refs.main stays, current-snapshot-id goes.
      const json = decodeMetadata(readFileSync(location), location).json;
      assert.ok(json.refs && json['current-snapshot-id'] !== undefined);
      delete json['current-snapshot-id'];
      writeFileSync(location, encodeMetadata(json));
      writeParquet(path.join(data, 'b.parquet'), [3n]);
      const outputsBefore = listFilesRecursive(root).filter((f) => !f.includes('.iceberg-sync'));
      await assert.rejects(
        addFiles(opts),
        (err: unknown) =>
          err instanceof InvalidMetadataError &&
          exitCodeFor(err) === ExitCode.BAD_INPUT &&
          err.file === location &&
          err.field === 'current-snapshot-id' &&
          err.message.startsWith(`${location}: invalid table metadata: current-snapshot-id: `),
      );
      assert.equal((await catalog.loadTable(table))?.metadataLocation, location, 'the catalog is unchanged');
      assert.deepEqual(
        listFilesRecursive(root).filter((f) => !f.includes('.iceberg-sync')),
        outputsBefore,
        'no manifest, manifest list or metadata was written',
      );
    } finally {
      await catalog.close();
    }
  });
});
