/**
 * Property-based fuzzing of every decoder (test/fuzz): thousands of mutated real inputs per
 * decoder, seeded and reproducible. Every failure must be a typed error of ours naming the file,
 * never a crash, a hang, or a silently different result (see test/fuzz/targets.ts).
 *
 * IMSYNC_FUZZ_RUNS raises the count, IMSYNC_FUZZ_SEED replays another seed (a failure prints
 * its seed and fast-check's path; IMSYNC_FUZZ_PATH replays that path). `node bench/fuzz.ts`
 * runs many more cases.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fuzzOptionsFromEnv, runFuzz } from '../../fuzz/run.ts';
import { TARGETS } from '../../fuzz/targets.ts';

const options = fuzzOptionsFromEnv(5000);
console.log(
  `decoder fuzz: seed ${options.seed}, ${options.runs} cases per decoder ` +
    '(IMSYNC_FUZZ_SEED and IMSYNC_FUZZ_RUNS to change)',
);

describe('decoder fuzz', { concurrency: 2 }, () => {
  for (const target of TARGETS) {
    test(`${target.name}: mutated inputs fail with typed errors or decode consistently`, async (t) => {
      const outcome = await runFuzz(target.name, options);
      t.diagnostic(
        `${target.name}: ${outcome.cases} cases over ${outcome.seeds} seeds, ` +
          `${outcome.decoded} decoded, ${outcome.refused} refused with a typed error`,
      );
      assert.ok(outcome.cases >= options.runs);
      // A fuzz run that never gets past the first checks proves little: some must decode.
      assert.ok(outcome.decoded > 0, 'no mutated input decoded');
      assert.ok(outcome.refused > 0, 'no mutated input was refused');
    });
  }
});
