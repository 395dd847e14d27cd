/** The inactivity limit the Azure and GCS backends put on every call. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Watchdog, watched } from '../../../src/storage/watchdog.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('watchdog', () => {
  it('aborts after the idle time, and says it was the time', async () => {
    const w = new Watchdog(30);
    for (let i = 0; i < 100 && !w.signal.aborted; i++) await sleep(20);
    assert.equal(w.signal.aborted, true);
    assert.equal(w.timedOut, true);
    w.dispose();
  });

  it('is held off by progress, and stops with dispose', async () => {
    const w = new Watchdog(400);
    for (let i = 0; i < 10; i++) {
      await sleep(20);
      w.touch();
    }
    assert.equal(w.signal.aborted, false, 'progress every 20 ms keeps a 400 ms limit from firing');
    w.dispose();
    await sleep(500);
    assert.equal(w.signal.aborted, false, 'disposed: never fires');
  });

  it("follows the caller's signal, which is not a timeout", async () => {
    const c = new AbortController();
    const reason = new Error('host stopping');
    const got = watched(10_000, c.signal, async (w) => {
      await new Promise((_, reject) => w.signal.addEventListener('abort', () => reject(w.signal.reason)));
      return w;
    });
    c.abort(reason);
    await assert.rejects(got, (e: unknown) => e === reason);
    const early = new AbortController();
    early.abort(reason);
    const w = new Watchdog(10_000, early.signal);
    assert.equal(w.signal.aborted, true);
    assert.equal(w.timedOut, false);
    w.dispose();
  });
});
