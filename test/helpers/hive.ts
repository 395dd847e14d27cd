/**
 * The Hive Metastores of scripts/start-hive.sh: their URIs, why a test must skip without them, and
 * private metastores a test can stop and start (scripts/hive-metastore/run.sh).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { repoRoot } from './paths.ts';

/** `thrift://127.0.0.1:<port>` of the 3.1 and 4.0 metastores, if started. */
export const hive3Uri = process.env.IMSYNC_HIVE3_URI;
export const hive4Uri = process.env.IMSYNC_HIVE4_URI;

/** Why tests needing a metastore of `version` skip (false when it is there). */
export function hiveSkipReason(version: 3 | 4): string | false {
  return (version === 3 ? hive3Uri : hive4Uri)
    ? false
    : `IMSYNC_HIVE${version}_URI is unset (start the metastores with \`source scripts/start-hive.sh\`; scripts/test.sh does)`;
}

/** A free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** A private Hive Metastore 3.1 on Derby in `dir` (kept across {@link PrivateMetastore.stop}/start). */
export class PrivateMetastore {
  readonly dir: string;
  readonly port: number;
  #child: ChildProcess | undefined;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  static async start(dir: string): Promise<PrivateMetastore> {
    mkdirSync(dir, { recursive: true });
    const m = new PrivateMetastore(dir, await freePort());
    await m.start();
    return m;
  }

  get uri(): string {
    return `thrift://127.0.0.1:${this.port}`;
  }

  /** Starts (again) and waits until it accepts connections. */
  async start(): Promise<void> {
    const child = spawn(
      'bash',
      [path.join(repoRoot, 'scripts/hive-metastore/run.sh'), '3.1.3', this.dir, String(this.port)],
      {
        stdio: 'ignore',
      },
    );
    this.#child = child;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null)
        throw new Error(`the private metastore exited (see ${this.dir}/metastore.log)`);
      if (await accepts(this.port)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('the private metastore did not start within 120 s');
  }

  /** Kills it at once (SIGKILL: no orderly shutdown) and waits for the exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    // A child killed before has a signalCode and no exitCode: it will not exit again.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}
