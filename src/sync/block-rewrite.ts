/**
 * The common case of a manifest pass, on a few stored blocks at a time: every entry names only
 * its data file (data and equality-delete files), so an entry is copied with its path mapped and
 * every other byte kept, and the mapped paths of the live entries are collected to be checked.
 * It is a pure function of the blocks, the schema and the mapping, so it runs as well on a worker
 * thread as on the caller's. Anything else (a position delete or deletion vector, a path outside
 * the mapping, a corrupt block) makes it answer `slow`: the caller then does those blocks itself,
 * entry by entry, and raises the error if there is one, as it always would.
 */
import { ByteWriter } from '../avro/binary.ts';
import { compressBlock, decompressBlock } from '../avro/codecs.ts';
import type { AvroFrame } from '../avro/reader.ts';
import { type AvroScanner, createScanner, type ScanSpec } from '../avro/scan.ts';
import { type AvroType, parseAvroSchema } from '../avro/schema.ts';
import { PathMapper, type PathMappingRule } from '../table/path-mapping.ts';

/**
 * What a manifest pass decodes of an entry: enough to check its file and to copy the bytes of an
 * entry whose only path is its data file's (the metrics maps, most of an entry, are skipped).
 */
export const PASS_FIELDS = {
  status: true,
  data_file: { content: true, file_path: 'span', file_size_in_bytes: true, referenced_data_file: true },
} as const;

/** What {@link rewriteBlocks} finds of an entry, in place of decoding it (see `avro/scan.ts`). */
const SCAN: ScanSpec = {
  status: 'int',
  data_file: {
    content: 'int',
    file_path: 'span',
    file_size_in_bytes: 'long',
    referenced_data_file: 'present',
  },
};

/** What stays the same for every block of a manifest (sent once to each worker). */
export interface BlockRewriteSetup {
  /** The manifest's Avro schema, as its header holds it (JSON). */
  readonly schema: string;
  readonly codec: string;
  readonly deflateLevel: number;
  readonly rules: readonly PathMappingRule[];
  readonly allowUnmapped: boolean;
  /** Names the manifest in the mapping's context (errors make the answer `slow`). */
  readonly file: string;
}

/** Some consecutive blocks of a manifest, and what to do with them. */
export interface BlockRewriteTask {
  readonly frames: readonly AvroFrame[];
  /** Collect the mapped paths (and sizes) of the live entries, to be checked. */
  readonly check: boolean;
  /** Encode the entries with their paths mapped into one block. */
  readonly copy: boolean;
}

/** What {@link rewriteBlocks} did. */
export type BlockRewriteResult =
  | {
      readonly slow: false;
      /** The entries, mapped, as one block compressed with the manifest's codec (with `copy`). */
      readonly block?: { readonly count: number; readonly data: Uint8Array };
      /** The mapped paths of the live entries, in order, as UTF-8 separated by NUL (with `check`). */
      readonly paths: Uint8Array;
      /** Their recorded sizes, NaN where none is recorded. */
      readonly sizes: Float64Array;
      /** Their distinct parent directories. */
      readonly dirs: readonly string[];
    }
  | { readonly slow: true };

const SLOW: BlockRewriteResult = { slow: true };
const SLASH = 0x2f;
const DOT = 0x2e;
/** Fatal, as the decoders are: a path that is not UTF-8 makes the answer `slow`, and the caller's error. */
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** The scanner and mapper of a setup, made once per manifest (and per worker). */
export interface BlockRewriter {
  readonly setup: BlockRewriteSetup;
  /** `undefined` for a schema no scanner fits (every task is then `slow`). */
  readonly scanner: AvroScanner | undefined;
  /** The scanner's slots of the entry's fields (-1 for one the schema lacks). */
  readonly slots: EntrySlots;
  readonly mapper: PathMapper;
  /** The directories its tasks have mapped so far. */
  readonly known: MappedDirs;
  /**
   * What each task writes its block and paths into, kept from task to task: a new buffer for each
   * made a big sync's threads collect garbage for the memory outside their heaps.
   */
  readonly body: ByteWriter;
  readonly paths: ByteWriter;
}

/**
 * The rewriter of `setup`; a caller that has them passes the parsed schema and its own mapper
 * (whose per-directory cache then serves both).
 */
export function blockRewriter(
  setup: BlockRewriteSetup,
  own: { readonly schema?: AvroType; readonly mapper?: PathMapper } = {},
): BlockRewriter {
  const schema = own.schema ?? parseAvroSchema(JSON.parse(setup.schema), setup.file);
  let scanner: AvroScanner | undefined;
  let slots: EntrySlots = { status: -1, path: -1, content: -1, size: -1, referenced: -1 };
  try {
    scanner = createScanner(schema, SCAN);
    // A manifest's schema without the fields an entry must have is not one this does.
    slots = {
      status: scanner.slot('status'),
      path: scanner.slot('data_file.file_path'),
      content: slotOr(scanner, 'data_file.content'),
      size: slotOr(scanner, 'data_file.file_size_in_bytes'),
      referenced: slotOr(scanner, 'data_file.referenced_data_file'),
    };
  } catch {
    scanner = undefined;
  }
  return {
    setup,
    scanner,
    slots,
    mapper: own.mapper ?? new PathMapper(setup.rules, { allowUnmapped: setup.allowUnmapped }),
    known: new MappedDirs(),
    body: new ByteWriter(64 * 1024),
    paths: new ByteWriter(16 * 1024),
  };
}

/** Where the scanner puts the fields of an entry that a task reads. */
interface EntrySlots {
  readonly status: number;
  /** Two slots: where `file_path`'s encoding starts and ends. */
  readonly path: number;
  readonly content: number;
  readonly size: number;
  readonly referenced: number;
}

/** A source directory whose files map below one target, as bytes. */
interface MappedDir {
  /** The source directory's bytes (up to its last `/`), and a view of them. */
  readonly source: Uint8Array;
  readonly view: DataView;
  /** What its files map below, with a trailing `/`. */
  readonly target: Uint8Array;
  /** The same without the slash, as a string. */
  readonly targetDir: string;
}

/**
 * Directories a rewriter remembers (its manifests' entries come from a few partitions, often
 * interleaved); past that it starts again.
 */
const MAPPED_DIRS_LIMIT = 1024;

/**
 * The directories of a rewriter's paths that map by directory, looked up by their bytes: most
 * paths are then mapped without being decoded, by copying the target's bytes and the name's.
 */
export class MappedDirs {
  readonly #byKey = new Map<number, MappedDir[]>();
  #size = 0;

  /** A hash of the `length` bytes at `from` (directories may differ anywhere), four at a time. */
  static key(raw: Uint8Array, view: DataView, from: number, length: number): number {
    let h = length;
    const end = from + length;
    let i = from;
    for (; i + 4 <= end; i += 4) h = Math.imul(h ^ view.getUint32(i, true), 0x9e3779b1);
    for (; i < end; i++) h = Math.imul(h ^ raw[i]!, 0x9e3779b1);
    return h ^ (h >>> 15);
  }

  find(raw: Uint8Array, view: DataView, from: number, length: number, key: number): MappedDir | undefined {
    const list = this.#byKey.get(key);
    if (list) for (const d of list) if (d.source.length === length && sameBytes(raw, view, from, d)) return d;
    return undefined;
  }

  add(key: number, d: MappedDir): void {
    if (this.#size >= MAPPED_DIRS_LIMIT) {
      this.#byKey.clear();
      this.#size = 0;
    }
    const list = this.#byKey.get(key);
    if (list) list.push(d);
    else this.#byKey.set(key, [d]);
    this.#size++;
  }
}

/** Whether the bytes at `from` are those of `dir.source` (of the same length), four at a time. */
function sameBytes(raw: Uint8Array, view: DataView, from: number, dir: MappedDir): boolean {
  const n = dir.source.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) if (view.getUint32(from + i, true) !== dir.view.getUint32(i, true)) return false;
  for (; i < n; i++) if (raw[from + i] !== dir.source[i]) return false;
  return true;
}

/** Rewrites and collects as {@link BlockRewriteTask} says, or answers `slow` (see the module's doc). */
export function rewriteBlocks(rw: BlockRewriter, task: BlockRewriteTask): BlockRewriteResult {
  const { setup, scanner, mapper, known } = rw;
  if (!scanner) return SLOW;
  const context = { file: setup.file, field: 'data_file.file_path' };
  const { status: S, path: P, content: C, size: Z, referenced: R } = rw.slots;
  const got = new Float64Array(scanner.width);
  try {
    let total = 0;
    const raws: Uint8Array[] = [];
    for (const f of task.frames) {
      const raw = decompressBlock(setup.codec, f.data, f.index, setup.file);
      raws.push(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
      total += f.count;
    }
    const body = task.copy ? rw.body : undefined;
    body?.reset();
    const paths = rw.paths;
    paths.reset();
    const sizes = new Float64Array(task.check ? total : 0);
    let checked = 0;
    const dirs = new Set<string>();
    for (const [k, raw] of raws.entries()) {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      let pos = 0;
      for (let i = 0; i < task.frames[k]!.count; i++) {
        const start = pos;
        pos = scanner.scan(raw, pos, raw.length, got);
        const content = C < 0 ? 0 : got[C]!;
        if (content === 1 || (R >= 0 && got[R] === 1)) return SLOW;
        const live = got[S] !== 2; // DELETED entries are not part of the snapshot
        const check = task.check && live;
        // The path's bytes, after the varint of their length (its end is the span's).
        const spanStart = got[P]!;
        const spanEnd = got[P + 1]!;
        let from = spanStart;
        while (raw[from++]! >= 0x80);
        if (!check && !body) {
          // Neither checked nor copied; but a decoder refuses a path that is not UTF-8, and so must this.
          hasNul(raw, from, spanEnd);
          continue;
        }
        const slash = raw.lastIndexOf(SLASH, spanEnd - 1);
        const nameLength = spanEnd - slash - 1;
        // Names the mapper leaves to its slow path (`''`, `.`, `..`) and paths without a directory.
        const plainName =
          slash > from &&
          nameLength > 0 &&
          !(nameLength <= 2 && raw[slash + 1] === DOT && (nameLength === 1 || raw[slash + 2] === DOT));
        let mapped: Uint8Array | undefined;
        let dir: string;
        const key = plainName ? MappedDirs.key(raw, view, from, slash - from) : 0;
        let byDir = plainName ? known.find(raw, view, from, slash - from, key) : undefined;
        if (byDir) {
          dir = byDir.targetDir;
          // The name's bytes are copied: they must be UTF-8, as a decoder would have them, and
          // hold no NUL, which separates the paths collected (no file system allows one).
          if (hasNul(raw, slash + 1, spanEnd)) return SLOW;
        } else {
          const path = utf8.decode(raw.subarray(from, spanEnd));
          if (path.includes('\0')) return SLOW;
          const below = plainName ? mapper.mappedDirectory(path.slice(0, path.lastIndexOf('/'))) : undefined;
          if (below !== undefined) {
            const source = raw.slice(from, slash);
            const target = utf8Encoder.encode(`${below}/`);
            byDir = { source, view: new DataView(source.buffer), target, targetDir: below };
            known.add(key, byDir);
            dir = below;
          } else {
            const m = mapper.map(path, context);
            mapped = utf8Encoder.encode(m);
            dir = m.slice(0, m.lastIndexOf('/'));
          }
        }
        const target = byDir ? byDir.target : EMPTY;
        const length = mapped ? mapped.length : target.length + nameLength;
        if (check) {
          const size = Z < 0 ? Number.NaN : got[Z]!;
          if (size < 0 || size === Number.POSITIVE_INFINITY) return SLOW;
          sizes[checked] = size;
          if (checked++ > 0) paths.writeRaw(NUL);
          writePath(paths, raw, mapped, target, slash + 1, spanEnd);
          dirs.add(dir);
        }
        if (body) {
          body.writeRaw(raw.subarray(start, spanStart));
          body.writeCount(length);
          writePath(body, raw, mapped, target, slash + 1, spanEnd);
          body.writeRaw(raw.subarray(spanEnd, pos));
        }
      }
      if (pos !== raw.length) return SLOW; // bytes after the last entry: a decoder refuses the block
    }
    const block =
      body && total > 0
        ? {
            count: total,
            // The writer is the rewriter's, used again by its next task: `null` is copied out.
            data:
              setup.codec === 'null'
                ? body.toBytes()
                : compressBlock(setup.codec, body.bytesView(), { deflateLevel: setup.deflateLevel }),
          }
        : undefined;
    return {
      slow: false,
      ...(block ? { block } : {}),
      paths: paths.toBytes(),
      sizes: sizes.subarray(0, checked),
      dirs: [...dirs],
    };
  } catch {
    return SLOW; // the caller does these blocks itself, and raises the error as it always would
  }
}

const NUL = new Uint8Array(1);
const EMPTY = new Uint8Array(0);

/** A mapped path: `mapped` whole, or the directory's target and the name's bytes in `raw`. */
function writePath(
  w: ByteWriter,
  raw: Uint8Array,
  mapped: Uint8Array | undefined,
  target: Uint8Array,
  nameStart: number,
  nameEnd: number,
): void {
  if (mapped) w.writeRaw(mapped);
  else {
    w.writeRaw(target);
    w.writeRaw(raw.subarray(nameStart, nameEnd));
  }
}

/**
 * Whether `raw[from, to)` holds a NUL.
 * @throws TypeError where the bytes are not UTF-8 (the fatal decoder's error: the task is `slow`).
 */
function hasNul(raw: Uint8Array, from: number, to: number): boolean {
  let ascii = true;
  let nul = false;
  for (let j = from; j < to; j++) {
    const c = raw[j]!;
    if (c === 0) nul = true;
    else if (c >= 0x80) ascii = false;
  }
  if (!ascii) utf8.decode(raw.subarray(from, to));
  return nul;
}

/** The slot of a field the schema may lack (-1 then). */
function slotOr(scanner: AvroScanner, path: string): number {
  try {
    return scanner.slot(path);
  } catch {
    return -1;
  }
}
