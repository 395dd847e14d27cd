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
import { compressBlock } from '../avro/codecs.ts';
import { type AvroDecoder, AvroSpan, createProjectedDecoder } from '../avro/decode.ts';
import { type AvroFrame, decodeFrame } from '../avro/reader.ts';
import { type AvroType, parseAvroSchema } from '../avro/schema.ts';
import { writeReplaced } from '../avro/writer.ts';
import { type AvroRecordValue, contentOf, longOf } from '../iceberg/manifest-views.ts';
import { PathMapper, type PathMappingRule } from '../table/path-mapping.ts';

/**
 * What a manifest pass decodes of an entry: enough to check its file and to copy the bytes of an
 * entry whose only path is its data file's (the metrics maps, most of an entry, are skipped).
 */
export const PASS_FIELDS = {
  status: true,
  data_file: { content: true, file_path: 'span', file_size_in_bytes: true, referenced_data_file: true },
} as const;

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
      /** The mapped paths of the live entries, in order, joined by NUL (with `check`). */
      readonly paths: string;
      /** Their recorded sizes, NaN where none is recorded. */
      readonly sizes: Float64Array;
      /** Their distinct parent directories. */
      readonly dirs: readonly string[];
    }
  | { readonly slow: true };

const SLOW: BlockRewriteResult = { slow: true };
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The decoder and mapper of a setup, made once per manifest (and per worker). */
export interface BlockRewriter {
  readonly setup: BlockRewriteSetup;
  readonly decoder: AvroDecoder;
  readonly mapper: PathMapper;
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
  return {
    setup,
    decoder: createProjectedDecoder(schema, PASS_FIELDS),
    mapper: own.mapper ?? new PathMapper(setup.rules, { allowUnmapped: setup.allowUnmapped }),
  };
}

/** Rewrites and collects as {@link BlockRewriteTask} says, or answers `slow` (see the module's doc). */
export function rewriteBlocks(rw: BlockRewriter, task: BlockRewriteTask): BlockRewriteResult {
  const { setup, decoder, mapper } = rw;
  const context = { file: setup.file, field: 'data_file.file_path' };
  let total = 0;
  for (const f of task.frames) total += f.count;
  const body = task.copy ? new ByteWriter(64 * 1024) : undefined;
  const paths: string[] = [];
  const sizes = new Float64Array(task.check ? total : 0);
  const dirs = new Set<string>();
  let lastDir = '';
  try {
    for (const frame of task.frames) {
      for (const { record, bytes, offset } of decodeFrame(decoder, setup.codec, frame, setup.file)) {
        const df = record.data_file as AvroRecordValue;
        const span = df.file_path;
        const refersToData = df.referenced_data_file !== null && df.referenced_data_file !== undefined;
        if (contentOf(df) === 1 || refersToData || !(span instanceof AvroSpan)) return SLOW;
        const live = Number(record.status) !== 2; // DELETED entries are not part of the snapshot
        const checked = task.check && live;
        if (!checked && !body) continue;
        const mapped = mapper.map(String(span.value), context);
        if (checked) {
          const size = longOf(df.file_size_in_bytes);
          if (size !== undefined && (size > MAX_SAFE || size < 0n)) return SLOW;
          sizes[paths.length] = size === undefined ? Number.NaN : Number(size);
          paths.push(mapped);
          const at = mapped.lastIndexOf('/');
          // Entries of a directory come together: a new one is looked up only when it changes.
          if (at !== lastDir.length || !mapped.startsWith(lastDir)) {
            lastDir = mapped.slice(0, at);
            dirs.add(lastDir);
          }
        }
        if (body) writeReplaced(body, bytes, span.start - offset, span.end - offset, mapped);
      }
    }
  } catch {
    return SLOW; // the caller does these blocks itself, and raises the error as it always would
  }
  const block =
    body && total > 0
      ? {
          count: total,
          data: compressBlock(setup.codec, body.bytesView(), { deflateLevel: setup.deflateLevel }),
        }
      : undefined;
  return {
    slow: false,
    ...(block ? { block } : {}),
    paths: paths.join('\0'),
    sizes: sizes.subarray(0, paths.length),
    dirs: [...dirs],
  };
}
