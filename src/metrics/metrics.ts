/**
 * Prometheus metrics of warehouse runs and table status, on prom-client: what a run did (counters
 * and a duration histogram, cumulative), and where every table stands (gauges: RPO lag against its
 * threshold, missing files, last success).
 *
 * Counters must keep counting across the short-lived processes of `sync-all` under cron or a
 * systemd timer, so the cumulative families can be carried over: {@link WarehouseMetrics.carryOver}
 * gives them as prom-client's JSON, and a later process passes that back as its `seed`. The
 * exposition then sums seed and live values with prom-client's own aggregation (the one its
 * cluster mode uses), so no metric value is ever rebuilt by hand.
 */
import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from 'prom-client';
import type { TableStatus, WarehouseRunReport } from './warehouse-types.ts';

/** The statuses a table can end a run with, as `status` label values. */
export const TABLE_RESULTS = ['committed', 'up-to-date', 'behind', 'failed', 'skipped'] as const;

/** A run ending in one of these leaves the DR table at the newest version it could have: a success. */
const SUCCESS: ReadonlySet<string> = new Set(['committed', 'up-to-date', 'behind']);

/** Names of the metrics (documented in docs/usage.md, Metrics). */
export const METRIC_NAMES = {
  runs: 'iceberg_sync_runs_total',
  runDuration: 'iceberg_sync_run_duration_seconds',
  lastRunTimestamp: 'iceberg_sync_last_run_timestamp_seconds',
  lastRunDuration: 'iceberg_sync_last_run_duration_seconds',
  lastRunExitCode: 'iceberg_sync_last_run_exit_code',
  tables: 'iceberg_sync_tables',
  tableRuns: 'iceberg_sync_table_runs_total',
  tableRewrittenFiles: 'iceberg_sync_table_rewritten_files_total',
  tableRewrittenBytes: 'iceberg_sync_table_rewritten_bytes_total',
  tableLastSuccess: 'iceberg_sync_table_last_success_timestamp_seconds',
  tableLastRun: 'iceberg_sync_table_last_run_timestamp_seconds',
  tableLastRunDuration: 'iceberg_sync_table_last_run_duration_seconds',
  tableLastRunStatus: 'iceberg_sync_table_last_run_status',
  tableLag: 'iceberg_sync_table_lag_seconds',
  tableLagThreshold: 'iceberg_sync_table_lag_threshold_seconds',
  tableWithinThreshold: 'iceberg_sync_table_within_threshold',
  tableMissingFiles: 'iceberg_sync_table_missing_files',
  tableConsecutiveFailures: 'iceberg_sync_table_consecutive_failures',
  policyReloads: 'iceberg_sync_policy_reloads_total',
} as const;

/**
 * Families whose values accumulate across processes (carried over); the last-success gauge keeps
 * the latest time any process saw.
 */
const CUMULATIVE: ReadonlySet<string> = new Set([
  METRIC_NAMES.runs,
  METRIC_NAMES.runDuration,
  METRIC_NAMES.tableRuns,
  METRIC_NAMES.tableRewrittenFiles,
  METRIC_NAMES.tableRewrittenBytes,
  METRIC_NAMES.tableLastSuccess,
  METRIC_NAMES.policyReloads,
]);

/**
 * prom-client's default process metrics that break the naming conventions (`promtool check
 * metrics`: gauges named `_total`); left out of the exposition.
 */
const OFF_CONVENTION = new Set([
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]);

/** Run durations: from a no-op run over a few tables to a multi-hour first sync of a warehouse. */
const RUN_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400];

/** Cumulative metric families as prom-client's JSON (`Registry.getMetricsAsJSON`), for a later process. */
export type MetricsCarryOver = MetricObjectWithValues<MetricValue<string>>[];

/** Options of {@link WarehouseMetrics}. */
export interface WarehouseMetricsOptions {
  /** Also expose the process's CPU, memory, event-loop and GC metrics (a long-running watch). */
  readonly processMetrics?: boolean;
  /** Cumulative values of earlier processes ({@link WarehouseMetrics.carryOver}). */
  readonly seed?: MetricsCarryOver;
}

const seconds = (ms: number) => ms / 1000;
const epochSeconds = (iso: string) => {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t / 1000 : undefined;
};

/** The metrics of one process: fed with run reports and status, exposed as Prometheus text. */
export class WarehouseMetrics {
  readonly #registry = new Registry();
  readonly #process: Registry | undefined;
  #seed: MetricsCarryOver;
  /** The tables of the policy as last seen; series of other tables are dropped. */
  #tables: ReadonlySet<string> | undefined;
  /** Tables whose last-run gauges a run report set (a status row does not override those). */
  readonly #ranHere = new Set<string>();

  readonly #runs: Counter<'result'>;
  readonly #runDuration: Histogram<string>;
  readonly #lastRunTimestamp: Gauge<string>;
  readonly #lastRunDuration: Gauge<string>;
  readonly #lastRunExitCode: Gauge<string>;
  readonly #tablesByStatus: Gauge<'status'>;
  readonly #tableRuns: Counter<'table' | 'result'>;
  readonly #rewrittenFiles: Counter<'table'>;
  readonly #rewrittenBytes: Counter<'table'>;
  readonly #lastSuccess: Gauge<'table'>;
  readonly #lastRun: Gauge<'table'>;
  readonly #lastRunTableDuration: Gauge<'table'>;
  readonly #lastRunStatus: Gauge<'table' | 'status'>;
  readonly #lag: Gauge<'table'>;
  readonly #threshold: Gauge<'table'>;
  readonly #within: Gauge<'table'>;
  readonly #missing: Gauge<'table'>;
  readonly #failures: Gauge<'table'>;
  readonly #reloads: Counter<'result'>;

  constructor(options: WarehouseMetricsOptions = {}) {
    const registers = [this.#registry];
    const N = METRIC_NAMES;
    this.#runs = new Counter({
      name: N.runs,
      help: 'Warehouse runs (sync-all, or one round of watch), by the run status',
      labelNames: ['result'],
      registers,
    });
    this.#runDuration = new Histogram({
      name: N.runDuration,
      help: 'Wall time of a warehouse run',
      buckets: RUN_DURATION_BUCKETS,
      registers,
    });
    this.#lastRunTimestamp = new Gauge({
      name: N.lastRunTimestamp,
      help: 'When the last warehouse run finished (Unix time)',
      registers,
      aggregator: 'first',
    });
    this.#lastRunDuration = new Gauge({
      name: N.lastRunDuration,
      help: 'Wall time of the last warehouse run',
      registers,
      aggregator: 'first',
    });
    this.#lastRunExitCode = new Gauge({
      name: N.lastRunExitCode,
      help: 'Exit code of the last warehouse run (0: every table committed or up to date)',
      registers,
      aggregator: 'first',
    });
    this.#tablesByStatus = new Gauge({
      name: N.tables,
      help: 'Tables of the last warehouse run, by their status in it',
      labelNames: ['status'],
      registers,
      aggregator: 'first',
    });
    this.#tableRuns = new Counter({
      name: N.tableRuns,
      help: 'Table syncs, by their result',
      labelNames: ['table', 'result'],
      registers,
    });
    this.#rewrittenFiles = new Counter({
      name: N.tableRewrittenFiles,
      help: 'Metadata files (manifests, manifest lists, delete files) written for the table',
      labelNames: ['table'],
      registers,
    });
    this.#rewrittenBytes = new Counter({
      name: N.tableRewrittenBytes,
      help: 'Bytes of metadata written for the table',
      labelNames: ['table'],
      registers,
    });
    this.#lastSuccess = new Gauge({
      name: N.tableLastSuccess,
      help: 'When a sync of the table last ended committed, up to date or behind (Unix time)',
      labelNames: ['table'],
      registers,
      aggregator: 'max',
    });
    this.#lastRun = new Gauge({
      name: N.tableLastRun,
      help: 'When the table was last synced, whatever the result (Unix time)',
      labelNames: ['table'],
      registers,
      aggregator: 'first',
    });
    this.#lastRunTableDuration = new Gauge({
      name: N.tableLastRunDuration,
      help: 'Wall time of the last sync of the table',
      labelNames: ['table'],
      registers,
      aggregator: 'first',
    });
    this.#lastRunStatus = new Gauge({
      name: N.tableLastRunStatus,
      help: 'Result of the last sync of the table: 1 for its status, 0 for the others',
      labelNames: ['table', 'status'],
      registers,
      aggregator: 'first',
    });
    this.#lag = new Gauge({
      name: N.tableLag,
      help: 'RPO lag: how far the committed DR snapshot is behind the newest snapshot in the replica',
      labelNames: ['table'],
      registers,
      aggregator: 'first',
    });
    this.#threshold = new Gauge({
      name: N.tableLagThreshold,
      help: 'The RPO lag the policy allows the table',
      labelNames: ['table'],
      registers,
      aggregator: 'first',
    });
    this.#within = new Gauge({
      name: N.tableWithinThreshold,
      help: '1 when the table is within its RPO threshold, else 0',
      labelNames: ['table'],
      registers,
      aggregator: 'first',
    });
    this.#missing = new Gauge({
      name: N.tableMissingFiles,
      help: 'Files of the newest replicated version not (fully) at the DR site yet',
      labelNames: ['table'],
      registers,
      aggregator: 'first',
    });
    this.#failures = new Gauge({
      name: N.tableConsecutiveFailures,
      help: 'Failed syncs of the table in a row (watch backs off as this grows)',
      labelNames: ['table'],
      registers,
      aggregator: 'first',
    });
    this.#reloads = new Counter({
      name: N.policyReloads,
      help: 'Policy reloads of watch (file change or SIGHUP), by result',
      labelNames: ['result'],
      registers,
    });
    if (options.processMetrics) {
      this.#process = new Registry();
      collectDefaultMetrics({ register: this.#process });
    }
    this.#seed = (options.seed ?? []).filter((m) => CUMULATIVE.has(m.name));
  }

  /** Counts a finished warehouse run and sets the per-table gauges its reports give. */
  recordRun(report: WarehouseRunReport): void {
    const finished = epochSeconds(report.finishedAt);
    const started = epochSeconds(report.startedAt);
    this.#runs.inc({ result: report.status });
    if (finished !== undefined && started !== undefined) {
      this.#runDuration.observe(Math.max(0, finished - started));
      this.#lastRunDuration.set(Math.max(0, finished - started));
    }
    if (finished !== undefined) this.#lastRunTimestamp.set(finished);
    this.#lastRunExitCode.set(report.exitCode);
    const counts = new Map<string, number>(TABLE_RESULTS.map((s) => [s, 0]));
    for (const t of report.tables) {
      counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
      this.#tableRuns.inc({ table: t.table, result: t.status });
      // Skipped: not attempted (backed off, or left to another worker); its last run stands.
      if (t.status === 'skipped') continue;
      this.#rewrittenFiles.inc({ table: t.table }, t.filesRewritten ?? 0);
      this.#rewrittenBytes.inc({ table: t.table }, t.bytesWritten ?? 0);
      this.#missing.set({ table: t.table }, t.missingFiles);
      this.#setLastRun(t.table, t.status, finished, t.durationMs);
      this.#ranHere.add(t.table);
    }
    for (const [status, n] of counts) this.#tablesByStatus.set({ status }, n);
  }

  /**
   * Sets every table's standing from a status check: lag, threshold, missing files, and (for
   * tables no run of this process has reported yet) the last run the history holds. Series of
   * tables absent from `statuses` are dropped: `statuses` is the policy's whole table set.
   */
  setStatus(statuses: readonly TableStatus[]): void {
    this.setTables(statuses.map((s) => s.table));
    for (const s of statuses) {
      const table = s.table;
      if (s.lagSeconds !== undefined && Number.isFinite(s.lagSeconds)) this.#lag.set({ table }, s.lagSeconds);
      else this.#lag.remove({ table });
      this.#threshold.set({ table }, s.thresholdSeconds);
      this.#within.set({ table }, s.withinThreshold ? 1 : 0);
      this.#missing.set({ table }, s.missingFiles);
      if (s.lastRun && !this.#ranHere.has(table)) {
        this.#setLastRun(table, s.lastRun.status, epochSeconds(s.lastRun.at), s.lastRun.durationMs);
      }
    }
  }

  /**
   * The policy's whole table set: series of other tables (this process's and carried-over ones)
   * are dropped, so a table removed from the policy leaves the exposition.
   */
  setTables(names: Iterable<string>): void {
    const tables = new Set(names);
    for (const gone of [...(this.#tables ?? [])].filter((t) => !tables.has(t))) this.#forget(gone);
    this.#tables = tables;
  }

  /** Sets how many syncs of `table` failed in a row (0 after a success). */
  setConsecutiveFailures(table: string, failures: number): void {
    this.#failures.set({ table }, failures);
  }

  /** Counts a policy reload. */
  recordPolicyReload(ok: boolean): void {
    this.#reloads.inc({ result: ok ? 'success' : 'failure' });
  }

  #setLastRun(table: string, status: string, at: number | undefined, durationMs: number): void {
    if (at !== undefined) {
      this.#lastRun.set({ table }, at);
      if (SUCCESS.has(status)) this.#lastSuccess.set({ table }, at);
    }
    this.#lastRunTableDuration.set({ table }, seconds(durationMs));
    for (const s of TABLE_RESULTS) this.#lastRunStatus.set({ table, status: s }, s === status ? 1 : 0);
    if (!(TABLE_RESULTS as readonly string[]).includes(status)) this.#lastRunStatus.set({ table, status }, 1);
  }

  #forget(table: string): void {
    for (const g of [this.#lag, this.#threshold, this.#within, this.#missing, this.#failures]) {
      g.remove({ table });
    }
    for (const g of [this.#lastSuccess, this.#lastRun, this.#lastRunTableDuration]) g.remove({ table });
    for (const c of [this.#rewrittenFiles, this.#rewrittenBytes]) c.remove({ table });
    for (const status of TABLE_RESULTS) {
      this.#lastRunStatus.remove({ table, status });
      this.#tableRuns.remove({ table, result: status });
    }
    this.#ranHere.delete(table);
  }

  /** The seed without series of tables the policy no longer has. */
  #liveSeed(): MetricsCarryOver {
    const tables = this.#tables;
    if (!tables) return this.#seed;
    return this.#seed.map((m) => ({
      ...m,
      values: m.values.filter((v) => typeof v.labels.table !== 'string' || tables.has(v.labels.table)),
    }));
  }

  /** This process's families, summed with the seed when there is one. */
  async #families(): Promise<Registry> {
    const seed = this.#liveSeed();
    if (!seed.length) return this.#registry;
    // Live first: a gauge's `first` aggregation takes this process's value.
    return AggregatorRegistry.aggregate([await this.#registry.getMetricsAsJSON(), seed]);
  }

  /** The Prometheus text exposition (format 0.0.4), the process metrics after the tool's own. */
  async text(): Promise<string> {
    const own = await (await this.#families()).metrics();
    if (!this.#process) return own;
    const names = this.#process
      .getMetricsAsArray()
      .map((m) => m.name)
      .filter((n) => !OFF_CONVENTION.has(n));
    const processText = await Promise.all(names.map((n) => this.#process!.getSingleMetricAsString(n)));
    return `${own.replace(/\n*$/, '\n')}${processText.map((t) => t.replace(/\n*$/, '\n')).join('')}`;
  }

  /** The content type of {@link text}. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /** The cumulative families (seed plus this process), to seed a later process with. */
  async carryOver(): Promise<MetricsCarryOver> {
    const live = (await this.#registry.getMetricsAsJSON()).filter((m) => CUMULATIVE.has(m.name));
    const seed = this.#liveSeed();
    if (!seed.length) return live;
    const merged = await AggregatorRegistry.aggregate([live, seed]).getMetricsAsJSON();
    return merged.filter((m) => CUMULATIVE.has(m.name));
  }
}
