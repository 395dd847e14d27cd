/**
 * stat(2) / lstat(2) in batches on worker threads. A presence check of a big table stats every
 * file of it (a million on a big one); through `fs.promises` each stat costs the main thread a
 * request, a promise and a thread-pool round trip, several times the system call itself. Here
 * the main thread only queues paths: workers make the calls synchronously, a batch at a time, off
 * the main thread, and answer with plain numbers. As many workers as libuv has threads by default
 * (four), so that as many calls are in flight on a network mount as before.
 */
import { Worker } from 'node:worker_threads';

/** What one stat found: the entry's type, size and mtime, or the error code. */
export type StatAnswer =
  | {
      readonly type: 'file' | 'directory' | 'symlink' | 'other';
      readonly size: number;
      readonly mtimeMs: number;
    }
  | { readonly error: string };

const WORKERS = 4;
const BATCH = 1024;
const ENCODER = new TextEncoder();

/** Answers travel as numbers (type code, size, mtime per path): cheaper to post than objects. */
const TYPES = ['file', 'directory', 'symlink', 'other'] as const;

// Plain JavaScript run by each worker (eval'd: the same code from the sources and the build).
// An error is a negative type code: -1 - its index in the codes posted with the answer.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { lstatSync, statSync } = require('node:fs');
const decoder = new TextDecoder();
parentPort.on('message', ({ id, joined, link }) => {
  const paths = decoder.decode(joined).split('\\0');
  const out = new Float64Array(paths.length * 3);
  const errors = [];
  for (let i = 0; i < paths.length; i++) {
    try {
      const st = link ? lstatSync(paths[i]) : statSync(paths[i]);
      out[3 * i] = st.isFile() ? 0 : st.isDirectory() ? 1 : st.isSymbolicLink() ? 2 : 3;
      out[3 * i + 1] = st.size;
      out[3 * i + 2] = st.mtimeMs;
    } catch (err) {
      errors.push((err && err.code) || String(err));
      out[3 * i] = -errors.length;
    }
  }
  parentPort.postMessage({ id, out, errors }, [out.buffer]);
});
`;

interface Pending {
  readonly path: string;
  readonly resolve: (a: StatAnswer) => void;
}

/** A batch posted to a worker: its paths in order, and who gets each answer. */
interface Batch {
  readonly paths: readonly string[];
  readonly resolve: (answers: StatAnswer[]) => void;
}

/** Batched stats on a few worker threads, started on first use, not keeping the process alive. */
export class StatPool {
  #workers: Worker[] | undefined;
  #next = 0;
  #id = 0;
  readonly #batches = new Map<number, Batch>();
  readonly #queues: { link: Pending[]; follow: Pending[] } = { link: [], follow: [] };
  #scheduled = false;
  #failed: Error | undefined;

  /** stat (`link` false) or lstat (`link` true) of one local path. */
  stat(path: string, link: boolean): Promise<StatAnswer> {
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise((resolve) => {
      const q = link ? this.#queues.link : this.#queues.follow;
      q.push({ path, resolve });
      if (q.length >= BATCH) this.#sendQueue(link);
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#sendQueue(true);
          this.#sendQueue(false);
        });
      }
    });
  }

  /** {@link stat} of many paths, answered in order: one message per {@link BATCH} paths. */
  async statMany(paths: readonly string[], link: boolean): Promise<StatAnswer[]> {
    if (this.#failed) throw this.#failed;
    const parts: Promise<StatAnswer[]>[] = [];
    for (let i = 0; i < paths.length; i += BATCH) {
      const part = paths.slice(i, i + BATCH);
      parts.push(new Promise((resolve) => this.#send({ paths: part, resolve }, link)));
    }
    return (await Promise.all(parts)).flat();
  }

  #pool(): Worker[] {
    if (!this.#workers) {
      this.#workers = Array.from({ length: WORKERS }, () => {
        const w = new Worker(WORKER_SOURCE, { eval: true });
        w.on('message', ({ id, out, errors }: { id: number; out: Float64Array; errors: string[] }) => {
          const batch = this.#batches.get(id);
          this.#batches.delete(id);
          if (batch) {
            const answers: StatAnswer[] = new Array(batch.paths.length);
            for (let k = 0; k < answers.length; k++) {
              const t = out[3 * k]!;
              answers[k] =
                t < 0
                  ? { error: errors[-t - 1]! }
                  : { type: TYPES[t]!, size: out[3 * k + 1]!, mtimeMs: out[3 * k + 2]! };
            }
            batch.resolve(answers);
          }
          if (this.#batches.size === 0) for (const x of this.#workers ?? []) x.unref();
        });
        w.on('error', (err) => this.#fail(err));
        w.unref();
        return w;
      });
    }
    return this.#workers;
  }

  #sendQueue(link: boolean): void {
    const q = link ? this.#queues.link : this.#queues.follow;
    if (q.length === 0) return;
    const pending = q.splice(0, q.length);
    this.#send(
      {
        paths: pending.map((p) => p.path),
        resolve: (answers) => {
          for (const [k, p] of pending.entries()) p.resolve(answers[k]!);
        },
      },
      link,
    );
  }

  #send(batch: Batch, link: boolean): void {
    const id = this.#id++;
    this.#batches.set(id, batch);
    const workers = this.#pool();
    const w = workers[this.#next++ % workers.length]!;
    w.ref(); // answers are awaited: keep the process alive until they come
    // One UTF-8 buffer of the paths (NUL never occurs in a path), moved, not copied: far cheaper
    // to post than an array of strings, or one string.
    const joined = ENCODER.encode(batch.paths.join('\0'));
    w.postMessage({ id, joined, link }, [joined.buffer]);
  }

  /** A worker that died fails what it was asked, and the pool falls back to nothing: callers retry their own way. */
  #fail(err: Error): void {
    this.#failed = err;
    for (const batch of this.#batches.values()) batch.resolve(batch.paths.map(() => ({ error: 'EWORKER' })));
    this.#batches.clear();
  }

  /** Stops the workers (idempotent; a later stat starts them again). */
  async close(): Promise<void> {
    const ws = this.#workers;
    this.#workers = undefined;
    if (ws) await Promise.all(ws.map((w) => w.terminate()));
  }
}
