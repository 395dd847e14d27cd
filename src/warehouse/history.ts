/**
 * The run history of a table: one JSON line per run in `<metadata-root>/.iceberg-sync/history.jsonl`
 * (the newest up to 100 lines) and `history.1.jsonl`, `history.2.jsonl`, ... (older ones, 100 lines
 * each), as many as keep the newest `maxLines` lines. `status` reads the last line; a person reads
 * the files to see when a table last moved and why it failed.
 *
 * Storage has no append, so a record is added by reading the current file and writing it whole
 * (which is why it stays short), under a short lock of its own (`history.lock`, created if absent)
 * so that two hosts finishing runs of the same table at the same moment do not lose a line. Lines hold what the JSON report holds
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
  /** The RPO lag after the run (see `SyncReport.lagSeconds`), when known. */
  readonly lagSeconds?: number;
  readonly filesRewritten?: number;
  readonly host?: string;
  readonly error?: { code: string; message: string };
}

/** Where a table's history lives: the newest lines; older ones in `history.<n>.jsonl` (1 = the newest of them). */
export function historyPath(metadataRoot: string, segment = 0): string {
  return `${stateDir(metadataRoot)}/history${segment ? `.${segment}` : ''}.jsonl`;
}

/**
 * Lines per file. Storage has no append, so each run rewrites the current file: keeping it short
 * keeps that write small however long the history is; a full file moves to `history.1.jsonl`
 * (and the older ones one place on).
 */
const SEGMENT_LINES = 100;

function segmentsFor(maxLines: number): { size: number; older: number } {
  const size = Math.max(1, Math.min(SEGMENT_LINES, maxLines));
  return { size, older: Math.ceil(maxLines / size) };
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
 * Appends `record` to the table's history, keeping (at least) the newest `maxLines` lines (0: no
 * history is kept). A failure is a warning: the history never fails a run.
 */
export async function appendHistory(
  resolve: StorageResolver,
  metadataRoot: string,
  record: HistoryRecord,
  options: { maxLines?: number; logger?: Logger } = {},
): Promise<void> {
  const max = options.maxLines ?? 1000;
  if (max === 0) return;
  const { size, older } = segmentsFor(max);
  const path = historyPath(metadataRoot);
  const line = JSON.stringify(record, (_k, v) => (typeof v === 'string' ? redactSecrets(v) : v));
  const write = (p: string, ls: readonly string[]) =>
    resolve(p).write(p, new TextEncoder().encode(ls.length ? `${ls.join('\n')}\n` : ''));
  try {
    await withHistoryLock(resolve, metadataRoot, async () => {
      let current = lines(await readText(resolve, path));
      if (current.length >= size) {
        // Rotate: every older file one place on (the oldest dropped), the full one becomes .1.
        for (let n = older; n >= 2; n--) {
          const prev = lines(await readText(resolve, historyPath(metadataRoot, n - 1)));
          if (prev.length) await write(historyPath(metadataRoot, n), prev);
        }
        await write(historyPath(metadataRoot, 1), current);
        current = [];
      }
      await write(path, [...current, line]);
    });
  } catch (err) {
    (options.logger ?? defaultLogger).warn(`could not record the run in ${path}: ${(err as Error).message}`);
  }
}

/** The table's history, oldest first (empty without one); unreadable lines are left out. */
export async function readHistory(resolve: StorageResolver, metadataRoot: string): Promise<HistoryRecord[]> {
  const out: HistoryRecord[] = [];
  const parse = (text: string) => {
    for (const l of lines(text)) {
      try {
        out.push(JSON.parse(l) as HistoryRecord);
      } catch {
        // A line cut by a full disk: the others still count.
      }
    }
  };
  // The older files, oldest first, up to the first one missing.
  const older: string[] = [];
  for (let n = 1; ; n++) {
    const text = await readText(resolve, historyPath(metadataRoot, n));
    if (!text) break;
    older.unshift(text);
  }
  for (const text of older) parse(text);
  parse(await readText(resolve, historyPath(metadataRoot)));
  return out;
}

/** The table's last recorded run, if any: one read of the current file (short by design). */
export async function lastRun(
  resolve: StorageResolver,
  metadataRoot: string,
): Promise<HistoryRecord | undefined> {
  for (const segment of [0, 1]) {
    const all = lines(await readText(resolve, historyPath(metadataRoot, segment)));
    for (let i = all.length - 1; i >= 0; i--) {
      try {
        return JSON.parse(all[i]!) as HistoryRecord;
      } catch {
        // a damaged line: the one before
      }
    }
  }
  return undefined;
}

/** A table's lag at one moment, as the watch status page draws it. */
export interface LagPoint {
  /** ISO 8601. */
  readonly at: string;
  readonly lagSeconds: number;
}

/**
 * The lag after each recorded run, oldest first, timed at the run's end. Lines from before the
 * lag was recorded count as 0 when the run left the table at the replica's newest version
 * (`committed`, `up-to-date`); runs whose lag is not known (failed, or behind without a figure)
 * are left out.
 */
export function lagPoints(records: readonly HistoryRecord[]): LagPoint[] {
  const out: LagPoint[] = [];
  for (const r of records) {
    const lag = r.lagSeconds ?? (r.status === 'committed' || r.status === 'up-to-date' ? 0 : undefined);
    const start = Date.parse(r.at);
    if (lag === undefined || !Number.isFinite(lag) || !Number.isFinite(start)) continue;
    out.push({ at: new Date(start + (r.durationMs ?? 0)).toISOString(), lagSeconds: lag });
  }
  return out;
}
