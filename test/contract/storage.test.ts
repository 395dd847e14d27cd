/**
 * The storage contract run over every backend: local, in-memory, S3 (when IMSYNC_S3_ENDPOINT names
 * a server), WebHDFS (when IMSYNC_HDFS_NAMENODE does), Azure (when IMSYNC_AZURITE_BLOB_ENDPOINT
 * does) and GCS (when IMSYNC_GCS_ENDPOINT does). A suite whose server is absent is skipped
 * with the reason. A new backend adds its harness here.
 */
import { AzureStorage } from '../../src/storage/azure/azure.ts';
import { GcsStorage } from '../../src/storage/gcs/gcs.ts';
import { LocalStorage } from '../../src/storage/local/local.ts';
import { MemoryStorage } from '../../src/storage/memory/memory.ts';
import { S3Storage } from '../../src/storage/s3/s3.ts';
import { WebHdfsStorage } from '../../src/storage/webhdfs/webhdfs.ts';
import { abfss, azureOptions, azuriteServer, azuriteSkipReason, createContainer } from '../helpers/azure.ts';
import { createGcsBucket, gcsEndpoint, gcsOptions, gcsSkipReason } from '../helpers/gcs.ts';
import { hdfsOptions, hdfsServer, hdfsSkipReason, uniqueDir } from '../helpers/hdfs.ts';
import { scratchDir } from '../helpers/paths.ts';
import { createBucket, s3Server, s3SkipReason, storageOptions } from '../helpers/s3.ts';
import { type StorageHarness, storageContract } from './storage.contract.ts';

let run = 0;

const harnesses: StorageHarness[] = [
  {
    name: 'local',
    renames: true,
    skip: false,
    open: async () => ({ storage: new LocalStorage(), root: scratchDir('contract-local') }),
  },
  {
    name: 'local (file: URIs)',
    renames: true,
    skip: false,
    open: async () => ({ storage: new LocalStorage(), root: `file://${scratchDir('contract-file')}` }),
  },
  {
    name: 'memory',
    renames: true,
    skip: false,
    open: async () => ({
      storage: new MemoryStorage({ chunkSize: 100_000 }),
      root: `memory://contract/run${run++}`,
    }),
  },
  {
    name: 'S3',
    renames: false,
    skip: s3SkipReason,
    open: async () => {
      const server = s3Server!;
      return {
        storage: new S3Storage(storageOptions(server)),
        root: `s3://${await createBucket(server)}/run`,
      };
    },
  },
  {
    name: 'WebHDFS',
    renames: true,
    skip: hdfsSkipReason,
    open: async () => ({
      storage: new WebHdfsStorage(hdfsOptions(hdfsServer!)),
      root: `hdfs://contract${uniqueDir()}`,
    }),
  },
  {
    name: 'Azure (Azurite, abfss://)',
    renames: false,
    skip: azuriteSkipReason,
    open: async () => {
      const server = azuriteServer!;
      // Small blocks, so that the streamed writes go up as staged blocks and one Put Block List.
      return {
        storage: new AzureStorage(azureOptions(server, { blockSizeBytes: 1024 * 1024 })),
        root: abfss(await createContainer(server), 'run'),
      };
    },
  },
  {
    name: 'GCS (fake-gcs-server)',
    renames: false,
    skip: gcsSkipReason,
    open: async () => {
      const endpoint = gcsEndpoint!;
      // A small resumable threshold, so that the streamed writes go up as resumable uploads.
      return {
        storage: new GcsStorage(gcsOptions(endpoint, { resumableThresholdBytes: 1024 * 1024 })),
        root: `gs://${await createGcsBucket(endpoint)}/run`,
      };
    },
  },
];

for (const h of harnesses) storageContract(h);
