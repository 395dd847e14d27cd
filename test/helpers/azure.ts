/**
 * The Azure Blob server the Azure tests run against: the Azurite `scripts/start-azurite.sh`
 * starts (named by IMSYNC_AZURITE_BLOB_ENDPOINT and IMSYNC_AZURITE_CONNECTION_STRING), and private
 * throw-away instances (IMSYNC_AZURITE_MAIN) for tests that must stop their server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import type { AzureStorageOptions } from '../../src/storage/azure/azure.ts';
import { freePort, relativeFiles } from './s3.ts';

/** The emulator's account. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';

/** Where the emulator answers. */
export interface AzuriteServer {
  /** `http://127.0.0.1:<port>/devstoreaccount1`. */
  readonly blobEndpoint: string;
  readonly connectionString: string;
}

/** The shared test server, or undefined when none was started. */
export const azuriteServer: AzuriteServer | undefined =
  process.env.IMSYNC_AZURITE_BLOB_ENDPOINT && process.env.IMSYNC_AZURITE_CONNECTION_STRING
    ? {
        blobEndpoint: process.env.IMSYNC_AZURITE_BLOB_ENDPOINT,
        connectionString: process.env.IMSYNC_AZURITE_CONNECTION_STRING,
      }
    : undefined;

/** Why the Azure tests are skipped, or false when a server is there. */
export const azuriteSkipReason: string | false = azuriteServer
  ? false
  : 'no Azure Blob server: IMSYNC_AZURITE_BLOB_ENDPOINT is unset (start Azurite with ' +
    '`source scripts/start-azurite.sh`; scripts/test.sh does it)';

/** AzureStorage options for `server`, by connection string (environment ignored). */
export function azureOptions(server: AzuriteServer, extra: AzureStorageOptions = {}): AzureStorageOptions {
  return { connectionString: server.connectionString, useEnvironment: false, ...extra };
}

/** The `adls.*` catalog properties that reach `server`. */
export function azureProperties(server: AzuriteServer): Record<string, string> {
  return { 'adls.connection-string': server.connectionString };
}

/** An `abfss://` location on the emulator's account. */
export function abfss(container: string, rest = ''): string {
  return `abfss://${container}@${AZURITE_ACCOUNT}.dfs.core.windows.net${rest ? `/${rest}` : ''}`;
}

/** The same location spelled `wasbs://`. */
export function wasbs(container: string, rest = ''): string {
  return `wasbs://${container}@${AZURITE_ACCOUNT}.blob.core.windows.net${rest ? `/${rest}` : ''}`;
}

/** A plain SDK client on `server`, for setting up what the code under test then reads. */
export function rawAzureClient(server: AzuriteServer): BlobServiceClient {
  return BlobServiceClient.fromConnectionString(server.connectionString);
}

let counter = 0;

/** Creates a fresh container with a unique name and returns the name. */
export async function createContainer(server: AzuriteServer, prefix = 'imsync'): Promise<string> {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`.toLowerCase();
  await rawAzureClient(server).getContainerClient(name).create();
  return name;
}

/** Copies a local tree into `container` under `blobPrefix` with the plain SDK (as replication would). */
export async function uploadDirToAzure(
  server: AzuriteServer,
  localDir: string,
  container: string,
  blobPrefix: string,
): Promise<void> {
  const c = rawAzureClient(server).getContainerClient(container);
  for (const rel of relativeFiles(localDir)) {
    const body = readFileSync(path.join(localDir, rel));
    await c.getBlockBlobClient(`${blobPrefix}/${rel}`).upload(body, body.length);
  }
}

/** Blob names below `prefix` in `container`, sorted. */
export async function listBlobNames(
  server: AzuriteServer,
  container: string,
  prefix = '',
): Promise<string[]> {
  const out: string[] = [];
  for await (const b of rawAzureClient(server).getContainerClient(container).listBlobsFlat({ prefix })) {
    out.push(b.name);
  }
  return out.sort();
}

/** A private Azurite of its own, which a test may stop. */
export interface PrivateAzurite extends AzuriteServer {
  readonly port: number;
  /** Kills the server (SIGKILL, as a crash would) and removes its data. */
  stop(): Promise<void>;
}

/** Starts a private Azurite over a temporary directory on a free loopback port. */
export async function startPrivateAzurite(port?: number): Promise<PrivateAzurite> {
  const main = process.env.IMSYNC_AZURITE_MAIN;
  if (!main) throw new Error('IMSYNC_AZURITE_MAIN is unset (source scripts/start-azurite.sh)');
  const dir = mkdtempSync(path.join(tmpdir(), 'imsync-azurite-private-'));
  const p = port ?? (await freePort());
  const child: ChildProcess = spawn(
    process.execPath,
    [
      main,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(p),
      '--location',
      dir,
      '--skipApiVersionCheck',
      '--loose',
      '--disableTelemetry',
      '--silent',
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const blobEndpoint = `http://127.0.0.1:${p}/${AZURITE_ACCOUNT}`;
  const base = azuriteServer?.connectionString ?? '';
  const connectionString = base.replace(/BlobEndpoint=[^;]*/, `BlobEndpoint=${blobEndpoint}`);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const client = BlobServiceClient.fromConnectionString(connectionString, { retryOptions: { maxTries: 1 } });
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) break;
    try {
      await client.getProperties();
      return { blobEndpoint, connectionString, port: p, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop();
  throw new Error(`the private Azurite did not start on port ${p}`);
}

/** Copies every blob below `prefix` in `container` into `localDir` (names relative to the prefix). */
export async function downloadAzureDir(
  server: AzuriteServer,
  container: string,
  prefix: string,
  localDir: string,
): Promise<void> {
  const c = rawAzureClient(server).getContainerClient(container);
  for (const name of await listBlobNames(server, container, `${prefix}/`)) {
    const dest = path.join(localDir, name.slice(prefix.length + 1));
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(dest, await c.getBlobClient(name).downloadToBuffer());
  }
}
