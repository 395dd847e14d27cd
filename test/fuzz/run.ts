/**
 * Runs a fuzz target (targets.ts) in a worker thread and watches it: a case that makes no
 * progress for `stallSeconds` is a hang, and the worker is stopped.
 *
 * Reproducible: fast-check draws every case from `seed`, so the same seed (and the same seed
 * files) replays the same cases; a failure's message carries fast-check's seed and path.
 */
import { Worker } from 'node:worker_threads';

/** Options of one fuzz run. */
export interface FuzzOptions {
  readonly runs: number;
  readonly seed: number;
  /** fast-check's path of a counterexample to replay (from a failure message). */
  readonly path?: string;
  /** A case running longer than this is reported as a hang (default 60). */
  readonly stallSeconds?: number;
}

/** What a run did. */
export interface FuzzOutcome {
  readonly cases: number;
  readonly seeds: number;
  /** Cases whose mutated input decoded (and passed the consistency checks). */
  readonly decoded: number;
  /** Cases refused with a typed error naming the file. */
  readonly refused: number;
}

/** The options the environment asks for: IMSYNC_FUZZ_RUNS, IMSYNC_FUZZ_SEED, IMSYNC_FUZZ_PATH. */
export function fuzzOptionsFromEnv(defaultRuns: number, defaultSeed = 20241201): FuzzOptions {
  const runs = Number(process.env.IMSYNC_FUZZ_RUNS ?? defaultRuns);
  const seed = Number(process.env.IMSYNC_FUZZ_SEED ?? defaultSeed);
  if (!Number.isSafeInteger(runs) || runs <= 0)
    throw new Error(`IMSYNC_FUZZ_RUNS must be a positive integer`);
  if (!Number.isSafeInteger(seed)) throw new Error(`IMSYNC_FUZZ_SEED must be an integer`);
  const path = process.env.IMSYNC_FUZZ_PATH;
  return { runs, seed, ...(path ? { path } : {}) };
}

/** Runs `target` and resolves with what it did; rejects with the counterexample or the hang. */
export function runFuzz(target: string, options: FuzzOptions): Promise<FuzzOutcome> {
  const stallMs = (options.stallSeconds ?? 60) * 1000;
  const worker = new Worker(new URL('./worker.ts', import.meta.url), {
    workerData: { target, runs: options.runs, seed: options.seed, path: options.path },
  });
  return new Promise((resolve, reject) => {
    let last = { n: 0, seed: '' };
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const stalled = () =>
      finish(() => {
        void worker.terminate();
        reject(
          new Error(
            `${target}: case ${last.n} (a mutation of ${last.seed}) made no progress for ${stallMs / 1000} s: ` +
              `a hang. Replay with IMSYNC_FUZZ_SEED=${options.seed} IMSYNC_FUZZ_RUNS=${last.n}`,
          ),
        );
      });
    let timer = setTimeout(stalled, stallMs);
    worker.on(
      'message',
      (m: { type: string; n?: number; seed?: string; message?: string } & Partial<FuzzOutcome>) => {
        if (m.type === 'case') {
          last = { n: m.n!, seed: m.seed! };
          clearTimeout(timer);
          timer = setTimeout(stalled, stallMs);
        } else if (m.type === 'done') {
          finish(() =>
            resolve({ cases: m.cases!, seeds: m.seeds!, decoded: m.decoded!, refused: m.refused! }),
          );
        } else if (m.type === 'fail') {
          finish(() => reject(new Error(`${target} (seed ${options.seed}):\n${m.message}`)));
        }
      },
    );
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) =>
      finish(() => reject(new Error(`${target}: the fuzz worker exited (code ${code}) before it finished`))),
    );
  }).finally(() => void worker.terminate()) as Promise<FuzzOutcome>;
}
