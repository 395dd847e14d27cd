/**
 * The run history of a table: one JSON line per run in `<metadata-root>/.iceberg-sync/history.jsonl`,
 * oldest first, trimmed to the newest `maxLines` lines. `status` reads the last one; a person
 * reads the file to see when a table last moved and why it failed.
 *
 * Storage has no append, so a record is added by reading the file and writing it whole, under a
 * short lock of its own (`history.lock`, created if absent) so that two hosts finishing runs of
 * the same table at the same moment do not lose a line. Lines hold what the JSON report holds
 * for the table (never a setting; strings pass the credential masking).
 */
import { hostname } from 'node:os';
import { AlreadyExistsError } from '../errors.ts';
import type { StorageResolver } from '../storage/router.ts';
import { stateDir } from '../table/checkpoint.ts';
import { defaultLogger, type Logger } from '../util/logger.ts';
import { redactSecrets } from '../util/redact.ts';

/** One line of the history. */
export interface HistoryRecord {
  readonly runId: string;
  /** When the table's run started, ISO 8601. */
  readonly at: string;
  readonly durationMs: number;
  /** The command: `sync-all`, `sync`, ... */
  readonly command: string;
  /** The table's status (`committed`, `up-to-date`, `behind`, `failed`, ...). */
  readonly status: string;
  readonly exitCode?: number;
  readonly snapshotId?: string;
  readonly metadataLocation?: string;
  /** The replicated metadata.json the DR table reflects after the run. */
  readonly sourceMetadata?: string;
  readonly missingFiles: number;
  readonly filesRewritten?: number;
  readonly host?: string;
  readonly error?: { code: string; message: string };
}

/** Where a table's history lives. */
export function historyPath(metadataRoot: string): string {
  return `${stateDir(metadataRoot)}/history.jsonl`;
}

const LOCK_WAIT_MS = 50;
const LOCK_ATTEMPTS = 40;
/** A history lock older than this was left by a killed process: taken over. */
const LOCK_STALE_MS = 30_000;

async function withHistoryLock<T>(
  resolve: StorageResolver,
  metadataRoot: string,
  fn: () => Promise<T>,
): Promise<T> {
  const path = `${stateDir(metadataRoot)}/history.lock`;
  const storage = resolve(path);
  const body = new TextEncoder().encode(JSON.stringify({ pid: process.pid, host: hostname() }));
  for (let attempt = 0; ; attempt++) {
    try {
      await storage.write(path, body, { ifNotExists: true });
      break;
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
      const st = await storage.stat(path);
      if (st?.mtimeMs !== undefined && Date.now() - st.mtimeMs > LOCK_STALE_MS) {
        await storage.delete(path);
        continue;
      }
      if (attempt >= LOCK_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, LOCK_WAIT_MS + Math.random() * LOCK_WAIT_MS));
    }
  }
  try {
    return await fn();
  } finally {
    await storage.delete(path);
  }
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

async function readText(resolve: StorageResolver, path: string): Promise<string> {
  const storage = resolve(path);
  if (!(await storage.stat(path))) return '';
  return new TextDecoder().decode(await storage.read(path));
}

/**
 * Appends `record` to the table's history, keeping the newest `maxLines` lines (0: no history is
 * kept). A failure is a warning: the history never fails a run.
 */
export async function appendHistory(
  resolve: StorageResolver,
  metadataRoot: string,
  record: HistoryRecord,
  options: { maxLines?: number; logger?: Logger } = {},
): Promise<void> {
  const max = options.maxLines ?? 1000;
  if (max === 0) return;
  const path = historyPath(metadataRoot);
  const line = JSON.stringify(record, (_k, v) => (typeof v === 'string' ? redactSecrets(v) : v));
  try {
    await withHistoryLock(resolve, metadataRoot, async () => {
      const kept = [...lines(await readText(resolve, path)), line].slice(-max);
      await resolve(path).write(path, new TextEncoder().encode(`${kept.join('\n')}\n`));
    });
  } catch (err) {
    (options.logger ?? defaultLogger).warn(`could not record the run in ${path}: ${(err as Error).message}`);
  }
}

/** The table's history, oldest first (empty without one); unreadable lines are left out. */
export async function readHistory(resolve: StorageResolver, metadataRoot: string): Promise<HistoryRecord[]> {
  const out: HistoryRecord[] = [];
  for (const l of lines(await readText(resolve, historyPath(metadataRoot)))) {
    try {
      out.push(JSON.parse(l) as HistoryRecord);
    } catch {
      // A line cut by a full disk: the others still count.
    }
  }
  return out;
}

/** The table's last recorded run, if any. */
export async function lastRun(
  resolve: StorageResolver,
  metadataRoot: string,
): Promise<HistoryRecord | undefined> {
  return (await readHistory(resolve, metadataRoot)).at(-1);
}
