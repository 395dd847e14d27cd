/**
 * The S3 server the S3 tests run against: the one `scripts/start-s3.sh` starts (named by
 * IMSYNC_S3_ENDPOINT, IMSYNC_S3_ACCESS_KEY, IMSYNC_S3_SECRET_KEY), and private throw-away instances
 * of the same binary (IMSYNC_S3_BIN) for tests that must stop their server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3StorageOptions } from '../../src/storage/s3/s3.ts';

/** Where an S3 server answers and its credentials. */
export interface S3Server {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The shared test server, or undefined when none was started. */
export const s3Server: S3Server | undefined =
  process.env.IMSYNC_S3_ENDPOINT && process.env.IMSYNC_S3_ACCESS_KEY && process.env.IMSYNC_S3_SECRET_KEY
    ? {
        endpoint: process.env.IMSYNC_S3_ENDPOINT,
        accessKeyId: process.env.IMSYNC_S3_ACCESS_KEY,
        secretAccessKey: process.env.IMSYNC_S3_SECRET_KEY,
      }
    : undefined;

/** Why the S3 tests are skipped, or false when a server is there. */
export const s3SkipReason: string | false = s3Server
  ? false
  : 'no S3 server: IMSYNC_S3_ENDPOINT is unset (build it with `bash scripts/setup-s3.sh`, start it with ' +
    '`source scripts/start-s3.sh`; scripts/test.sh does both)';

/** S3Storage options for `server` (path-style, as a loopback endpoint needs). */
export function storageOptions(server: S3Server, extra: S3StorageOptions = {}): S3StorageOptions {
  return {
    endpoint: server.endpoint,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    pathStyle: true,
    ...extra,
  };
}

/** A plain SDK client on `server`, for setting up what the code under test then reads. */
export function rawClient(server: S3Server): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

let bucketCounter = 0;

/** Creates a fresh bucket with a unique name and returns the name. */
export async function createBucket(server: S3Server, prefix = 'imsync'): Promise<string> {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${bucketCounter++}`;
  const c = rawClient(server);
  try {
    await c.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    c.destroy();
  }
  return name;
}

/** Puts one object with the plain SDK (a directory marker, say, which S3Storage never writes). */
export async function putRaw(server: S3Server, bucket: string, key: string, body: Uint8Array): Promise<void> {
  const c = rawClient(server);
  try {
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  } finally {
    c.destroy();
  }
}

/** Files below `dir`, relative to it, with `/` separators, sorted. */
export function relativeFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) out.push(...relativeFiles(p, `${prefix}${n}/`));
    else out.push(`${prefix}${n}`);
  }
  return out;
}

/**
 * Copies a local directory tree into `bucket` under `keyPrefix` (as a replication to S3 would) with
 * the plain SDK, so that what the code under test reads was not written by it.
 */
export async function uploadDir(
  server: S3Server,
  localDir: string,
  bucket: string,
  keyPrefix: string,
): Promise<void> {
  const c = rawClient(server);
  try {
    for (const rel of relativeFiles(localDir)) {
      await c.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${keyPrefix}/${rel}`,
          Body: readFileSync(path.join(localDir, rel)),
        }),
      );
    }
  } finally {
    c.destroy();
  }
}

/** A loopback TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** A private S3 server of its own (same binary, same credentials), which a test may stop. */
export interface PrivateS3Server extends S3Server {
  /** Kills the server (SIGKILL, as a crash would) and removes its data. */
  stop(): Promise<void>;
}

/** Starts a private versitygw over a temporary directory on a free loopback port. */
export async function startPrivateS3Server(bin: string, server: S3Server): Promise<PrivateS3Server> {
  const dir = mkdtempSync(path.join(tmpdir(), 'imsync-s3-private-'));
  mkdirSync(path.join(dir, 'meta'));
  mkdirSync(path.join(dir, 'data'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    [
      '--port',
      `127.0.0.1:${port}`,
      '--access',
      server.accessKeyId,
      '--secret',
      server.secretAccessKey,
      '--quiet',
      'posix',
      '--sidecar',
      path.join(dir, 'meta'),
      path.join(dir, 'data'),
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
    if (await canConnect(port)) {
      return { endpoint: `http://127.0.0.1:${port}`, ...pick(server), stop };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`the private S3 server (${bin}) did not start on port ${port}`);
}

function pick(s: S3Server) {
  return { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey };
}
