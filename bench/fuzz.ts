/**
 * The decoder fuzz tests (test/unit/fuzz) at a larger scale: every decoder, many more cases.
 *
 *   node bench/fuzz.ts [runs-per-decoder] [decoder-name-part]
 *
 * Runs default to IMSYNC_FUZZ_RUNS or 100000; the seed to IMSYNC_FUZZ_SEED or the time, printed
 * first so any failure can be replayed (IMSYNC_FUZZ_SEED=<seed> with the same runs, or
 * IMSYNC_FUZZ_PATH from the failure for the shrunk case alone). Exits 1 on the first decoder
 * that fails.
 */
import { runFuzz } from '../test/fuzz/run.ts';
import { TARGETS } from '../test/fuzz/targets.ts';

const runs = Number(process.argv[2] ?? process.env.IMSYNC_FUZZ_RUNS ?? 100_000);
const only = process.argv[3];
const seed = Number(process.env.IMSYNC_FUZZ_SEED ?? Date.now() % 2 ** 31);
const path = process.env.IMSYNC_FUZZ_PATH;
console.log(`decoder fuzz: seed ${seed}, ${runs} cases per decoder`);
let failed = false;
for (const target of TARGETS) {
  if (only && !target.name.includes(only)) continue;
  const started = Date.now();
  try {
    const o = await runFuzz(target.name, { runs, seed, ...(path ? { path } : {}) });
    const s = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `ok   ${target.name}: ${o.cases} cases over ${o.seeds} seeds (${o.decoded} decoded, ${o.refused} refused) in ${s} s`,
    );
  } catch (err) {
    failed = true;
    console.log(`FAIL ${(err as Error).message}`);
    break;
  }
}
process.exitCode = failed ? 1 : 0;
