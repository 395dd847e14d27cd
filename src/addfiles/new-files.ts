/**
 * The new files of an add-files run, judged from their footers: each file's entry, why it is
 * refused, or why it waits for the next run. Footers are read a bounded number at once and each is
 * judged, and dropped, as soon as the table's shape is known: a run creating a table from 100,000
 * files once held every decoded footer (about 30 kB each) until its commit.
 */
import pLimit from 'p-limit';
import type { ParquetFooter } from '../parquet/footer.ts';
import type { FileInfo, Storage } from '../storage/storage.ts';
import { type CreatedShape, type CreateTableOptions, createShape } from './create-table.ts';
import { dataFileFromFooter, type NewDataFile, type TableShape } from './data-file.ts';
import { deleteFileEvidence, deleteFileRejection } from './delete-files.ts';
import { hivePartitionValues, type ScannedFile } from './scan.ts';
import { shapeOf } from './table-shape.ts';

/** What became of one new file. */
export type NewFileOutcome =
  | { readonly ok: NewDataFile }
  /** Refused: not Parquet, a delete file, or not of the table's shape. */
  | { readonly reason: string }
  /** Changed or vanished after it was listed: probably still being copied; the next run tries again. */
  | { readonly deferred: string };

/** How {@link judgeNewFiles} reads and judges. */
export interface JudgeNewFilesOptions {
  /** The new files, in listing order (the first usable one shapes a new table). */
  readonly files: readonly ScannedFile[];
  /** Where the files are stat'ed again after their footers were read. */
  readonly storage: Storage;
  /** The table's shape; absent when the table is to be created from the files. */
  readonly shape?: TableShape;
  /** How to create the table (when `shape` is absent). */
  readonly create?: CreateTableOptions;
  /** Footers read at once. */
  readonly concurrency: number;
  readFooter(file: ScannedFile): Promise<ParquetFooter>;
  /**
   * Why a file whose footer could not be read is refused; throws the error back when it is not
   * the file's fault (a permission or network error ends the run).
   */
  unreadable(file: ScannedFile, err: unknown): Promise<string>;
  /** After each footer read. */
  onRead?(done: number, total: number): void;
}

/** What {@link judgeNewFiles} made of the files. */
export interface JudgedNewFiles {
  /** One per file, in the order of `files`. */
  readonly outcomes: readonly NewFileOutcome[];
  /** The shape of a table to create, from the first usable file (absent: none was usable). */
  readonly creation?: CreatedShape;
}

type Pending = { readonly footer: ParquetFooter } | { readonly reason: string };

/** What a footer makes of a file for a table of `shape`: its entry, or why it is refused. */
function judgeFooter(shape: TableShape, f: ScannedFile, footer: ParquetFooter): NewFileOutcome {
  const evidence = deleteFileEvidence(footer, f.path, shape.schema);
  if (evidence) return { reason: deleteFileRejection(evidence) };
  const outcome = dataFileFromFooter(shape, f.path, f.size, hivePartitionValues(f.relative), footer);
  return 'ok' in outcome ? { ok: outcome.ok } : { reason: outcome.rejected };
}

/** Why a file stat'ed again after its read is left for the next run, if it is. */
function changedSince(f: ScannedFile, now: FileInfo | undefined): string | undefined {
  if (!now) return 'vanished while being read';
  if (
    now.size !== f.size ||
    (now.mtimeMs !== undefined && f.mtimeMs !== undefined && now.mtimeMs !== f.mtimeMs)
  )
    return 'changed while being read; still being written';
  return undefined;
}

/**
 * Reads the footers of `files` and judges each file. Every file is stat'ed again once after its
 * footer was read, and left for the next run when it changed meanwhile (where the storage batches
 * stats, all files but a new table's first in one call at the end). A new table is shaped by the
 * first file in order that is Parquet, not a delete file, and unchanged after its read; the
 * footers read before that file is known wait for it (usually a handful: about `concurrency`).
 */
export async function judgeNewFiles(o: JudgeNewFilesOptions): Promise<JudgedNewFiles> {
  const { files, storage } = o;
  const limit = pLimit(o.concurrency);
  const judged: (NewFileOutcome | Pending | undefined)[] = new Array(files.length);
  // Files stat'ed again before the end: the candidates for shaping a new table.
  const earlier = new Map<number, FileInfo | undefined>();
  let shape = o.shape;
  let creation: CreatedShape | undefined;

  // The first file that may shape a new table: every file before it is refused or changed.
  let next = 0;
  const settleShape = async (): Promise<void> => {
    while (!shape && next < files.length) {
      const f = files[next] as ScannedFile;
      const out = judged[next];
      if (!out) return; // not read yet: a later read settles it
      if ('footer' in out) {
        // Refused before it can shape the table (no schema to excuse it yet).
        const evidence = deleteFileEvidence(out.footer, f.path);
        if (evidence) judged[next] = { reason: deleteFileRejection(evidence) };
        else {
          const now = await storage.stat(f.path);
          earlier.set(next, now);
          if (!changedSince(f, now)) {
            creation = createShape(o.create ?? {}, out.footer, f);
            const fixed = shapeOf(creation.schema, creation.spec, creation.properties);
            shape = fixed;
            for (let i = next; i < files.length; i++) {
              const waiting = judged[i];
              if (waiting && 'footer' in waiting)
                judged[i] = judgeFooter(fixed, files[i] as ScannedFile, waiting.footer);
            }
            return;
          }
        }
      }
      next++;
    }
  };
  // One settling at a time, each after the read that may have unblocked it.
  let settling: Promise<void> = Promise.resolve();

  let done = 0;
  await Promise.all(
    files.map((f, i) =>
      limit(async () => {
        try {
          let out: NewFileOutcome | Pending;
          try {
            const footer = await o.readFooter(f);
            out = shape ? judgeFooter(shape, f, footer) : { footer };
          } catch (err) {
            out = { reason: await o.unreadable(f, err) };
          }
          judged[i] = out;
          done++;
          o.onRead?.(done, files.length);
          if (!shape) {
            settling = settling.then(settleShape);
            await settling;
          }
        } catch (err) {
          // The run has failed: read no more footers (the reads under way end on their own).
          limit.clearQueue();
          throw err;
        }
      }),
    ),
  );

  const rest = files.filter((_, i) => !earlier.has(i)).map((f) => f.path);
  const restNow = storage.statMany
    ? await storage.statMany(rest)
    : await Promise.all(rest.map((p) => limit(() => storage.stat(p))));
  let k = 0;
  const outcomes = files.map((f, i): NewFileOutcome => {
    const now = earlier.has(i) ? earlier.get(i) : restNow[k++];
    const deferred = changedSince(f, now);
    if (deferred) return { deferred };
    const out = judged[i] as NewFileOutcome | Pending;
    // Unchanged files before the first usable one were refused; every later footer was judged.
    if ('footer' in out) throw new Error(`internal: ${f.path} was read but never judged`);
    return out;
  });
  return { outcomes, ...(creation ? { creation } : {}) };
}
