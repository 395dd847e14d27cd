/**
 * The GCS emulator the GCS tests run against: the fake-gcs-server `scripts/start-gcs.sh` starts
 * (named by IMSYNC_GCS_ENDPOINT), and private throw-away instances (IMSYNC_GCS_BIN) for tests that
 * must stop their server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Storage } from '@google-cloud/storage';
import type { GcsStorageOptions } from '../../src/storage/gcs/gcs.ts';
import { freePort, relativeFiles } from './s3.ts';

/** The shared emulator's endpoint, or undefined when none was started. */
export const gcsEndpoint: string | undefined = process.env.IMSYNC_GCS_ENDPOINT || undefined;

/** Why the GCS tests are skipped, or false when a server is there. */
export const gcsSkipReason: string | false = gcsEndpoint
  ? false
  : 'no GCS emulator: IMSYNC_GCS_ENDPOINT is unset (build it with `bash scripts/setup-gcs.sh`, start it with ' +
    '`source scripts/start-gcs.sh`; scripts/test.sh does both)';

/** GcsStorage options for an emulator at `endpoint` (quick retries). */
export function gcsOptions(endpoint: string, extra: GcsStorageOptions = {}): GcsStorageOptions {
  return { endpoint, projectId: 'imsync-test', ...extra };
}

/** The `gcs.*` catalog properties that reach the emulator. */
export function gcsProperties(endpoint: string): Record<string, string> {
  return { 'gcs.service.host': endpoint, 'gcs.project-id': 'imsync-test' };
}

/** A plain SDK client on the emulator, for setting up what the code under test then reads. */
export function rawGcsClient(endpoint: string): Storage {
  return new Storage({ apiEndpoint: endpoint, projectId: 'imsync-test' });
}

let counter = 0;

/** Creates a fresh bucket with a unique name and returns the name. */
export async function createGcsBucket(endpoint: string, prefix = 'imsync'): Promise<string> {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
  await rawGcsClient(endpoint).createBucket(name);
  return name;
}

/** Copies a local tree into `bucket` under `prefix` with the plain SDK (as replication would). */
export async function uploadDirToGcs(
  endpoint: string,
  localDir: string,
  bucket: string,
  prefix: string,
): Promise<void> {
  const b = rawGcsClient(endpoint).bucket(bucket);
  for (const rel of relativeFiles(localDir)) {
    await b.file(`${prefix}/${rel}`).save(readFileSync(path.join(localDir, rel)), { resumable: false });
  }
}

/** Object names below `prefix` in `bucket`, sorted. */
export async function listGcsNames(endpoint: string, bucket: string, prefix = ''): Promise<string[]> {
  const [files] = await rawGcsClient(endpoint).bucket(bucket).getFiles({ prefix });
  return files.map((f) => f.name).sort();
}

/** A private emulator of its own, which a test may stop. */
export interface PrivateGcs {
  readonly endpoint: string;
  readonly port: number;
  /** Kills the server (SIGKILL, as a crash would) and removes its data. */
  stop(): Promise<void>;
}

/** Starts a private fake-gcs-server over a temporary directory on a free loopback port. */
export async function startPrivateGcs(port?: number): Promise<PrivateGcs> {
  const bin = process.env.IMSYNC_GCS_BIN;
  if (!bin) throw new Error('IMSYNC_GCS_BIN is unset (source scripts/start-gcs.sh)');
  const dir = mkdtempSync(path.join(tmpdir(), 'imsync-gcs-private-'));
  mkdirSync(path.join(dir, 'root'));
  const p = port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${p}`;
  const child: ChildProcess = spawn(
    bin,
    [
      '-scheme',
      'http',
      '-host',
      '127.0.0.1',
      '-port',
      String(p),
      '-backend',
      'filesystem',
      '-filesystem-root',
      path.join(dir, 'root'),
      '-external-url',
      endpoint,
      '-public-host',
      `127.0.0.1:${p}`,
      '-log-level',
      'error',
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    try {
      const r = await fetch(`${endpoint}/storage/v1/b`);
      if (r.ok) return { endpoint, port: p, stop };
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`the private fake-gcs-server did not start on port ${p}`);
}

/** Copies every object below `prefix` in `bucket` into `localDir` (names relative to the prefix). */
export async function downloadGcsDir(
  endpoint: string,
  bucket: string,
  prefix: string,
  localDir: string,
): Promise<void> {
  const b = rawGcsClient(endpoint).bucket(bucket);
  for (const name of await listGcsNames(endpoint, bucket, `${prefix}/`)) {
    const dest = path.join(localDir, name.slice(prefix.length + 1));
    mkdirSync(path.dirname(dest), { recursive: true });
    const [bytes] = await b.file(name).download();
    writeFileSync(dest, bytes);
  }
}
