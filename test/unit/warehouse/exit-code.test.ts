/** One exit code for a warehouse run: the most urgent of the tables', in the documented order. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExitCode } from '../../../src/errors.ts';
import { aggregateExitCode, EXIT_PRECEDENCE, runStatusFor } from '../../../src/warehouse/exit-code.ts';

describe('warehouse exit code', () => {
  it('is 0 for no tables and for tables that all went well', () => {
    assert.equal(aggregateExitCode([]), 0);
    assert.equal(aggregateExitCode([0, 0, 0]), 0);
  });

  it('takes the most urgent code whatever the order', () => {
    const cases: [number[], number][] = [
      [[0, 3, 0], ExitCode.BEHIND],
      [[3, 8], ExitCode.ABORTED],
      [[8, 7, 3], ExitCode.VERIFY_FAILED],
      [[3, 5, 7], ExitCode.CONFLICT],
      [[5, 6, 3], ExitCode.STORAGE],
      [[6, 4, 5], ExitCode.BAD_INPUT],
      [[4, 9, 6], ExitCode.CATALOG_DIVERGED],
      [[9, 1, 4], ExitCode.INTERNAL],
      [[1, 2, 9], ExitCode.USAGE],
    ];
    for (const [codes, want] of cases) {
      assert.equal(aggregateExitCode(codes), want, String(codes));
      assert.equal(aggregateExitCode([...codes].reverse()), want, `${codes} reversed`);
    }
  });

  it('ranks every documented exit code once, and an unknown one as internal', () => {
    assert.deepEqual(
      [...EXIT_PRECEDENCE].sort((a, b) => a - b),
      Object.values(ExitCode).sort((a, b) => a - b),
    );
    assert.equal(aggregateExitCode([3, 42]), ExitCode.INTERNAL);
  });

  it('names the run status after the code', () => {
    assert.equal(runStatusFor(0), 'ok');
    assert.equal(runStatusFor(3), 'behind');
    assert.equal(runStatusFor(8), 'aborted');
    assert.equal(runStatusFor(4), 'failed');
  });
});
