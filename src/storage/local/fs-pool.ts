/**
 * stat(2) / lstat(2) and small reads in batches on worker threads. A presence check of a big
 * table stats every file of it (a million on a big one), and add-files reads the footer of every
 * new file; through `fs` each call costs the main thread a request, a promise and a thread-pool
 * round trip (a read three: open, read, close), several times the system calls themselves. Here
 * the main thread only queues paths: workers make the calls synchronously, a batch at a time, off
 * the main thread, and answer with plain numbers and one buffer. As many workers as libuv has
 * threads by default (four), so that as many calls are in flight on a network mount as before.
 */
import { Worker } from 'node:worker_threads';
import type { PathList, UnlikeFile } from '../storage.ts';

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
const { closeSync, lstatSync, openSync, readSync, statSync } = require('node:fs');
const decoder = new TextDecoder();
function stats(paths, link) {
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
  return { out, errors };
}
// Each range into its slot of one buffer; out[i] is the bytes read (fewer at the end of the
// file), or -1 when the read failed (the caller reads that one again through fs, for its error).
function reads(paths, ranges) {
  let total = 0;
  for (let i = 0; i < paths.length; i++) total += ranges[2 * i + 1];
  const bytes = new Uint8Array(total);
  const out = new Float64Array(paths.length);
  let at = 0;
  for (let i = 0; i < paths.length; i++) {
    const offset = ranges[2 * i], length = ranges[2 * i + 1];
    let fd = -1, done = 0;
    try {
      fd = openSync(paths[i], 'r');
      for (;;) {
        if (done === length) break;
        const n = readSync(fd, bytes, at + done, length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
      out[i] = done;
    } catch {
      out[i] = -1;
    }
    if (fd >= 0) try { closeSync(fd); } catch { out[i] = -1; }
    at += length;
  }
  return { out, bytes };
}
// The positions of the paths that are not a regular file of the size given (NaN: any), links
// not followed; a path whose stat fails, or that is not a path (a bad file: URI), is among them.
// file: URIs are read as LocalStorage's toLocalPath reads them.
function unlike(paths, sizes) {
  const out = [];
  for (let i = 0; i < paths.length; i++) {
    let p = paths[i];
    try {
      if (p.startsWith('file:')) p = decodeURIComponent(p.slice(p.startsWith('file://') ? 7 : 5)) || '/';
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (st === undefined || !st.isFile() || (sizes[i] === sizes[i] && st.size !== sizes[i])) out.push(i);
    } catch {
      out.push(i);
    }
  }
  return { out: Uint32Array.from(out), unlike: out.map((i) => paths[i]) };
}
parentPort.on('message', ({ id, joined, link, ranges, sizes }) => {
  const paths = decoder.decode(joined).split('\\0');
  if (sizes) {
    const { out, unlike: found } = unlike(paths, sizes);
    parentPort.postMessage({ id, out, unlike: found }, [out.buffer]);
  } else if (ranges) {
    const { out, bytes } = reads(paths, ranges);
    parentPort.postMessage({ id, out, bytes }, [out.buffer, bytes.buffer]);
  } else {
    const { out, errors } = stats(paths, link);
    parentPort.postMessage({ id, out, errors }, [out.buffer]);
  }
});
`;

interface Pending<T> {
  readonly path: string;
  readonly resolve: (a: T) => void;
}

interface PendingRead extends Pending<Uint8Array | undefined> {
  readonly offset: number;
  readonly length: number;
}

/** What a worker answers: per path numbers, and the error codes of stats or the bytes of reads. */
interface Answer {
  readonly id: number;
  /** Per path numbers; for a size check, the positions of the unlike paths. */
  readonly out: Float64Array | Uint32Array;
  readonly errors?: string[];
  readonly bytes?: Uint8Array;
  /** For a size check, the paths at the positions of `out`. */
  readonly unlike?: string[];
}

/** Who takes a batch's answer (`undefined` when no worker will give one). */
type Settle = (answer: Answer | undefined) => void;

/** The most bytes one read may ask for here; larger reads are no footer and go through fs. */
export const POOL_READ_MAX = 1024 * 1024;

/**
 * Paths asked about before the workers are started: a run that stats or reads a few files (a
 * no-op sync, a small incremental one) is done through fs before the workers would be up.
 */
const START_AFTER = 64;

/** What a call answers while no worker is up: the caller's cue to ask fs itself. */
const NOT_NOW: StatAnswer = { error: 'EWORKER' };

/**
 * Batched stats and reads on a few worker threads, not keeping the process alive. The workers
 * start once {@link START_AFTER} paths have been asked about, and until one of them is online
 * (booting one takes tens of milliseconds) calls are answered "not now" rather than kept waiting.
 */
export class FsPool {
  #workers: Worker[] | undefined;
  /** The started workers that are online, in start order. */
  #online: Worker[] = [];
  #asked = 0;
  #next = 0;
  #id = 0;
  readonly #batches = new Map<number, Settle>();
  readonly #queues: { link: Pending<StatAnswer>[]; follow: Pending<StatAnswer>[]; read: PendingRead[] } = {
    link: [],
    follow: [],
    read: [],
  };
  #scheduled = false;
  #failed: Error | undefined;

  /** stat (`link` false) or lstat (`link` true) of one local path. */
  stat(path: string, link: boolean): Promise<StatAnswer> {
    if (!this.#ready(1)) return Promise.resolve(NOT_NOW);
    return new Promise((resolve) => {
      const q = link ? this.#queues.link : this.#queues.follow;
      q.push({ path, resolve });
      if (q.length >= BATCH) this.#sendStats(link);
      else this.#schedule();
    });
  }

  /**
   * `length` bytes (at most {@link POOL_READ_MAX}) at `offset` of a local file, fewer at its end;
   * `undefined` when the read failed or no worker is up (the caller reads through fs, for the
   * error it gives). Reads asked for in the same turn of the event loop travel as one message.
   */
  read(path: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    if (length > POOL_READ_MAX || !this.#ready(1)) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#queues.read.push({ path, offset, length, resolve });
      if (this.#queues.read.length >= BATCH) this.#sendReads();
      else this.#schedule();
    });
  }

  /** {@link stat} of many paths, answered in order: one message per {@link BATCH} paths. */
  async statMany(paths: readonly string[], link: boolean): Promise<StatAnswer[]> {
    if (!this.#ready(paths.length)) return paths.map(() => NOT_NOW);
    const parts: Promise<StatAnswer[]>[] = [];
    for (let i = 0; i < paths.length; i += BATCH) {
      const part = paths.slice(i, i + BATCH);
      parts.push(new Promise((resolve) => this.#send(part, { link }, (a) => resolve(statAnswers(part, a)))));
    }
    return (await Promise.all(parts)).flat();
  }

  /**
   * The paths that are not a regular file of their size in `sizes` (see `Storage.findUnlike`),
   * as one message to a worker that moves `paths.utf8` there (copying `sizes`); `undefined` when
   * no worker is up, `paths` then untouched.
   */
  findUnlike(paths: PathList, sizes: Float64Array): Promise<UnlikeFile[] | undefined> {
    if (paths.count === 0) return Promise.resolve([]);
    if (!this.#ready(paths.count)) return Promise.resolve(undefined);
    const { utf8 } = paths;
    // Only a buffer the view covers whole is moved: a view of a larger one (Node's pool of small
    // Buffers among them) is copied, leaving the rest of that buffer to its owners.
    const whole = utf8.byteOffset === 0 && utf8.byteLength === utf8.buffer.byteLength;
    return new Promise((resolve) =>
      this.#post({ joined: utf8, sizes }, whole ? [utf8.buffer as ArrayBuffer] : [], (a) =>
        resolve(a ? [...a.out].map((index, k) => ({ index, path: a.unlike![k]! })) : undefined),
      ),
    );
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#sendStats(true);
      this.#sendStats(false);
      this.#sendReads();
    });
  }

  /** Counts `n` more paths asked about; whether a worker is online to take them (starting them when due). */
  #ready(n: number): boolean {
    if (this.#failed) return false;
    this.#asked += n;
    if (!this.#workers && this.#asked >= START_AFTER) this.#start();
    return this.#online.length > 0;
  }

  /** Starts the workers; each takes work once online. */
  #start(): void {
    const workers = Array.from({ length: WORKERS }, () => {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('online', () => {
        if (this.#workers === workers) this.#online.push(w);
      });
      w.on('message', (answer: Answer) => {
        const settle = this.#batches.get(answer.id);
        this.#batches.delete(answer.id);
        settle?.(answer);
        if (this.#batches.size === 0) for (const x of this.#workers ?? []) x.unref();
      });
      w.on('error', (err) => this.#fail(err));
      w.unref();
      return w;
    });
    this.#workers = workers;
  }

  /** Starts the workers now and waits until one is online (for tests and benchmarks). */
  async warm(): Promise<void> {
    if (!this.#workers) this.#start();
    while (this.#online.length === 0 && !this.#failed) await new Promise((r) => setTimeout(r, 5));
  }

  #sendStats(link: boolean): void {
    const q = link ? this.#queues.link : this.#queues.follow;
    if (q.length === 0) return;
    const pending = q.splice(0, q.length);
    const paths = pending.map((p) => p.path);
    this.#send(paths, { link }, (a) => {
      const answers = statAnswers(paths, a);
      for (const [k, p] of pending.entries()) p.resolve(answers[k]!);
    });
  }

  #sendReads(): void {
    const q = this.#queues.read;
    if (q.length === 0) return;
    const pending = q.splice(0, q.length);
    const ranges = new Float64Array(pending.length * 2);
    for (const [k, p] of pending.entries()) {
      ranges[2 * k] = p.offset;
      ranges[2 * k + 1] = p.length;
    }
    this.#send(
      pending.map((p) => p.path),
      { ranges },
      (a) => {
        let at = 0;
        for (const [k, p] of pending.entries()) {
          const got = a?.bytes ? a.out[k]! : -1;
          // Views of the batch's one buffer, which lives as long as the longest-kept of them.
          p.resolve(got < 0 ? undefined : a!.bytes!.subarray(at, at + got));
          at += p.length;
        }
      },
    );
  }

  #send(paths: readonly string[], what: { link?: boolean; ranges?: Float64Array }, settle: Settle): void {
    // One UTF-8 buffer of the paths (NUL never occurs in a path), moved, not copied: far cheaper
    // to post than an array of strings, or one string.
    const joined = ENCODER.encode(paths.join('\0'));
    const moved: ArrayBuffer[] = [joined.buffer as ArrayBuffer];
    if (what.ranges) moved.push(what.ranges.buffer as ArrayBuffer);
    this.#post({ joined, ...what }, moved, settle);
  }

  #post(message: object, moved: ArrayBuffer[], settle: Settle): void {
    const workers = this.#online;
    // Every worker gone between the ask and the send: the callers ask fs.
    if (workers.length === 0) {
      settle(undefined);
      return;
    }
    const id = this.#id++;
    this.#batches.set(id, settle);
    const w = workers[this.#next++ % workers.length]!;
    w.ref(); // answers are awaited: keep the process alive until they come
    w.postMessage({ id, ...message }, moved);
  }

  /** A worker that died fails what it was asked, and the pool falls back to nothing: callers retry their own way. */
  #fail(err: Error): void {
    this.#failed = err;
    this.#online = [];
    for (const settle of this.#batches.values()) settle(undefined);
    this.#batches.clear();
  }

  /** Stops the workers (idempotent; a later call starts them again). */
  async close(): Promise<void> {
    const ws = this.#workers;
    this.#workers = undefined;
    this.#online = [];
    this.#asked = 0;
    if (ws) await Promise.all(ws.map((w) => w.terminate()));
  }
}

/** The stat answers of a worker's numbers; every path {@link NOT_NOW} when no worker answered. */
function statAnswers(paths: readonly string[], a: Answer | undefined): StatAnswer[] {
  const answers: StatAnswer[] = new Array(paths.length);
  for (let k = 0; k < answers.length; k++) {
    const t = a ? a.out[3 * k]! : -1;
    answers[k] = !a
      ? NOT_NOW
      : t < 0
        ? { error: a.errors![-t - 1]! }
        : { type: TYPES[t]!, size: a.out[3 * k + 1]!, mtimeMs: a.out[3 * k + 2]! };
  }
  return answers;
}
