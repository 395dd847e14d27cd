/**
 * What the storage contract does not cover on Azure (Azurite) and GCS (fake-gcs-server): large
 * writes really go up as staged blocks / a resumable upload, listings page, directory entries
 * (HNS `hdi_isfolder` blobs, `dir/` placeholders) are never files, a missing container or bucket
 * is said to be one, and refused credentials are a permission error naming their source only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError, PermissionDeniedError, StorageError } from '../../../src/errors.ts';
import { AzureStorage } from '../../../src/storage/azure/azure.ts';
import { GcsStorage } from '../../../src/storage/gcs/gcs.ts';
import { chunks, listAll, pattern } from '../../contract/storage.contract.ts';
import {
  abfss,
  azureOptions,
  azuriteServer,
  azuriteSkipReason,
  createContainer,
  rawAzureClient,
  wasbs,
} from '../../helpers/azure.ts';
import { createGcsBucket, gcsEndpoint, gcsOptions, gcsSkipReason, rawGcsClient } from '../../helpers/gcs.ts';
import { requireServer } from '../../helpers/requires.ts';

describe('Azure backend on Azurite', requireServer('Azure', azuriteSkipReason), () => {
  it('writes large data as staged blocks committed once, and reads it back in either spelling', async () => {
    const server = azuriteServer!;
    const c = await createContainer(server);
    const s = new AzureStorage(azureOptions(server, { blockSizeBytes: 1024 * 1024 }));
    const bytes = pattern(3 * 1024 * 1024 + 512 * 1024, 3);
    for (const [name, data] of [
      ['buf.bin', bytes],
      ['stream.bin', chunks(bytes, 300_000)],
    ] as const) {
      await s.write(abfss(c, `big/${name}`), data);
      const blocks = await rawAzureClient(server)
        .getContainerClient(c)
        .getBlockBlobClient(`big/${name}`)
        .getBlockList('committed');
      assert.equal(blocks.committedBlocks?.length, 4, `${name}: four blocks of 1 MiB or less`);
      assert.ok(Buffer.from(await s.read(wasbs(c, `big/${name}`))).equals(Buffer.from(bytes)));
    }
    await s.close();
  });

  it('pages listings, and never lists or stats directory entries as files', async () => {
    const server = azuriteServer!;
    const c = await createContainer(server);
    const s = new AzureStorage(azureOptions(server, { listPageSize: 3 }));
    for (let i = 0; i < 10; i++) await s.write(abfss(c, `d/f${i}`), pattern(i + 1));
    await s.write(abfss(c, 'd/sub/x'), pattern(5));
    const raw = rawAzureClient(server).getContainerClient(c);
    // As an account with a hierarchical namespace shows a directory through the Blob API.
    await raw.getBlockBlobClient('d/hnsdir').upload('', 0, { metadata: { hdi_isfolder: 'true' } });
    await raw.getBlockBlobClient('d/marker/').upload('', 0);
    const flat = await listAll(s, abfss(c, 'd'));
    assert.deepEqual(
      flat.map((f) => [f.path, f.size]),
      Array.from({ length: 10 }, (_, i) => [abfss(c, `d/f${i}`), i + 1]).sort(),
    );
    assert.equal((await listAll(s, abfss(c, 'd'), true)).length, 11);
    assert.equal(await s.stat(abfss(c, 'd/hnsdir')), undefined);
    await assert.rejects(s.read(abfss(c, 'd/hnsdir')), NotFoundError);
  });

  it('names a missing container, and refuses a wrong key without showing it', async () => {
    const server = azuriteServer!;
    const s = new AzureStorage(azureOptions(server));
    await assert.rejects(s.stat(abfss('no-such-container', 'x')), (e: unknown) => {
      assert.ok(e instanceof StorageError, String(e));
      assert.match((e as Error).message, /the container 'no-such-container' does not exist/);
      return true;
    });
    await assert.rejects(
      async () => listAll(s, abfss('no-such-container', 'd')),
      /the container 'no-such-container' does not exist/,
    );
    const c = await createContainer(server);
    const key = Buffer.from('a wrong key, but a well-formed one').toString('base64');
    const wrong = new AzureStorage({
      accountKey: key,
      blobStorageAuthority: new URL(server.blobEndpoint).host,
      blobStorageScheme: 'http',
      useEnvironment: false,
    });
    await assert.rejects(wrong.read(abfss(c, 'x')), (e: unknown) => {
      assert.ok(e instanceof PermissionDeniedError, String(e));
      assert.match((e as Error).message, /adls\.account-key/);
      assert.ok(!(e as Error).message.includes(key));
      return true;
    });
  });
});

describe('GCS backend on fake-gcs-server', requireServer('GCS', gcsSkipReason), () => {
  it('writes large data as a resumable upload, and pages listings past placeholders', async () => {
    const endpoint = gcsEndpoint!;
    const b = await createGcsBucket(endpoint);
    const s = new GcsStorage(gcsOptions(endpoint, { resumableThresholdBytes: 256 * 1024, listPageSize: 3 }));
    const bytes = pattern(1024 * 1024 + 77, 5);
    await s.write(`gs://${b}/big/x.bin`, chunks(bytes, 100_000));
    assert.equal((await s.stat(`gs://${b}/big/x.bin`))?.size, bytes.length);
    assert.ok(Buffer.from(await s.read(`gs://${b}/big/x.bin`)).equals(Buffer.from(bytes)));
    for (let i = 0; i < 8; i++) await s.write(`gs://${b}/d/f${i}`, pattern(i + 1));
    await rawGcsClient(endpoint)
      .bucket(b)
      .file('d/folder/')
      .save('', { resumable: false, validation: false });
    const flat = await listAll(s, `gs://${b}/d`);
    assert.deepEqual(
      flat.map((f) => f.path),
      Array.from({ length: 8 }, (_, i) => `gs://${b}/d/f${i}`),
    );
    assert.equal(await s.stat(`gs://${b}/d/folder/`), undefined);
  });

  it('names a missing bucket', async () => {
    const s = new GcsStorage(gcsOptions(gcsEndpoint!));
    await assert.rejects(
      s.stat('gs://no-such-bucket-imsync/x'),
      /the bucket 'no-such-bucket-imsync' does not exist/,
    );
    await assert.rejects(
      s.read('gs://no-such-bucket-imsync/x'),
      /the bucket 'no-such-bucket-imsync' does not exist/,
    );
  });
});
