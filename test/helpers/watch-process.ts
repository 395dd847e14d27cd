/** A watch process (watch-child.ts) for tests: its JSON log lines, its URL, cues to act on, its end. */
import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from './paths.ts';

/** One JSON log line. */
export type LogLine = Record<string, unknown> & { msg: string; level: string };

/** A running watch. */
export interface WatchProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[];
  /** Lines that were not JSON (must stay empty: every stderr line of --log-format json is JSON). */
  readonly other: string[];
  /** Resolves with the first line (already seen or to come) for which `pred` holds. */
  waitFor(pred: (l: LogLine) => boolean, what: string): Promise<LogLine>;
  /** The HTTP server's URL. */
  url(): Promise<string>;
  /** How it ended. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const child = path.join(repoRoot, 'test', 'helpers', 'watch-child.ts');

/** Starts watch over the table list `policyFile`. */
export function startWatch(policyFile: string, intervalMs: number, metricsFile?: string): WatchProcess {
  return watchProcess([child, policyFile, String(intervalMs), ...(metricsFile ? [metricsFile] : [])]);
}

/** Runs `node argv` as a watch that logs JSON lines on stderr (watch-child.ts, or the CLI's `watch`). */
export function watchProcess(argv: readonly string[]): WatchProcess {
  const proc = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: LogLine[] = [];
  const other: string[] = [];
  const waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let buf = '';
  let ended = false;
  const rejecters: ((e: Error) => void)[] = [];
  proc.stderr!.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const text = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
      if (!text.trim()) continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        other.push(text);
        continue;
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pred(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('close', (code, signal) => {
      ended = true;
      for (const r of rejecters) r(new Error(`watch exited (${code ?? signal}) first`));
      resolve({ code, signal });
    });
  });
  const waitFor = (pred: (l: LogLine) => boolean, what: string) => {
    const seen = lines.find(pred);
    if (seen) return Promise.resolve(seen);
    if (ended)
      return Promise.reject(new Error(`watch exited before ${what}:\n${lines.map((l) => l.msg).join('\n')}`));
    return new Promise<LogLine>((resolve, reject) => {
      waiters.push({ pred, resolve });
      rejecters.push((e) =>
        reject(new Error(`${e.message}, before ${what}:\n${lines.map((l) => l.msg).join('\n')}`)),
      );
    });
  };
  return {
    child: proc,
    lines,
    other,
    waitFor,
    url: async () => String((await waitFor((l) => typeof l.url === 'string', 'the server listened')).url),
    exit,
  };
}

/** The line a run writes when it finishes. */
export const runFinished = (l: LogLine) => /^run \S+ finished/.test(l.msg);
/** The line the table runner writes when a table's sync starts. */
export const syncStarted = (table: string) => (l: LogLine) =>
  l.table === table && l.msg === `${table}: sync started`;
/** The line the table runner writes with a table's result. */
export const syncEnded = (table: string) => (l: LogLine) =>
  l.table === table && typeof l.status === 'string' && l.msg === `${table}: ${l.status}`;
