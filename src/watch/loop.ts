/**
 * The scheduler of `watch`: warehouse runs one after another at an interval (plus jitter), never
 * overlapping; per-table back-off on repeated failures; policy reloads between runs; a stop that
 * lets the tables in flight finish.
 *
 * What a run does, how the policy is loaded and how status is computed are injected
 * ({@link WatchDeps}): the loop is only the schedule and its bookkeeping, so it is the same over
 * the warehouse engine in production and over a handful of tables in tests.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type FSWatcher, watch as fsWatch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { AbortedError, exitCodeFor, IcebergSyncError } from '../errors.ts';
import type { WarehouseMetrics } from '../metrics/metrics.ts';
import type { TableStatus, WarehouseRunReport, WarehouseTableReport } from '../metrics/warehouse-types.ts';
import { childLogger, defaultLogger, type Logger } from '../util/logger.ts';

/** A table's RPO lag at one moment (a point of the status page's sparkline). */
export interface LagSample {
  /** ISO 8601. */
  readonly at: string;
  readonly lagSeconds: number;
}

/** What a run is given. */
export interface RunContext {
  /** Put on every log line of the run (and on its report). */
  readonly runId: string;
  /** Aborted on the first SIGTERM or SIGINT: start no new table; the tables in flight finish. */
  readonly stop: AbortSignal;
  /** Aborted on the second: the tables in flight are cut short too (their catalogs stay at the last commit). */
  readonly abort: AbortSignal;
  /** True for a table in back-off: report it `skipped` without syncing it. */
  readonly skip: (table: string) => boolean;
  /** The run's logger, with its `runId` bound. */
  readonly logger: Logger;
  /** Call when a table's sync starts. */
  readonly onTableStart: (table: string) => void;
  /** Call when a table's sync ends, whatever its result. */
  readonly onTableDone: (report: WarehouseTableReport) => void;
}

/** What the loop drives. */
export interface WatchDeps {
  /** (Re)loads the policy from its file; throws (a ConfigError) when it is not valid. */
  loadPolicy(): Promise<void>;
  /** One warehouse run under the current policy. */
  runOnce(ctx: RunContext): Promise<WarehouseRunReport>;
  /** Every table of the policy and where it stands. */
  statusOf(ctx: { logger: Logger }): Promise<TableStatus[]>;
  /**
   * The tables' lag over time from their run histories, oldest first (the sparkline before this
   * process; at most `limit` points each).
   */
  historyOf?(
    tables: readonly string[],
    ctx: { logger: Logger; limit: number },
  ): Promise<ReadonlyMap<string, readonly LagSample[]>>;
  /** The files the policy is read from, watched for changes. */
  policyFiles?(): readonly string[];
}

/** Options of {@link WatchLoop}. */
export interface WatchLoopOptions {
  /** Time from one run's start to the next one's. */
  readonly intervalMs: number;
  /** Up to this much is added to each interval at random, so that many workers spread out (default 0). */
  readonly jitterMs?: number;
  /** The longest a failing table is left out (default one hour, and never below the interval). */
  readonly maxBackoffMs?: number;
  readonly logger?: Logger;
  /** Fed with every run and status check. */
  readonly metrics?: WarehouseMetrics;
  /** Called after each round (run and status check), e.g. to write the metrics textfile. */
  readonly onRound?: (round: WatchRound) => Promise<void>;
  /** Random numbers in [0, 1) for the jitter (default Math.random). */
  readonly random?: () => number;
  /** Milliseconds since the epoch (default Date.now): run starts and back-off are measured by it. */
  readonly clock?: () => number;
}

/** One finished round. */
export interface WatchRound {
  /** 1 for the first run of this process. */
  readonly index: number;
  readonly report: WarehouseRunReport;
  /** Undefined when the status check failed. */
  readonly status: readonly TableStatus[] | undefined;
}

/** A table left out of runs after failing. */
export interface Backoff {
  readonly table: string;
  /** Failed syncs in a row. */
  readonly failures: number;
  /** ISO 8601: the first run start at which the table is tried again. */
  readonly until: string;
}

/** What the loop knows now: for the status page, `/readyz` and tests. */
export interface WatchState {
  /** ISO 8601. */
  readonly startedAt: string;
  readonly phase: 'starting' | 'running' | 'waiting' | 'stopping' | 'stopped';
  /** Rounds finished. */
  readonly rounds: number;
  readonly ready: boolean;
  readonly intervalMs: number;
  /** ISO 8601; while waiting. */
  readonly nextRunAt?: string;
  readonly currentRunId?: string;
  /** Tables being synced now. */
  readonly inFlight: readonly string[];
  readonly lastReport?: WarehouseRunReport;
  readonly status: readonly TableStatus[];
  /** When the status was last computed (ISO 8601). */
  readonly statusAt?: string;
  readonly statusError?: string;
  readonly lagHistory: ReadonlyMap<string, readonly LagSample[]>;
  readonly backoff: readonly Backoff[];
  /** ISO 8601 of the last successful policy load. */
  readonly policyLoadedAt?: string;
  /** Why the last reload failed (the previous policy stays in force). */
  readonly policyError?: string;
}

/** Points kept per table for the sparkline: a day at 6-minute intervals. */
const LAG_POINTS = 240;
/** File-change events come in bursts (editors write, rename, chmod): reload once they settle. */
const RELOAD_DEBOUNCE_MS = 300;
/** Statuses that end a table's back-off. */
const SUCCESS: ReadonlySet<string> = new Set(['committed', 'up-to-date', 'behind']);

/** A run id that sorts by time: `20261202T011500Z-1a2b3c`. */
export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d{3}/, '')
    .replace(/[-:]/g, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The report of a run that threw instead of reporting (the policy's catalog unreachable, a bug). */
function failedRunReport(runId: string, startedAt: Date, err: unknown): WarehouseRunReport {
  return {
    runId,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date(Math.max(Date.now(), startedAt.getTime())).toISOString(),
    status: 'error',
    exitCode: exitCodeFor(err),
    tables: [],
  };
}

/** The scheduler. `run()` resolves the process exit code once stopped. */
export class WatchLoop {
  readonly #deps: WatchDeps;
  readonly #o: WatchLoopOptions;
  readonly #logger: Logger;
  readonly #stop = new AbortController();
  readonly #abort = new AbortController();
  readonly #clock: () => number;
  readonly #startedAt: Date;
  #phase: WatchState['phase'] = 'starting';
  #rounds = 0;
  #ready = false;
  #nextRunAt: Date | undefined;
  #runId: string | undefined;
  readonly #inFlight = new Set<string>();
  #lastReport: WarehouseRunReport | undefined;
  #status: readonly TableStatus[] = [];
  #statusAt: Date | undefined;
  #statusError: string | undefined;
  readonly #lag = new Map<string, LagSample[]>();
  readonly #backoff = new Map<string, { failures: number; untilMs: number }>();
  #policyLoadedAt: Date | undefined;
  #policyError: string | undefined;
  /** Hash of the policy files as last (attempted to be) loaded. */
  #policyHash: string | undefined;
  #reloadPending: string | undefined;
  #reloading: Promise<void> = Promise.resolve();
  #watchers: FSWatcher[] = [];
  #debounce: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  constructor(deps: WatchDeps, options: WatchLoopOptions) {
    this.#deps = deps;
    this.#o = options;
    this.#logger = options.logger ?? defaultLogger;
    this.#clock = options.clock ?? Date.now;
    this.#startedAt = new Date(this.#clock());
  }

  /** First stop (SIGTERM, SIGINT): no new table starts; the loop ends after the tables in flight. */
  stop(reason = 'stop requested'): void {
    if (this.#stop.signal.aborted) return;
    const inFlight = [...this.#inFlight];
    this.#logger.info(
      { inFlight },
      inFlight.length
        ? `${reason}: finishing the tables in flight (${inFlight.join(', ')}), then exiting`
        : `${reason}: exiting`,
    );
    if (this.#phase !== 'stopped') this.#phase = 'stopping';
    this.#stop.abort(new AbortedError(reason));
    this.#wake?.();
  }

  /** Second stop: the tables in flight are cut short as well (exit code 8). */
  abort(reason = 'stopped again'): void {
    if (!this.#stop.signal.aborted) this.stop(reason);
    if (this.#abort.signal.aborted) return;
    this.#logger.warn(`${reason}: cutting the tables in flight short (the catalog stays at its last commit)`);
    this.#abort.abort(new AbortedError(reason));
  }

  /** True once stop() was called. */
  get stopping(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Reloads the policy now, or after the run in flight (a run never sees two policies). */
  requestReload(why: string): void {
    if (this.#stop.signal.aborted) return;
    if (this.#phase === 'running') {
      this.#reloadPending = why;
      return;
    }
    this.#reloading = this.#reloading.then(() => this.#reload(why));
  }

  /** A copy of what the loop knows now. */
  state(): WatchState {
    return {
      startedAt: this.#startedAt.toISOString(),
      phase: this.#phase,
      rounds: this.#rounds,
      ready: this.#ready && !this.#stop.signal.aborted,
      intervalMs: this.#o.intervalMs,
      ...(this.#nextRunAt && this.#phase === 'waiting' ? { nextRunAt: this.#nextRunAt.toISOString() } : {}),
      ...(this.#runId && this.#phase === 'running' ? { currentRunId: this.#runId } : {}),
      inFlight: [...this.#inFlight],
      ...(this.#lastReport ? { lastReport: this.#lastReport } : {}),
      status: this.#status,
      ...(this.#statusAt ? { statusAt: this.#statusAt.toISOString() } : {}),
      ...(this.#statusError ? { statusError: this.#statusError } : {}),
      lagHistory: new Map(this.#lag),
      backoff: [...this.#backoff].map(([table, b]) => ({
        table,
        failures: b.failures,
        until: new Date(b.untilMs).toISOString(),
      })),
      ...(this.#policyLoadedAt ? { policyLoadedAt: this.#policyLoadedAt.toISOString() } : {}),
      ...(this.#policyError ? { policyError: this.#policyError } : {}),
    };
  }

  /**
   * Loads the policy (a failure here is the caller's: exit 2), then runs rounds until stopped.
   * Resolves 0 after a stop, 8 when the tables in flight had to be cut short.
   */
  async run(): Promise<number> {
    await this.#deps.loadPolicy();
    this.#policyLoadedAt = new Date(this.#clock());
    this.#policyHash = await this.#hashPolicyFiles();
    this.#watchPolicyFiles();
    try {
      await this.#seedHistory();
      while (!this.#stop.signal.aborted) {
        await this.#reloading;
        if (this.#policyHash !== undefined && (await this.#hashPolicyFiles()) !== this.#policyHash) {
          // A change fs.watch did not report (network file systems, some ConfigMap updates).
          await this.#reload('policy file changed');
        }
        const started = new Date(this.#clock());
        await this.#round(started);
        if (this.#reloadPending !== undefined) {
          const why = this.#reloadPending;
          this.#reloadPending = undefined;
          await this.#reload(why);
        }
        if (this.#stop.signal.aborted) break;
        const jitter = (this.#o.random ?? Math.random)() * (this.#o.jitterMs ?? 0);
        await this.#waitUntil(started.getTime() + this.#o.intervalMs + jitter);
      }
    } finally {
      this.#phase = 'stopped';
      for (const w of this.#watchers) w.close();
      this.#watchers = [];
      if (this.#debounce) clearTimeout(this.#debounce);
    }
    return this.#abort.signal.aborted ? 8 : 0;
  }

  async #round(started: Date): Promise<void> {
    const runId = newRunId(started);
    const logger = childLogger(this.#logger, { runId });
    this.#runId = runId;
    this.#phase = 'running';
    logger.info({ round: this.#rounds + 1 }, `run ${runId} started`);
    let report: WarehouseRunReport;
    try {
      report = await this.#deps.runOnce({
        runId,
        stop: this.#stop.signal,
        abort: this.#abort.signal,
        skip: (table) => this.#inBackoff(table, started.getTime()),
        logger,
        onTableStart: (table) => this.#inFlight.add(table),
        onTableDone: (t) => {
          this.#inFlight.delete(t.table);
          this.#noteResult(t, started.getTime(), logger);
        },
      });
    } catch (err) {
      const code = err instanceof IcebergSyncError ? err.code : 'INTERNAL';
      logger.error(
        { code, ...(err instanceof IcebergSyncError ? {} : { stack: (err as Error).stack }) },
        `run ${runId} failed: ${(err as Error).message}`,
      );
      report = failedRunReport(runId, started, err);
    }
    this.#inFlight.clear();
    // Results runOnce did not announce one by one.
    for (const t of report.tables) this.#noteResult(t, started.getTime(), logger, true);
    this.#lastReport = report;
    this.#o.metrics?.recordRun(report);
    const counts = new Map<string, number>();
    for (const t of report.tables) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
    logger.info(
      { status: report.status, exitCode: report.exitCode, tables: Object.fromEntries(counts) },
      `run ${runId} finished: ${report.status}, ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ') || 'no tables'}`,
    );
    let status: TableStatus[] | undefined;
    if (!this.#abort.signal.aborted) {
      try {
        status = await this.#deps.statusOf({ logger });
        this.#applyStatus(status);
      } catch (err) {
        this.#statusError = (err as Error).message;
        logger.warn(`status check failed: ${(err as Error).message}`);
      }
    }
    // The round ends once its outputs (the metrics textfile) are written.
    try {
      await this.#o.onRound?.({ index: this.#rounds + 1, report, status });
    } catch (err) {
      logger.warn((err as Error).message);
    }
    this.#rounds++;
    this.#ready = true;
    if (!this.#stop.signal.aborted) this.#phase = 'waiting';
  }

  /** Updates the back-off of a table from one result (once per table and run). */
  readonly #noted = new WeakMap<WarehouseTableReport, true>();
  #noteResult(t: WarehouseTableReport, runStartMs: number, logger: Logger, quiet = false): void {
    if (this.#noted.has(t)) return;
    this.#noted.set(t, true);
    if (SUCCESS.has(t.status)) {
      if (this.#backoff.delete(t.table) && !quiet)
        logger.info({ table: t.table }, `${t.table}: back-off ended`);
      this.#o.metrics?.setConsecutiveFailures(t.table, 0);
      return;
    }
    if (t.status !== 'failed') return;
    const failures = (this.#backoff.get(t.table)?.failures ?? 0) + 1;
    const max = Math.max(this.#o.intervalMs, this.#o.maxBackoffMs ?? 3_600_000);
    // Failure n waits 2^(n-1) intervals from the failed run's start: the next run retries after
    // one failure, then every 2nd, 4th, ... run, up to the maximum.
    const delay = Math.min(max, this.#o.intervalMs * 2 ** (failures - 1));
    this.#backoff.set(t.table, { failures, untilMs: runStartMs + delay });
    this.#o.metrics?.setConsecutiveFailures(t.table, failures);
    if (failures > 1) {
      logger.warn(
        { table: t.table, failures, backoffSeconds: delay / 1000 },
        `${t.table}: ${failures} failed syncs in a row; next try in ${Math.round(delay / 1000)} s`,
      );
    }
  }

  #inBackoff(table: string, runStartMs: number): boolean {
    const b = this.#backoff.get(table);
    return b !== undefined && runStartMs < b.untilMs;
  }

  #applyStatus(rows: readonly TableStatus[]): void {
    const at = new Date(this.#clock());
    this.#status = rows;
    this.#statusAt = at;
    this.#statusError = undefined;
    this.#o.metrics?.setStatus(rows);
    const tables = new Set(rows.map((r) => r.table));
    for (const t of [...this.#lag.keys()]) if (!tables.has(t)) this.#lag.delete(t);
    for (const t of [...this.#backoff.keys()]) if (!tables.has(t)) this.#backoff.delete(t);
    for (const r of rows) {
      if (r.lagSeconds === undefined || !Number.isFinite(r.lagSeconds)) continue;
      const points = this.#lag.get(r.table) ?? [];
      points.push({ at: at.toISOString(), lagSeconds: r.lagSeconds });
      if (points.length > LAG_POINTS) points.splice(0, points.length - LAG_POINTS);
      this.#lag.set(r.table, points);
    }
  }

  /** Before the first run: the status so far and the lag history, so the page has something to show. */
  async #seedHistory(): Promise<void> {
    try {
      const rows = await this.#deps.statusOf({ logger: this.#logger });
      if (this.#deps.historyOf) {
        const tables = rows.map((r) => r.table);
        const past = await this.#deps.historyOf(tables, { logger: this.#logger, limit: LAG_POINTS });
        for (const t of tables) {
          const points = [...(past.get(t) ?? [])].slice(-LAG_POINTS);
          if (points.length) this.#lag.set(t, points);
        }
      }
      this.#applyStatus(rows);
    } catch (err) {
      this.#logger.warn(`status check before the first run failed: ${(err as Error).message}`);
    }
  }

  async #reload(why: string): Promise<void> {
    this.#policyHash = await this.#hashPolicyFiles();
    try {
      await this.#deps.loadPolicy();
      this.#policyLoadedAt = new Date(this.#clock());
      this.#policyError = undefined;
      // The fix for a failing table may be in the new policy: retry every table at the next run
      // (a further failure goes on doubling from its count).
      for (const b of this.#backoff.values()) b.untilMs = 0;
      this.#o.metrics?.recordPolicyReload(true);
      this.#logger.info(`${why}: policy reloaded`);
    } catch (err) {
      this.#policyError = (err as Error).message;
      this.#o.metrics?.recordPolicyReload(false);
      this.#logger.error(
        { code: err instanceof IcebergSyncError ? err.code : 'INTERNAL' },
        `${why}: the policy was not reloaded, the previous one stays in force: ${(err as Error).message}`,
      );
    }
  }

  async #hashPolicyFiles(): Promise<string | undefined> {
    const files = this.#deps.policyFiles?.() ?? [];
    if (!files.length) return undefined;
    const h = createHash('sha256');
    for (const f of files) {
      try {
        h.update(await readFile(f));
      } catch (err) {
        h.update(`unreadable:${(err as NodeJS.ErrnoException).code}`);
      }
      h.update('\0');
    }
    return h.digest('hex');
  }

  /**
   * Watches the directories of the policy files (an editor or a ConfigMap update replaces the
   * file, which a watch on the file itself would lose); a change of content triggers a reload.
   */
  #watchPolicyFiles(): void {
    const dirs = new Set((this.#deps.policyFiles?.() ?? []).map((f) => nodePath.dirname(f)));
    for (const dir of dirs) {
      try {
        const w = fsWatch(dir, { persistent: false }, () => {
          if (this.#debounce) clearTimeout(this.#debounce);
          this.#debounce = setTimeout(() => void this.#checkPolicyFiles(), RELOAD_DEBOUNCE_MS);
        });
        w.on('error', (err) =>
          this.#logger.warn(`watching ${dir} for policy changes stopped: ${err.message}`),
        );
        this.#watchers.push(w);
      } catch (err) {
        this.#logger.warn(
          `cannot watch ${dir} for policy changes (${(err as Error).message}); changes are seen at the next run`,
        );
      }
    }
  }

  async #checkPolicyFiles(): Promise<void> {
    const hash = await this.#hashPolicyFiles();
    if (hash !== this.#policyHash) this.requestReload('policy file changed');
  }

  /** Waits until the clock reads `atMs` (a timer may fire a little early: checked again), or until stopped. */
  async #waitUntil(atMs: number): Promise<void> {
    this.#nextRunAt = new Date(Math.max(atMs, this.#clock()));
    while (!this.#stop.signal.aborted && this.#clock() < atMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(1, atMs - this.#clock()));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = done;
      });
      this.#wake = undefined;
    }
  }
}
