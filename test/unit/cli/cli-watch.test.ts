/** `iceberg-sync watch`: its flags are checked before anything starts (exit 2, the flag named). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.ts';

describe('iceberg-sync watch flags', () => {
  for (const [args, pattern] of [
    [[], /required option '--interval <duration>' not specified/],
    [['--interval', 'soon'], /--interval/],
    [['--interval', '0'], /--interval/],
    [['--interval', '5m', '--jitter', '-1'], /--jitter/],
    [['--interval', '5m', '--metrics-port', '-1'], /--metrics-port/],
    [['--interval', '5m', '--max-backoff', 'x'], /--max-backoff/],
  ] as const) {
    it(`refuses ${args.join(' ') || 'no --interval'}`, () => {
      const r = runCli(['watch', ...args, '--log-format', 'json']);
      assert.equal(r.code, 2, r.stderr);
      const line = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { code: string; msg: string };
      assert.equal(line.code, 'CONFIG');
      assert.match(line.msg, pattern);
    });
  }
});
