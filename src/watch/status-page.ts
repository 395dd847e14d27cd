/**
 * The status page of `watch` (`GET /`): every table's RPO lag against its threshold, its lag over
 * time as an inline SVG sparkline, missing files and last run, for the operator who would rather
 * look than read. One self-contained HTML document: no script, no external asset, so it works
 * behind any proxy and in a locked-down browser; it refreshes itself with a meta tag.
 */
import type { TableStatus } from '../metrics/warehouse-types.ts';
import type { LagSample, WatchState } from './loop.ts';

/** How a table is doing, worst first: the page's marker and sort order. */
export type TableState = 'failed' | 'over-threshold' | 'behind' | 'unknown' | 'ok';

const STATE_ORDER: readonly TableState[] = ['failed', 'over-threshold', 'behind', 'unknown', 'ok'];
const STATE_LABEL: Record<TableState, string> = {
  failed: 'FAILED',
  'over-threshold': 'OVER THRESHOLD',
  behind: 'BEHIND',
  unknown: 'NO LAG YET',
  ok: 'OK',
};

/** The state of one table's row. */
export function tableState(s: TableStatus): TableState {
  if (s.error || s.lastRun?.status === 'failed') return 'failed';
  if (!s.withinThreshold && s.lagSeconds !== undefined) return 'over-threshold';
  if (s.lastRun?.status === 'behind' || s.missingFiles > 0) return 'behind';
  if (s.lagSeconds === undefined) return s.withinThreshold ? 'ok' : 'unknown';
  return 'ok';
}

/** HTML-escapes text for element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** `45 s`, `12 min`, `3 h 05 min`, `2 d 04 h`. */
export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 120) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400)
    return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  return `${Math.floor(s / 86_400)} d ${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')} h`;
}

const W = 160;
const H = 32;

/**
 * The lag over time as an SVG polyline, scaled to the larger of the highest lag and the threshold,
 * with the threshold as a dashed line; red when the newest point is over it.
 */
export function sparkline(points: readonly LagSample[], thresholdSeconds: number, table: string): string {
  if (points.length < 2) return '<span class="muted">not enough runs yet</span>';
  const t0 = Date.parse(points[0]!.at);
  const t1 = Date.parse(points.at(-1)!.at);
  const span = Math.max(1, t1 - t0);
  const top = Math.max(thresholdSeconds, ...points.map((p) => p.lagSeconds)) * 1.1 || 1;
  const x = (at: string) => ((Date.parse(at) - t0) / span) * (W - 4) + 2;
  const y = (lag: number) => H - 2 - (lag / top) * (H - 4);
  const coords = points.map((p) => `${x(p.at).toFixed(1)},${y(p.lagSeconds).toFixed(1)}`).join(' ');
  const last = points.at(-1)!;
  const over = last.lagSeconds > thresholdSeconds;
  const ty = y(thresholdSeconds).toFixed(1);
  const title = `${table}: lag over the last ${points.length} checks, from ${formatSeconds(
    points[0]!.lagSeconds,
  )} to ${formatSeconds(last.lagSeconds)} (threshold ${formatSeconds(thresholdSeconds)})`;
  return (
    `<svg class="spark" role="img" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">` +
    `<title>${escapeHtml(title)}</title>` +
    `<line x1="0" y1="${ty}" x2="${W}" y2="${ty}" class="threshold"/>` +
    `<polyline points="${coords}" class="${over ? 'lag over' : 'lag'}"/>` +
    `<circle cx="${x(last.at).toFixed(1)}" cy="${y(last.lagSeconds).toFixed(1)}" r="2.5" class="${over ? 'dot over' : 'dot'}"/>` +
    '</svg>'
  );
}

const STYLE = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#1d2330;background:#fafbfc}
h1{font-size:1.3rem;margin:0 0 .3rem}
.meta{color:#555;margin-bottom:1rem}
.summary span{display:inline-block;margin-right:1.2rem}
.banner{background:#fdecea;border:1px solid #d93025;padding:.5rem .8rem;margin:.8rem 0;border-radius:4px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #e3e6ea;padding:.35rem .6rem;text-align:left;vertical-align:middle}
th{background:#f0f2f5;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.state-failed td,tr.state-over-threshold td{background:#fdecea}
tr.state-behind td{background:#fff4e5}
.badge{display:inline-block;white-space:nowrap;padding:.05rem .45rem;border-radius:3px;font-size:.8rem;font-weight:700;color:#fff}
.badge.failed,.badge.over-threshold{background:#c5221f}
.badge.behind{background:#e37400}
.badge.unknown{background:#777}
.badge.ok{background:#188038}
.muted{color:#888}
.err{color:#a50e0e;font-size:.85rem}
svg.spark .threshold{stroke:#c5221f;stroke-width:1;stroke-dasharray:3 2;opacity:.6}
svg.spark .lag{fill:none;stroke:#1a73e8;stroke-width:1.5}
svg.spark .lag.over{stroke:#c5221f}
svg.spark .dot{fill:#1a73e8}
svg.spark .dot.over{fill:#c5221f}
`;

/** The whole page for the loop's current state. */
export function renderStatusPage(state: WatchState, now = new Date()): string {
  const rows = [...state.status].sort(
    (a, b) =>
      STATE_ORDER.indexOf(tableState(a)) - STATE_ORDER.indexOf(tableState(b)) ||
      (a.table < b.table ? -1 : a.table > b.table ? 1 : 0),
  );
  const counts = new Map<TableState, number>(STATE_ORDER.map((s) => [s, 0]));
  for (const r of rows) counts.set(tableState(r), (counts.get(tableState(r)) ?? 0) + 1);
  const backoff = new Map(state.backoff.map((b) => [b.table, b]));
  const inFlight = new Set(state.inFlight);
  const last = state.lastReport;
  const refresh = Math.max(5, Math.min(60, Math.round(state.intervalMs / 1000)));

  const body = rows.map((s) => {
    const st = tableState(s);
    const lag =
      s.lagSeconds === undefined ? '<span class="muted">unknown</span>' : formatSeconds(s.lagSeconds);
    const run = s.lastRun
      ? `${escapeHtml(s.lastRun.status)} <span class="muted">${escapeHtml(s.lastRun.at)} (${formatSeconds(
          s.lastRun.durationMs / 1000,
        )})</span>`
      : '<span class="muted">never</span>';
    const notes: string[] = [];
    if (s.lastRun?.error) {
      notes.push(
        `<div class="err">${escapeHtml(s.lastRun.error.code)}: ${escapeHtml(s.lastRun.error.message)}</div>`,
      );
    }
    if (s.error) {
      notes.push(
        `<div class="err">status: ${escapeHtml(s.error.code)}: ${escapeHtml(s.error.message)}</div>`,
      );
    }
    const b = backoff.get(s.table);
    if (b)
      notes.push(
        `<div class="err">backing off after ${b.failures} failures, until ${escapeHtml(b.until)}</div>`,
      );
    if (inFlight.has(s.table)) notes.push('<div class="muted">syncing now</div>');
    return (
      `<tr class="state-${st}" data-table="${escapeHtml(s.table)}" data-state="${st}">` +
      `<td><code>${escapeHtml(s.table)}</code></td>` +
      `<td><span class="badge ${st}">${STATE_LABEL[st]}</span></td>` +
      `<td class="num">${lag}</td>` +
      `<td class="num">${formatSeconds(s.thresholdSeconds)}</td>` +
      `<td>${sparkline(state.lagHistory.get(s.table) ?? [], s.thresholdSeconds, s.table)}</td>` +
      `<td class="num">${s.missingFiles}</td>` +
      `<td>${run}${notes.join('')}</td>` +
      `<td><code class="muted">${escapeHtml(s.drSnapshotId ?? '')}</code></td>` +
      '</tr>'
    );
  });

  const banners: string[] = [];
  if (state.policyError) {
    banners.push(
      `<div class="banner"><strong>Policy reload failed</strong>; the previous policy stays in force: ${escapeHtml(state.policyError)}</div>`,
    );
  }
  if (state.statusError) {
    banners.push(
      `<div class="banner"><strong>Status check failed:</strong> ${escapeHtml(state.statusError)}</div>`,
    );
  }
  const phase =
    state.phase === 'waiting' && state.nextRunAt
      ? `waiting, next run at ${escapeHtml(state.nextRunAt)}`
      : state.phase === 'running'
        ? `running ${escapeHtml(state.currentRunId ?? '')}`
        : escapeHtml(state.phase);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="${refresh}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>iceberg-sync watch: ${counts.get('failed')! + counts.get('over-threshold')!} of ${rows.length} tables need attention</title>
<style>${STYLE}</style></head>
<body>
<h1>iceberg-sync watch</h1>
<div class="meta">${phase} · ${state.rounds} runs since ${escapeHtml(state.startedAt)} · every ${formatSeconds(
    state.intervalMs / 1000,
  )}${
    last
      ? ` · last run <code>${escapeHtml(last.runId)}</code> ${escapeHtml(last.status)} (exit ${last.exitCode}) at ${escapeHtml(last.finishedAt)}`
      : ''
  } · page at ${escapeHtml(now.toISOString())}</div>
${banners.join('\n')}
<div class="summary">${STATE_ORDER.map(
    (s) => `<span><span class="badge ${s}">${STATE_LABEL[s]}</span> ${counts.get(s)}</span>`,
  ).join('')}</div>
<p></p>
<table>
<thead><tr><th>Table</th><th>State</th><th>Lag</th><th>Threshold</th><th>Lag over time</th><th>Missing files</th><th>Last run</th><th>DR snapshot</th></tr></thead>
<tbody>
${body.join('\n') || '<tr><td colspan="8" class="muted">no tables yet</td></tr>'}
</tbody></table>
</body></html>
`;
}
