/**
 * Worker threads for {@link rewriteBlocks}: a full sync of a big table decodes, maps, encodes and
 * compresses hundreds of megabytes of manifest entries, which on one thread is most of its time.
 * The caller's thread only frames stored blocks and sends them; a worker answers with the block
 * rewritten and compressed and the paths to check. Workers start once a run has asked for
 * {@link START_AFTER} tasks (a small or incremental sync never starts them), one per core up to
 * {@link MAX_WORKERS}, none on a single core; until one is online, and after one failed, tasks
 * are answered "not now" (`undefined`) and the caller runs them itself.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BlockRewriteResult, BlockRewriteSetup, BlockRewriteTask } from './block-rewrite.ts';
import type { RewriteMessage } from './rewrite-worker.ts';

const MAX_WORKERS = 4;
/**
 * Each worker is a JavaScript heap of its own: left to grow, two of them added 250 MiB to a 1M-file
 * sync. A task keeps nothing, so small heaps cost little: at 1M files, an 8 MB young generation
 * kept the peak under 512 MiB at the same speed within the noise. A worker that runs out (a hostile
 * block) fails, and its tasks are done on the caller's thread.
 */
const LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 48 };
/**
 * Tasks done on the caller's thread before the workers start: booting them costs about as much as
 * thirty tasks (a 10K-file table's twenty manifests of one task each took 0.88–1.06 s with them
 * started after eight, 0.61 s without; at 100K no difference).
 */
const START_AFTER = 32;

/** The worker module beside this one, as this one is run (from the sources or the build). */
const WORKER_URL = new URL(
  `./rewrite-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

type Settle = (r: BlockRewriteResult | undefined) => void;

/** A few worker threads running {@link rewriteBlocks}, not keeping the process alive while idle. */
export class RewriteWorkers {
  readonly #count: number;
  #workers: Worker[] | undefined;
  #online: Worker[] = [];
  /** The setup keys each worker has been sent. */
  readonly #known = new Map<Worker, Set<number>>();
  /** Setup keys by content, so that manifests of one schema and mapping share a worker's rewriter. */
  readonly #keys = new Map<string, number>();
  /** The key of each setup object seen: a pass uses one setup for all its tasks. */
  readonly #keyOf = new WeakMap<BlockRewriteSetup, number>();
  readonly #pending = new Map<number, Settle>();
  #asked = 0;
  #next = 0;
  #id = 0;
  #failed = false;

  constructor(count = Math.min(MAX_WORKERS, availableParallelism())) {
    this.#count = count >= 2 ? count : 0;
  }

  /**
   * Runs `task` on a worker; `undefined` ("not now") when none is online. The frames' data are
   * copied to the worker: the caller's stay usable.
   */
  run(setup: BlockRewriteSetup, task: BlockRewriteTask): Promise<BlockRewriteResult | undefined> {
    if (this.#count === 0 || this.#failed) return Promise.resolve(undefined);
    if (!this.#workers && ++this.#asked >= START_AFTER) this.#start();
    if (this.#online.length === 0) return Promise.resolve(undefined);
    const w = this.#online[this.#next++ % this.#online.length]!;
    const key = this.#key(setup);
    const known = this.#known.get(w)!;
    const first = !known.has(key);
    known.add(key);
    const frames = task.frames.map((f) => ({ index: f.index, count: f.count, data: new Uint8Array(f.data) }));
    const id = this.#id++;
    const message: RewriteMessage = { id, key, ...(first ? { setup } : {}), task: { ...task, frames } };
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      w.ref(); // answers are awaited: keep the process alive until they come
      w.postMessage(
        message,
        frames.map((f) => f.data.buffer as ArrayBuffer),
      );
    });
  }

  /** The key of `setup`, made from its content once per setup object, not once per task. */
  #key(setup: BlockRewriteSetup): number {
    let key = this.#keyOf.get(setup);
    if (key !== undefined) return key;
    const { schema, codec, deflateLevel, rules, allowUnmapped } = setup;
    const text = JSON.stringify({ schema, codec, deflateLevel, rules, allowUnmapped });
    key = this.#keys.get(text) ?? this.#keys.size;
    this.#keys.set(text, key);
    this.#keyOf.set(setup, key);
    return key;
  }

  #start(): void {
    const workers = Array.from({ length: this.#count }, () => {
      const w = new Worker(WORKER_URL, { resourceLimits: LIMITS });
      this.#known.set(w, new Set());
      w.on('online', () => {
        if (this.#workers === workers) this.#online.push(w);
      });
      w.on('message', ({ id, result }: { id: number; result: BlockRewriteResult }) => {
        const settle = this.#pending.get(id);
        this.#pending.delete(id);
        settle?.(result);
        if (this.#pending.size === 0) for (const x of this.#workers ?? []) x.unref();
      });
      w.on('error', () => this.#fail());
      w.unref();
      return w;
    });
    this.#workers = workers;
  }

  /** A worker that died: what was asked of any is answered "not now", and no more is asked. */
  #fail(): void {
    this.#failed = true;
    this.#online = [];
    for (const settle of this.#pending.values()) settle(undefined);
    this.#pending.clear();
  }

  /** Stops the workers (idempotent; a later run starts them again). */
  async close(): Promise<void> {
    const ws = this.#workers;
    this.#workers = undefined;
    this.#online = [];
    this.#asked = 0;
    this.#known.clear();
    for (const settle of this.#pending.values()) settle(undefined);
    this.#pending.clear();
    if (ws) await Promise.all(ws.map((w) => w.terminate()));
  }
}
