/**
 * One streamed pass over a replicated manifest that does, from a single read, what the engine
 * needs of it: check that the files its live entries name are at the DR site, and write its
 * rewritten copy. Reading, inflating and decoding a manifest is most of the cost of a full sync,
 * so a manifest is read once, not once to check and again to rewrite.
 *
 * The copy is a function of the manifest's bytes and the mapping, so it is made while checking,
 * and kept when every file is there. It is given up (nothing is written) when a file is missing,
 * as it would not be used before a later run checks the manifest again, and at a live
 * position-delete or deletion-vector entry: its file is rewritten too, which must wait until the
 * file is known to be complete; such a manifest is copied later by a rewrite-only pass.
 */
import {
  type AvroFrame,
  type AvroRecord,
  AvroSpan,
  type AvroStreamItem,
  CompressedBlock,
  EncodedRecord,
  encodeAvroStream,
  openAvroContainer,
  recordBytesDecoder,
} from '../avro/container.ts';
import { utf8 } from '../avro/header.ts';
import { type AvroRecordValue, contentOf, longOf } from '../iceberg/manifest-views.ts';
import { HashedStringSet } from '../table/hashed-set.ts';
import type { PathMapper } from '../table/path-mapping.ts';
import {
  type BlockRewriteResult,
  type BlockRewriter,
  type BlockRewriteSetup,
  type BlockRewriteTask,
  blockRewriter,
  PASS_FIELDS,
  rewriteBlocks,
} from './block-rewrite.ts';
import type { PresenceChecker, PresenceResult } from './presence.ts';
import type { MissingFile } from './report.ts';
import { RewriteWorkers } from './rewrite-workers.ts';

/**
 * How rewritten manifests and manifest lists are compressed: the source's codec, at zlib's fastest
 * deflate level (a few per cent larger than the default level 6, about three times faster to
 * write; readers need nothing but the codec), in blocks of 256 kB rather than Java's 64 kB (each
 * block is one compression call and its dispatch on the main thread: a quarter of the calls cost
 * it about a third of the time; Avro readers take blocks of any size). Larger blocks save little
 * more and cost memory: with 1 MiB ones verify peaked 75 MiB higher at 1M files.
 */
export const REWRITE_AVRO = { deflateLevel: 1, blockBytes: 256 * 1024 } as const;

/** Manifest entries whose files are checked at once. */
const PRESENCE_BATCH = 1024;

/**
 * Stored blocks per task of {@link rewriteBlocks}: about 48 kB of them, four of Java's blocks,
 * which make one output block of about {@link REWRITE_AVRO}'s size.
 */
const TASK_BYTES = 48 * 1024;
const TASK_FRAMES = 8;
/** Tasks of one manifest under way at once (eight manifests are passed at once). */
const TASKS_AHEAD = 4;
/** Presence checks of one manifest's tasks under way at once. */
const CHECKS_AHEAD = 8;

/** Worker threads for the blocks of every pass of the process (idle ones keep no process alive). */
const WORKERS = new RewriteWorkers();

const KINDS = ['data', 'position-deletes', 'equality-deletes'] as const;

/** What the pass needs of the run. */
export interface ManifestPassContext {
  readonly mapper: PathMapper;
  readonly presence: PresenceChecker;
  /** The replicated manifest's bytes, streamed. */
  readStream(path: string): AsyncIterable<Uint8Array>;
  /** Writes an output atomically: a failing source leaves no file. */
  write(path: string, chunks: AsyncIterable<Uint8Array>): Promise<void>;
  /** The report entry of a file not usable at the DR site. */
  missing(
    source: string,
    kind: string,
    reason: MissingFile['reason'],
    expected?: bigint,
    actual?: number,
    symlink?: string,
  ): MissingFile;
  /** Maps the paths of a whole decoded entry in place, rewriting the delete file it names. */
  rewriteEntry(entry: AvroRecordValue, manifest: string): Promise<void>;
}

/** What one pass does. */
export interface ManifestPassOptions {
  /** Check the files of the live entries. */
  readonly check: boolean;
  /** Where to write the rewritten copy; without it, nothing is written. */
  readonly outputPath?: string;
  /**
   * Rewrite the files of live delete entries during the pass (only when they are known to be
   * complete). Without it, a manifest holding one is not copied (the result has no `written`).
   */
  readonly rewriteDeletes: boolean;
}

/** What one pass found and wrote. */
export interface ManifestPassResult {
  /** Files the live entries name that are missing or incomplete (with `check`). */
  readonly missing: MissingFile[];
  /** The copy written at `outputPath`, if it was. */
  readonly written?: { readonly sourceSize: number; readonly outputSize: number };
}

/** Raised inside the pass to give up its copy; never leaves the module. */
class CopyGivenUp extends Error {}

/**
 * Reads the manifest at `target` (the replicated copy) once, checking and copying as `options` say.
 * Its blocks go a few at a time through {@link rewriteBlocks}, on worker threads where they run;
 * those it answers `slow` for are done here entry by entry.
 * @throws CorruptFileError for a manifest that cannot be decoded (nothing is written then).
 */
export async function manifestPass(
  ctx: ManifestPassContext,
  target: string,
  options: ManifestPassOptions,
): Promise<ManifestPassResult> {
  const reader = await openAvroContainer(ctx.readStream(target), target, { projection: PASS_FIELDS });
  const decodeWhole = recordBytesDecoder(reader.header.schema);
  const context = { file: target, field: 'data_file.file_path' };
  const missing: MissingFile[] = [];
  const seen = new HashedStringSet(); // the Puffin files of DVs, by hash: there may be 100,000
  let batch: { source: string; target: string; kind: string; size: bigint | undefined }[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const b = batch;
    batch = [];
    const results = await ctx.presence.checkMany(b.map((x) => ({ path: x.target, size: x.size })));
    for (const [i, r] of results.entries()) {
      const x = b[i]!;
      if (!r.ok) missing.push(ctx.missing(x.source, x.kind, r.reason!, x.size, r.actualSize, r.symlink));
    }
  };
  let copying = options.outputPath !== undefined;
  const setup: BlockRewriteSetup = {
    schema: utf8(reader.header.meta.get('avro.schema')) ?? '',
    codec: reader.header.codec,
    deflateLevel: REWRITE_AVRO.deflateLevel,
    rules: ctx.mapper.rules,
    allowUnmapped: ctx.mapper.allowUnmapped,
    file: target,
  };
  let here: BlockRewriter | undefined;
  const rewriteHere = (task: BlockRewriteTask) => {
    here ??= blockRewriter(setup, { schema: reader.header.schema, mapper: ctx.mapper });
    return rewriteBlocks(here, task);
  };

  /**
   * Entry by entry, for blocks {@link rewriteBlocks} does not do: entries whose only path is their
   * data file's (data and equality-delete files) keep the bytes of every other field, the path
   * replaced in place; the others (position deletes and DVs, whose files, sizes and bounds change)
   * are decoded whole and encoded again.
   */
  const slowly = async (frames: readonly AvroFrame[]): Promise<(EncodedRecord | AvroRecord)[]> => {
    const out: (EncodedRecord | AvroRecord)[] = [];
    for (const frame of frames) {
      for (const { record, bytes, offset } of reader.decodeFrame(frame)) {
        const df = record.data_file as AvroRecordValue;
        const span = df.file_path as AvroSpan;
        const path = String(span.value);
        const content = contentOf(df);
        const live = Number(record.status) !== 2; // DELETED entries are not part of the snapshot
        const refersToData = df.referenced_data_file !== null && df.referenced_data_file !== undefined;
        let mapped: string | undefined;
        // Only deletion vectors share a file (a Puffin file holds many); every other entry is its own.
        if (options.check && live && (!refersToData || seen.add(path))) {
          mapped = ctx.mapper.map(path, context);
          batch.push({
            source: path,
            target: mapped,
            kind: KINDS[content] ?? 'data',
            size: longOf(df.file_size_in_bytes),
          });
          if (batch.length >= PRESENCE_BATCH) await flush();
        }
        // The copy of an incomplete manifest would not be used before a later run checks it again.
        if (missing.length > 0) copying = false;
        if (!copying) continue;
        if (content !== 1 && !refersToData && span instanceof AvroSpan) {
          const value = mapped ?? ctx.mapper.map(path, context);
          out.push(new EncodedRecord(bytes, { start: span.start - offset, end: span.end - offset, value }));
        } else if (content === 1 && live && !options.rewriteDeletes) {
          copying = false; // its delete file is rewritten once the version is known to be complete
        } else {
          const entry = decodeWhole(bytes) as AvroRecordValue;
          await ctx.rewriteEntry(entry, target);
          out.push(entry as AvroRecord);
        }
      }
    }
    await flush();
    if (missing.length > 0) copying = false;
    return copying ? out : [];
  };

  /** The missing-file reports of a task's entries {@link PresenceChecker.failures} found unusable. */
  const report = (frames: readonly AvroFrame[], failed: Map<number, PresenceResult>) => {
    let i = 0;
    for (const frame of frames) {
      for (const { record } of reader.decodeFrame(frame)) {
        if (Number(record.status) === 2) continue; // as rewriteBlocks counts: live entries only
        const r = failed.get(i++);
        if (!r) continue;
        const df = record.data_file as AvroRecordValue;
        const source = String((df.file_path as AvroSpan).value);
        const kind = KINDS[contentOf(df)] ?? 'data';
        missing.push(
          ctx.missing(source, kind, r.reason!, longOf(df.file_size_in_bytes), r.actualSize, r.symlink),
        );
      }
    }
  };

  // Checks in flight, answered in order, so that reports keep the manifest's order.
  const checks: { frames: readonly AvroFrame[]; failed: Promise<Map<number, PresenceResult>> }[] = [];
  const settleCheck = async () => {
    const c = checks.shift()!;
    const failed = await c.failed;
    if (failed.size > 0) {
      report(c.frames, failed);
      copying = false;
    }
  };

  type Task = { task: BlockRewriteTask; result: Promise<BlockRewriteResult | undefined> };
  const dispatch = (frames: AvroFrame[]): Task => {
    const task: BlockRewriteTask = { frames, check: options.check, copy: copying };
    const result = WORKERS.run(setup, task);
    return { task, result };
  };
  const settle = async (t: Task): Promise<readonly AvroStreamItem[]> => {
    const r = (await t.result) ?? rewriteHere(t.task);
    if (r.slow) {
      while (checks.length > 0) await settleCheck();
      return slowly(t.task.frames);
    }
    if (r.sizes.length > 0) {
      const failed = ctx.presence.failures({ utf8: r.paths, count: r.sizes.length }, r.sizes, r.dirs);
      failed.catch(() => {}); // awaited in order below; not an unhandled rejection meanwhile
      checks.push({ frames: t.task.frames, failed });
      if (checks.length > CHECKS_AHEAD) await settleCheck();
    }
    return copying && t.task.copy && r.block ? [new CompressedBlock(r.block.count, r.block.data)] : [];
  };

  const entries = async function* (): AsyncGenerator<readonly AvroStreamItem[]> {
    const tasks: Task[] = [];
    try {
      let group: AvroFrame[] = [];
      let bytes = 0;
      for await (const frame of reader.frames()) {
        group.push(frame);
        bytes += frame.data.length;
        if (bytes < TASK_BYTES && group.length < TASK_FRAMES) continue;
        tasks.push(dispatch(group));
        group = [];
        bytes = 0;
        if (tasks.length > TASKS_AHEAD) {
          const out = await settle(tasks.shift()!);
          if (out.length > 0) yield out;
        }
      }
      if (group.length > 0) tasks.push(dispatch(group));
      while (tasks.length > 0) {
        const out = await settle(tasks.shift()!);
        if (out.length > 0) yield out;
      }
      while (checks.length > 0) await settleCheck();
    } finally {
      // Given up early: let what is under way settle (its errors are the first one's consequences).
      await Promise.allSettled([...tasks.map((t) => t.result), ...checks.map((c) => c.failed)]);
    }
    if (options.outputPath !== undefined && (!copying || missing.length > 0)) throw new CopyGivenUp();
  };
  if (options.outputPath === undefined) {
    for await (const _ of entries()) {
      // checking only: nothing is yielded
    }
    return { missing };
  }
  let outputSize = 0;
  // An error of the pass itself, as raised: backends wrap what their source throws.
  let failure: { error: unknown } | undefined;
  const chunks = async function* () {
    try {
      for await (const chunk of encodeAvroStream(reader.header, entries(), REWRITE_AVRO)) {
        outputSize += chunk.length;
        yield chunk;
      }
    } catch (error) {
      failure = { error };
      throw error;
    }
  };
  try {
    // Streamed from the replica through the rewrite into the output, block by block.
    await ctx.write(options.outputPath, chunks());
  } catch (err) {
    const cause = failure ? failure.error : err;
    if (cause instanceof CopyGivenUp) return { missing };
    throw cause;
  }
  return { missing, written: { sourceSize: reader.bytesRead, outputSize } };
}
