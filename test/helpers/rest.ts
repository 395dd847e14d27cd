/**
 * The Iceberg REST catalogs the REST tests run against: Apache Iceberg's reference server, built
 * by scripts/setup-rest.sh. scripts/start-rest.sh starts a shared one (IMSYNC_REST_URI) and names
 * the build (IMSYNC_REST_CLASSPATH); tests that need a catalog of their own (a fresh database,
 * OAuth2 with expiring tokens, a server they stop mid-run) start private ones here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { scratchDir } from './paths.ts';

/** Why the REST catalog tests are skipped, or false when the server build is there. */
export const restSkipReason: string | false = process.env.IMSYNC_REST_CLASSPATH
  ? false
  : 'no Iceberg REST catalog: IMSYNC_REST_CLASSPATH is unset (build it with `bash scripts/setup-rest.sh`, ' +
    'start it with `source scripts/start-rest.sh`; scripts/test.sh does both)';

/** A running private REST catalog. */
export interface RestServer {
  /** `http://127.0.0.1:<port>`. */
  readonly uri: string;
  /** The server's own warehouse directory (tables it creates itself go here). */
  readonly warehouse: string;
  /** Its SQLite database (survives a restart). */
  readonly database: string;
  /** Stops it (SIGKILL when `hard`); resolves when the process is gone. */
  stop(hard?: boolean): Promise<void>;
}

/** Options of {@link startRestServer}. */
export interface RestServerOptions {
  /** `client-id:secret`: require OAuth2 client-credentials tokens. */
  readonly credential?: string;
  /** Token lifetime in seconds (with `credential`; default 3600). */
  readonly tokenTtlSeconds?: number;
  /** Reuse this database (a restart of a stopped server). */
  readonly database?: string;
  readonly warehouse?: string;
}

/** Starts a private reference REST catalog on a free loopback port. */
export async function startRestServer(options: RestServerOptions = {}): Promise<RestServer> {
  const classpath = process.env.IMSYNC_REST_CLASSPATH;
  if (!classpath) throw new Error(restSkipReason || 'no REST classpath');
  const dir = scratchDir('rest-server');
  const warehouse = options.warehouse ?? path.join(dir, 'warehouse');
  const database = options.database ?? path.join(dir, 'catalog.db');
  mkdirSync(warehouse, { recursive: true });
  const args = ['-Xmx256m', '-cp', classpath, 'imsync.RestCatalogServer', warehouse, database];
  if (options.credential) args.push(options.credential, String(options.tokenTtlSeconds ?? 3600));
  const child: ChildProcess = spawn('java', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const uri = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`REST server did not start in 60 s: ${stderr}`)), 60_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { uri: string }).uri);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`REST server exited (${code}): ${stderr}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    uri,
    warehouse,
    database,
    async stop(hard = false) {
      if (child.exitCode === null && child.signalCode === null) {
        if (hard) child.kill('SIGKILL');
        else child.stdin?.end();
      }
      await exited;
    },
  };
}
