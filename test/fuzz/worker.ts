/**
 * Runs one fuzz target inside a worker thread, so that the parent (run.ts) can stop a decoder
 * that hangs. Reports each case as it starts, then the outcome.
 */
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { TARGETS } from './targets.ts';

interface Job {
  readonly target: string;
  readonly runs: number;
  readonly seed: number;
  readonly path?: string;
}

const job = workerData as Job;
const port = parentPort!;
const target = TARGETS.find((t) => t.name === job.target);
if (!target) throw new Error(`no fuzz target '${job.target}'`);
const seeds = target.seeds();
let cases = 0;
const outcomes = { decoded: 0, refused: 0 };

const property = fc.asyncProperty(fc.nat({ max: seeds.length - 1 }), target.plans, async (i, plan) => {
  const seed = seeds[i]!;
  port.postMessage({ type: 'case', n: ++cases, seed: seed.name });
  const bytes = target.mutate(seed, plan);
  outcomes[await target.check(bytes, seed, `fuzz/${seed.name}`, plan)]++;
});

try {
  await fc.assert(property, {
    seed: job.seed,
    numRuns: job.runs,
    includeErrorInReport: true,
    ...(job.path !== undefined && { path: job.path }),
  });
  port.postMessage({ type: 'done', cases, seeds: seeds.length, ...outcomes });
} catch (err) {
  port.postMessage({ type: 'fail', cases, seeds: seeds.length, message: describe(err) });
}

/** The failure with its cause (fast-check keeps the failing case's own error as `cause`). */
function describe(err: unknown): string {
  const e = err as Error & { cause?: unknown };
  const cause = e.cause as Error | undefined;
  return cause && !e.message.includes(cause.message)
    ? `${e.message}\ncaused by: ${cause.stack ?? cause}`
    : e.message;
}
