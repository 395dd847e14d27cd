/**
 * The HDFS the WebHDFS tests run against: the MiniDFSCluster `scripts/start-hdfs.sh` starts (named
 * by IMSYNC_HDFS_NAMENODE and IMSYNC_HDFS_USER), and private clusters of the same build
 * (IMSYNC_HDFS_CLASSPATH) for tests that fail NameNodes over or stop them: an HA pair among them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { WebHdfsStorageOptions } from '../../src/storage/webhdfs/index.ts';
import { relativeFiles } from './s3.ts';

/** Where a WebHDFS NameNode answers, and the HDFS superuser. */
export interface HdfsServer {
  readonly namenode: string;
  readonly user: string;
  /** The NameNode's RPC address (`127.0.0.1:port`), for Hadoop's own clients (Spark); may be unset. */
  readonly rpc?: string;
}

/** The shared test cluster, or undefined when none was started. */
export const hdfsServer: HdfsServer | undefined = process.env.IMSYNC_HDFS_NAMENODE
  ? {
      namenode: process.env.IMSYNC_HDFS_NAMENODE,
      user: process.env.IMSYNC_HDFS_USER || 'root',
      ...(process.env.IMSYNC_HDFS_RPC ? { rpc: process.env.IMSYNC_HDFS_RPC } : {}),
    }
  : undefined;

/** Why the HDFS tests are skipped, or false when a cluster is there. */
export const hdfsSkipReason: string | false = hdfsServer
  ? false
  : 'no HDFS: IMSYNC_HDFS_NAMENODE is unset (build the minicluster with `bash scripts/setup-hdfs.sh`, ' +
    'start it with `source scripts/start-hdfs.sh`; scripts/test.sh does both)';

/** Why the tests with private clusters (HA failover, a NameNode stopped) are skipped, or false. */
export const privateHdfsSkipReason: string | false = process.env.IMSYNC_HDFS_CLASSPATH
  ? false
  : 'no HDFS minicluster build: IMSYNC_HDFS_CLASSPATH is unset (scripts/start-hdfs.sh sets it)';

/** WebHdfsStorage options for `server`, as its superuser. */
export function hdfsOptions(server: HdfsServer, extra: WebHdfsStorageOptions = {}): WebHdfsStorageOptions {
  return { namenodes: [server.namenode], user: server.user, ...extra };
}

let dirCounter = 0;

/** A fresh directory name (not created) for one test: `/imsync-<pid>-<time>-<n>`. */
export function uniqueDir(prefix = 'imsync'): string {
  return `/${prefix}-${process.pid}-${Date.now().toString(36)}-${dirCounter++}`;
}

/**
 * Copies a local directory tree to `hdfsDir` with plain WebHDFS calls (not the code under test), as
 * a replication to HDFS would.
 */
export async function uploadDirToHdfs(server: HdfsServer, localDir: string, hdfsDir: string): Promise<void> {
  const rels = relativeFiles(localDir);
  const queue = [...rels];
  const worker = async () => {
    for (let rel = queue.shift(); rel !== undefined; rel = queue.shift()) {
      await putRaw(server, `${hdfsDir}/${rel}`, readFileSync(path.join(localDir, rel)));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** CREATE with overwrite through the NameNode's redirect, by hand. */
export async function putRaw(server: HdfsServer, hdfsPath: string, body: Uint8Array): Promise<void> {
  const url = `${server.namenode}/webhdfs/v1${hdfsPath.split('/').map(encodeURIComponent).join('/')}?op=CREATE&overwrite=true&user.name=${server.user}`;
  const nn = await fetch(url, { method: 'PUT', redirect: 'manual' });
  const location = nn.headers.get('location');
  if (nn.status !== 307 || !location) throw new Error(`CREATE ${hdfsPath}: NameNode answered ${nn.status}`);
  // node:http, not fetch: the DataNode's unsolicited 100 Continue trips fetch.
  const { request } = await import('node:http');
  await new Promise<void>((resolve, reject) => {
    const req = request(location, { method: 'PUT', headers: { 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 201
          ? resolve()
          : reject(new Error(`CREATE ${hdfsPath}: DataNode ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A private MiniDFSCluster of its own, which a test may fail over or stop. */
export interface PrivateHdfs {
  /** NameNode HTTP addresses, in index order (NameNode 0 starts active). */
  readonly namenodes: readonly string[];
  readonly user: string;
  /** Milliseconds the cluster took to come up, as it measured. */
  readonly startupMs: number;
  /** Sends one command (`failover 1`, `stop-namenode 0`) and waits for its answer line. */
  command(line: string): Promise<string>;
  /** Shuts the cluster down and removes its data. */
  stop(): Promise<void>;
}

/** Starts a private MiniDFSCluster (`ha`: two NameNodes, the first active). */
export async function startPrivateHdfs(options: { ha?: boolean } = {}): Promise<PrivateHdfs> {
  const classpath = process.env.IMSYNC_HDFS_CLASSPATH;
  if (!classpath) throw new Error('IMSYNC_HDFS_CLASSPATH is unset');
  const dir = mkdtempSync(path.join(tmpdir(), 'imsync-hdfs-private-'));
  const child: ChildProcess = spawn(
    'java',
    [
      '--add-opens',
      'java.base/java.lang=ALL-UNNAMED',
      '-Xmx1g',
      '-cp',
      classpath,
      'imsync.HdfsMiniCluster',
      path.join(dir, 'data'),
      ...(options.ha ? ['--ha'] : []),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-8000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  const buffered: string[] = [];
  lines.on('line', (l) => {
    const w = waiting.shift();
    if (w) w(l);
    else buffered.push(l);
  });
  const nextLine = (timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const b = buffered.shift();
      if (b !== undefined) return resolve(b);
      const t = setTimeout(
        () => reject(new Error(`no answer from the minicluster in ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onExit = () =>
        reject(new Error(`the minicluster exited: ${log.split('\n').slice(-5).join(' | ')}`));
      child.once('exit', onExit);
      waiting.push((l) => {
        clearTimeout(t);
        child.off('exit', onExit);
        resolve(l);
      });
    });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin!.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const info = JSON.parse(await nextLine(120_000)) as {
      namenodes: string[];
      user: string;
      startupMs: number;
    };
    return {
      namenodes: info.namenodes,
      user: info.user,
      startupMs: info.startupMs,
      command: async (line) => {
        child.stdin!.write(`${line}\n`);
        const answer = await nextLine(60_000);
        if (!answer.startsWith('ok')) throw new Error(`minicluster: ${line}: ${answer}`);
        return answer;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
