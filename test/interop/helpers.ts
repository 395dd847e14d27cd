/** Shared pieces of the interop tests: skipping, comparing reads across engines. */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import {
  type Engine,
  harnessUnavailableReason,
  isReadError,
  type ReadOutcome,
  type ReadResult,
  type TableRead,
} from './harness.ts';

/** The tables of a read result by their request names. */
export function readsByName(result: ReadResult): Map<string, TableRead> {
  return new Map(result.tables.map((t) => [t.name, t]));
}

/**
 * Interop tests run when the harness is installed. Under `IMSYNC_INTEROP=1` (the full suite) a
 * missing harness is a failure, not a skip.
 */
export function interopSkipReason(): string | undefined {
  const reason = harnessUnavailableReason();
  if (reason && process.env.IMSYNC_INTEROP === '1') throw new Error(`interop harness missing: ${reason}`);
  return reason;
}

/** Every (label, outcome) read of a table by one engine: current state, each snapshot, each ref. */
export function outcomes(read: TableRead, engine: Engine): Map<string, ReadOutcome> {
  const out = new Map<string, ReadOutcome>();
  const r = read.reads[engine];
  if (!r) return out;
  out.set('current', r.current);
  for (const [id, o] of Object.entries(r.snapshots)) out.set(`snapshot ${id}`, o);
  for (const [name, o] of Object.entries(r.refs)) out.set(`ref ${name}`, o);
  return out;
}

/** Counts of what a comparison covered, for the test log. */
export interface Compared {
  same: number;
  bothFailed: number;
}

/**
 * Asserts that `actual` reads exactly like `expected` with `engine`: the same snapshots and refs,
 * each with the same row count and content digest. Where the engine cannot read the original
 * either (a known engine gap, e.g. PyIceberg and equality deletes), the copy must fail too.
 */
export function assertSameReads(
  t: TestContext,
  engine: Engine,
  expected: TableRead,
  actual: TableRead,
): Compared {
  assert.equal(actual.error, undefined, `${actual.name}: ${actual.error}`);
  const exp = outcomes(expected, engine);
  const act = outcomes(actual, engine);
  assert.deepEqual(
    [...act.keys()].sort(),
    [...exp.keys()].sort(),
    `${engine} ${actual.name}: snapshots/refs differ`,
  );
  const c: Compared = { same: 0, bothFailed: 0 };
  for (const [label, e] of exp) {
    const a = act.get(label)!;
    if (isReadError(e)) {
      assert.ok(
        isReadError(a),
        `${engine} ${actual.name} ${label}: the original failed (${e.error}) but the copy read`,
      );
      c.bothFailed++;
      continue;
    }
    assert.ok(!isReadError(a), `${engine} ${actual.name} ${label}: ${isReadError(a) ? a.error : ''}`);
    assert.equal(a.rowCount, e.rowCount, `${engine} ${actual.name} ${label}: row count`);
    assert.equal(a.digest, e.digest, `${engine} ${actual.name} ${label}: rows differ`);
    c.same++;
  }
  t.diagnostic(
    `${engine} ${actual.name}: ${c.same} reads identical, ${c.bothFailed} unreadable by this engine in both`,
  );
  return c;
}
