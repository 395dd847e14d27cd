/**
 * The status page of a running watch (real engine, real SQLite catalog), rendered by headless
 * Chromium: the DOM Chromium builds names every table with the state its status gives (the behind
 * table marked over its threshold, the broken one failed), with sparklines once the history has
 * points; the screenshot is the size asked for, not blank, and shows the red marker.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { TableStatus } from '../../../src/metrics/warehouse-types.ts';
import { chromiumBin, requireChromium } from '../../helpers/ops-tools.ts';
import { decodePng } from '../../helpers/png.ts';
import { startWatch } from '../../helpers/watch-process.ts';
import { watchSite } from '../../helpers/watch-site.ts';

const W = 1280;
const H = 800;

/** Headless Chromium: no sandbox (tests may run as root), no GPU, nothing kept between runs. */
function chromium(args: string[], profile: string) {
  const r = spawnSync(
    chromiumBin!,
    ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, ...args],
    { encoding: 'utf8', timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the status page in headless Chromium', requireChromium(), () => {
  it('shows every table with its state, the behind one marked, and draws a non-trivial picture', async () => {
    const site = await watchSite('page-chromium', [
      { key: 'sales.orders', commits: 3 },
      // The newest commit lacks a data file: the DR stays a commit (a minute) behind, over its 30 s.
      { key: 'sales.returns', commits: 3, partial: true, thresholdSeconds: 30 },
      { key: 'hr.payroll', commits: 1, wrongLocation: true },
    ]);
    const w = startWatch(site.policyFile, 500);
    let status: TableStatus[];
    let url: string;
    try {
      url = await w.url();
      // Three runs: the lag history has points enough for the sparklines.
      for (;;) {
        const s = (await (await fetch(`${url}/status.json`)).json()) as {
          rounds: number;
          status: TableStatus[];
          lagHistory: Record<string, unknown[]>;
        };
        if (s.rounds >= 3 && (s.lagHistory['sales.returns']?.length ?? 0) >= 2) {
          status = s.status;
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      const profile = path.join(site.base, 'chromium-profile');
      const dom = chromium(['--dump-dom', `${url}/`], profile);
      assert.equal(dom.code, 0, dom.stderr);
      const rows = new Map(
        [
          ...dom.stdout.matchAll(
            /<tr class="state-[a-z-]+" data-table="([^"]+)" data-state="([a-z-]+)">(.*?)<\/tr>/gs,
          ),
        ].map((m) => [m[1]!, { state: m[2]!, html: m[3]! }]),
      );
      // Every table of the status, in the DOM, in the state its figures give.
      assert.deepEqual([...rows.keys()].sort(), status.map((s) => s.table).sort());
      const returns = status.find((s) => s.table === 'sales.returns')!;
      assert.equal(returns.lagSeconds, 60);
      assert.equal(returns.withinThreshold, false);
      assert.equal(rows.get('sales.returns')?.state, 'over-threshold');
      assert.match(
        rows.get('sales.returns')!.html,
        /<span class="badge over-threshold">OVER THRESHOLD<\/span>/,
      );
      assert.match(rows.get('sales.returns')!.html, /<svg class="spark"[^>]*>.*class="lag over"/s);
      assert.equal(rows.get('hr.payroll')?.state, 'failed');
      assert.match(rows.get('hr.payroll')!.html, /FAILED/);
      assert.equal(rows.get('sales.orders')?.state, 'ok');
      assert.match(rows.get('sales.orders')!.html, />OK</);
      assert.match(dom.stdout, /<title>iceberg-sync watch: 2 of 3 tables need attention<\/title>/);

      const shot = path.join(site.base, 'status-page.png');
      const r = chromium(
        [`--screenshot=${shot}`, `--window-size=${W},${H}`, '--hide-scrollbars', `${url}/`],
        profile,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.ok(existsSync(shot), 'the screenshot is written');
      const img = decodePng(readFileSync(shot));
      assert.equal(img.width, W);
      assert.equal(img.height, H);
      const colors = new Set<number>();
      let marker = 0;
      let ink = 0;
      for (let i = 0; i < img.pixels.length; i += 4) {
        const [red, green, blue] = [img.pixels[i]!, img.pixels[i + 1]!, img.pixels[i + 2]!];
        colors.add((red << 16) | (green << 8) | blue);
        // The red of the failed and over-threshold badges (#c5221f).
        if (red > 170 && green < 70 && blue < 70) marker++;
        if (red + green + blue < 300) ink++;
      }
      assert.ok(colors.size > 50, `${colors.size} colours: not a blank page`);
      assert.ok(ink > 2_000, `${ink} dark pixels: text is drawn`);
      assert.ok(marker > 500, `${marker} marker-red pixels: the behind and failed tables are marked`);
    } finally {
      w.child.kill('SIGTERM');
    }
    assert.equal((await w.exit).code, 0);
  });
});
