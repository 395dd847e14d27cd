/**
 * The AWS Glue emulator for the Glue catalog tests: moto's server through scripts/glue-emulator.py
 * (which makes it enforce UpdateTable's VersionId), started once per suite by scripts/start-glue.sh
 * (IMSYNC_GLUE_ENDPOINT), and private instances a test can stop under a run. The emulator accepts
 * any credentials: the dummy keys here only let the SDK sign.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { GlueClient } from '@aws-sdk/client-glue';
import { GlueCatalog } from '../../src/catalog/glue/glue.ts';
import type { StorageResolver } from '../../src/storage/router.ts';
import { repoRoot } from './paths.ts';

/** The shared emulator's endpoint, when scripts/start-glue.sh started one. */
export const glueEndpoint = process.env.IMSYNC_GLUE_ENDPOINT;
/** The Python that runs the emulator (for private instances). */
export const gluePython = process.env.IMSYNC_GLUE_PYTHON;
/** Why the Glue tests cannot run, or false. */
export const glueSkipReason: string | false =
  glueEndpoint && gluePython
    ? false
    : 'no Glue emulator: IMSYNC_GLUE_ENDPOINT is unset (run scripts/setup-glue.sh, then `source scripts/start-glue.sh`; scripts/test.sh does)';

/** The region and dummy keys every test client uses. */
export const GLUE_REGION = 'us-east-1';
export const GLUE_KEYS = { accessKeyId: 'imsync-test', secretAccessKey: 'imsync-test-secret' } as const;

/** An SDK client on `endpoint`, retrying at most `maxAttempts` times in all. */
export function glueTestClient(endpoint: string, maxAttempts = 3): GlueClient {
  return new GlueClient({ region: GLUE_REGION, endpoint, credentials: GLUE_KEYS, maxAttempts });
}

/** A Glue catalog on `endpoint` writing its metadata through `storageFor`. */
export function glueTestCatalog(
  endpoint: string,
  storageFor: StorageResolver,
  options: { name?: string; maxAttempts?: number; pageSize?: number; readOnly?: boolean } = {},
): GlueCatalog {
  return new GlueCatalog({
    name: options.name ?? 'dr',
    client: glueTestClient(endpoint, options.maxAttempts),
    endpoint,
    storageFor,
    ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
    ...(options.readOnly ? { readOnly: true } : {}),
  });
}

/** A database name no other test (or earlier run on the same emulator) uses. */
export function uniqueDatabase(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** The environment a CLI or PyIceberg child needs to reach the emulator through the default chain. */
export function glueEnv(): Record<string, string> {
  return {
    AWS_REGION: GLUE_REGION,
    AWS_DEFAULT_REGION: GLUE_REGION,
    AWS_ACCESS_KEY_ID: GLUE_KEYS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: GLUE_KEYS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A private emulator: its endpoint, and a way to stop it (under a run, for fault tests). */
export interface PrivateGlue {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts a private, empty emulator on a free loopback port; resolves once it answers. */
export async function startPrivateGlue(): Promise<PrivateGlue> {
  if (!gluePython) throw new Error('IMSYNC_GLUE_PYTHON is unset (source scripts/start-glue.sh)');
  const port = await freePort();
  const child: ChildProcess = spawn(
    gluePython,
    [path.join(repoRoot, 'scripts', 'glue-emulator.py'), String(port)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Glue emulator not ready in 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (/^ready$/m.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Glue emulator exited (${code}):\n${output}`));
    });
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  return { endpoint: `http://127.0.0.1:${port}`, stop };
}
