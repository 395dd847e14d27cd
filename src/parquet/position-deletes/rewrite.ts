/**
 * Rewrites the `file_path` column of an Iceberg position-delete file.
 *
 * Approach: surgery, not re-writing. Every byte of the file is copied as it is, except:
 *  - the `file_path` column chunks, where only the pages holding path bytes change: the
 *    dictionary page (the usual case; data pages of dictionary indices are copied verbatim)
 *    or PLAIN data pages, re-encoded PLAIN and compressed with the chunk's own codec;
 *  - the page indexes that hold offsets (every offset index) or path bounds (the `file_path`
 *    column index), rebuilt in place;
 *  - column metadata a writer repeated inside the file (Impala writes each ColumnChunk after
 *    its data, where `file_offset` points), rebuilt like the footer's;
 *  - the footer, decoded losslessly (every unknown field kept with its wire type) with only
 *    offsets, sizes and `file_path` statistics changed.
 * Row groups, pages, encodings, codecs, field ids, key-value metadata, `created_by` and the
 * other columns' bytes stay exactly as the writer made them. hyparquet-writer was not used:
 * re-writing from rows would change page layout and encodings, drop page indexes and
 * unknown footer fields, and it cannot write every codec Iceberg writers use.
 *
 * Limits: `file_path` must be a top-level BYTE_ARRAY; its data pages must be dictionary or
 * PLAIN encoded (DELTA_* are refused); LZO and Hadoop-framed LZ4 chunks are refused. A bloom
 * filter on `file_path` would hold hashes of the old paths, so its reference is removed.
 */

import {
  brotliCompressSync as brotliCompress,
  brotliDecompressSync as brotliDecompress,
  crc32,
  gunzipSync,
  gzipSync,
  zstdCompressSync,
  zstdDecompressSync,
} from 'node:zlib';
import type { AsyncBuffer } from 'hyparquet';
import { parquetRead, snappyUncompress } from 'hyparquet';
import { compressors, decompressLz4Raw } from 'hyparquet-compressors';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { CorruptFileError, IcebergSyncError, UnsupportedError } from '../../errors.ts';
import { bytesRangeReader } from '../../storage/storage.ts';
import { concatBytes } from '../../util/bytes.ts';
import { decodeParquetFooter, PARQUET_MAGIC, readParquetFooterBytes } from '../footer.ts';
import { CompactType, decodeStruct, encodeStruct, ThriftError, ThriftStruct, thriftList } from '../thrift.ts';

/** Iceberg's reserved field id of the position-delete `file_path` column. */
export const FILE_PATH_FIELD_ID = 2147483546;
/** Iceberg's reserved field id of the position-delete `pos` column. */
export const POS_FIELD_ID = 2147483545;

/** Result of {@link rewritePositionDeleteFile}. */
export interface PositionDeleteRewrite {
  /** The new file; the input itself when nothing changed. */
  readonly bytes: Uint8Array;
  readonly changed: boolean;
  readonly rowCount: bigint;
  /** Smallest (by UTF-8 bytes) non-null path after mapping; absent when all are null. */
  readonly minPath?: string;
  /** Largest non-null path after mapping. */
  readonly maxPath?: string;
}

// Parquet enum values used here (parquet.thrift).
const PAGE_DATA = 0;
const PAGE_DICTIONARY = 2;
const PAGE_DATA_V2 = 3;
const ENC_PLAIN = 0;
const ENC_PLAIN_DICTIONARY = 2;
const ENC_RLE = 3;
const ENC_BIT_PACKED = 4;
const ENC_RLE_DICTIONARY = 8;
const BOUNDARY_UNORDERED = 0;
const BOUNDARY_ASCENDING = 1;
const BOUNDARY_DESCENDING = 2;
const CODEC_NAMES = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'LZO', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW'];

type PathValue = Uint8Array | null;

/**
 * Rewrites every `file_path` value (field id 2147483546) of a position-delete file through
 * `mapPath`. Returns the input unchanged (`changed: false`) when no path changes.
 */
export async function rewritePositionDeleteFile(
  input: Uint8Array,
  mapPath: (path: string) => string,
  fileName: string,
): Promise<PositionDeleteRewrite> {
  try {
    return await rewriteFile(input, mapPath, fileName);
  } catch (err) {
    // A Thrift field of the wrong wire type, met outside a guarded decode.
    if (err instanceof ThriftError) {
      throw new CorruptFileError(fileName, `corrupt metadata (${err.message})`, { cause: err });
    }
    throw err;
  }
}

async function rewriteFile(
  input: Uint8Array,
  mapPath: (path: string) => string,
  fileName: string,
): Promise<PositionDeleteRewrite> {
  const metadataBytes = await readParquetFooterBytes(bytesRangeReader(input), fileName);
  const footerStart = input.length - 8 - metadataBytes.length;
  const footer = decodeParquetFooter(metadataBytes, input.length, fileName);
  const tree = guard(fileName, () => decodeStruct(metadataBytes).value);

  const leaves = footer.schema.filter((e) => e.type !== undefined);
  const column = leaves.findIndex((e) => e.fieldId === FILE_PATH_FIELD_ID);
  const leaf = leaves[column];
  if (!leaf) {
    throw new CorruptFileError(
      fileName,
      `not a position-delete file (no column with field id ${FILE_PATH_FIELD_ID})`,
    );
  }
  if (leaf.path.length !== 1 || leaf.type !== 'BYTE_ARRAY' || leaf.repetition === 'REPEATED') {
    throw new UnsupportedError(fileName, 'file_path must be a top-level BYTE_ARRAY column');
  }
  const maxDef = leaf.repetition === 'OPTIONAL' ? 1 : 0;

  // Decode the paths with hyparquet (any encoding), then map each distinct path once. Its
  // decompressors allocate what a page header claims, so the claims are checked first.
  for (const rg of footer.rowGroups) {
    const chunk = rg.columns[column];
    if (chunk) checkPageSizes(input, chunk.startOffset, chunk.totalCompressedSize, fileName);
  }
  const original = await readPaths(input, footer.metadata, leaf.name, fileName);
  if (BigInt(original.length) !== footer.rowCount) {
    throw new CorruptFileError(
      fileName,
      `file_path has ${original.length} values for ${footer.rowCount} rows`,
    );
  }
  const mapper = new PathMapper(mapPath, fileName);
  const mapped = original.map((v) => (v === null ? null : mapper.map(v)));

  if (!mapper.changed) {
    const { min, max } = minMax(original.filter((v): v is Uint8Array => v !== null));
    return { bytes: input, changed: false, rowCount: footer.rowCount, ...pathBounds(min, max) };
  }

  // Rebuild each file_path chunk, and gather what the layout pass needs.
  const rowGroups = tree.structs(4);
  if (rowGroups.length !== footer.rowGroups.length) throw new CorruptFileError(fileName, 'corrupt footer');
  const regions: Region[] = [];
  const originals: ColumnOffsets[][] = [];
  let row = 0;
  for (let g = 0; g < rowGroups.length; g++) {
    const rg = rowGroups[g]!;
    const info = footer.rowGroups[g]!;
    const chunks = rg.structs(1);
    const groupRows = Number(info.rowCount);
    const groupOriginal = original.slice(row, row + groupRows);
    const groupMapped = mapped.slice(row, row + groupRows);
    row += groupRows;
    originals.push(chunks.map((cc) => columnOffsets(cc)));

    const cc = chunks[column];
    const chunkInfo = info.columns[column];
    if (!cc || !chunkInfo) throw new CorruptFileError(fileName, `row group ${g} lacks the file_path column`);
    const cmd = cc.struct(3)!;
    const codec = cmd.int(4) ?? 0;
    const rebuilt = rebuildChunk(input, chunkInfo.startOffset, chunkInfo.totalCompressedSize, {
      codec,
      maxDef,
      groupMapped,
      groupOriginal,
      fileName,
    });
    regions.push({
      kind: 'chunk',
      start: chunkInfo.startOffset,
      end: chunkInfo.startOffset + chunkInfo.totalCompressedSize,
      chunk: rebuilt,
      content: rebuilt.bytes,
    });

    // Sizes and statistics of the chunk, the row group and the footer's copy of both.
    const compressedDelta = BigInt(rebuilt.bytes.length - chunkInfo.totalCompressedSize);
    const uncompressedTotal = (cmd.long(6) ?? 0n) + rebuilt.uncompressedDelta;
    if (uncompressedTotal < 0n) {
      throw new CorruptFileError(
        fileName,
        `row group ${g}: file_path page sizes disagree with the column chunk`,
      );
    }
    cmd.set(6, CompactType.I64, uncompressedTotal);
    cmd.set(7, CompactType.I64, BigInt(rebuilt.bytes.length));
    const values = groupMapped.filter((v): v is Uint8Array => v !== null);
    const stats = cmd.struct(12);
    if (stats) updateStatistics(stats, values, isInjective(groupOriginal, groupMapped));
    const sizeStats = cmd.struct(16);
    if (sizeStats?.has(1)) sizeStats.set(1, CompactType.I64, byteTotal(values));
    // The bloom filter hashes old paths: drop the reference (its bytes stay, unreferenced).
    cmd.delete(14).delete(15);
    rg.set(2, CompactType.I64, (rg.long(2) ?? 0n) + rebuilt.uncompressedDelta);
    if (rg.has(6)) rg.set(6, CompactType.I64, (rg.long(6) ?? 0n) + compressedDelta);

    // The column index holds path bounds per page: rebuilt from the mapped values.
    const ciOffset = cc.long(6);
    const ciLength = cc.int(7);
    if (ciOffset !== undefined && ciLength !== undefined && ciLength > 0) {
      const start = Number(ciOffset);
      const old = guard(fileName, () => decodeStruct(input.subarray(0, start + ciLength), start).value);
      regions.push({
        kind: 'column-index',
        start,
        end: start + ciLength,
        content: encodeStruct(rebuildColumnIndex(old, rebuilt.pages, fileName)),
      });
    }
  }

  // Offset indexes hold absolute page offsets; embedded column metadata holds offsets too.
  for (let g = 0; g < rowGroups.length; g++) {
    const chunks = rowGroups[g]!.structs(1);
    for (let c = 0; c < chunks.length; c++) {
      const cc = chunks[c]!;
      const orig = originals[g]![c]!;
      const chunkInfo = footer.rowGroups[g]!.columns[c]!;
      if (orig.offsetIndex !== undefined && orig.offsetIndexLength) {
        const start = orig.offsetIndex;
        const end = start + orig.offsetIndexLength;
        const old = guard(fileName, () => decodeStruct(input.subarray(0, end), start).value);
        const chunkRegion =
          c === column
            ? regions.find((r) => r.kind === 'chunk' && r.start === chunkInfo.startOffset)
            : undefined;
        regions.push({
          kind: 'offset-index',
          start,
          end,
          build: (pos) => rebuildOffsetIndex(old, pos, chunkRegion),
        });
      }
      const embedded = embeddedColumnChunk(input, footerStart, chunkInfo, orig.fileOffset);
      if (embedded) {
        regions.push({
          kind: 'embedded',
          start: embedded.start,
          end: embedded.end,
          build: (pos) => {
            const copy = embedded.value;
            copy.set(2, CompactType.I64, BigInt(pos(embedded.start)));
            copy.set(3, CompactType.STRUCT, cc.struct(3)!);
            for (const [id, value] of [
              [4, orig.offsetIndex],
              [6, orig.columnIndex],
            ] as const) {
              if (copy.has(id) && value !== undefined) copy.set(id, CompactType.I64, BigInt(pos(value)));
            }
            return encodeStruct(copy);
          },
        });
      }
    }
  }

  regions.sort((a, b) => a.start - b.start);
  for (let i = 1; i < regions.length; i++) {
    if (regions[i]!.start < regions[i - 1]!.end) {
      throw new UnsupportedError(fileName, `overlapping structures at offset ${regions[i]!.start}`);
    }
  }
  if (regions.length && (regions[0]!.start < 4 || regions.at(-1)!.end > footerStart)) {
    throw new CorruptFileError(fileName, 'column data overlaps the magic or the footer');
  }

  // Contents of some regions depend on where everything lands, and their sizes move what
  // follows them; iterate until sizes settle (varint lengths change rarely, so 1-2 rounds).
  const applyOffsets = (pos: PositionMap, contents: Uint8Array[]): void => {
    for (let g = 0; g < rowGroups.length; g++) {
      const rg = rowGroups[g]!;
      const chunks = rg.structs(1);
      for (let c = 0; c < chunks.length; c++)
        setOffsets(chunks[c]!, originals[g]![c]!, pos, regions, contents);
      // The row group's offset is its first page. Some writers stored a wrong value
      // (PARQUET-2078), so the true start is mapped rather than the stored number.
      if (rg.has(5)) rg.set(5, CompactType.I64, BigInt(pos(footer.rowGroups[g]!.startOffset)));
    }
  };
  let contents: Uint8Array[] = regions.map((r) => r.content ?? new Uint8Array(r.end - r.start));
  let pos: PositionMap = positionMap(regions, contents, fileName);
  for (let round = 0; ; round++) {
    applyOffsets(pos, contents);
    const next = regions.map((r, i) => r.content ?? r.build?.(pos) ?? contents[i]!);
    const settled = next.every((b, i) => b.length === contents[i]!.length);
    contents = next;
    pos = positionMap(regions, contents, fileName);
    if (settled) break;
    if (round > 8) throw new UnsupportedError(fileName, 'layout did not settle');
  }
  applyOffsets(pos, contents);

  const footerOut = encodeStruct(tree);
  const parts: Uint8Array[] = [];
  let at = 0;
  regions.forEach((r, i) => {
    parts.push(input.subarray(at, r.start), contents[i]!);
    at = r.end;
  });
  parts.push(input.subarray(at, footerStart), footerOut);
  const tail = new Uint8Array(8);
  new DataView(tail.buffer).setUint32(0, footerOut.length, true);
  new DataView(tail.buffer).setUint32(4, PARQUET_MAGIC, true);
  parts.push(tail);

  const { min, max } = minMax(mapped.filter((v): v is Uint8Array => v !== null));
  return { bytes: concatBytes(parts), changed: true, rowCount: footer.rowCount, ...pathBounds(min, max) };
}

// ---------------------------------------------------------------------------------------------
// Reading and mapping the paths

async function readPaths(
  input: Uint8Array,
  metadata: import('hyparquet').FileMetaData,
  columnName: string,
  fileName: string,
): Promise<PathValue[]> {
  const file: AsyncBuffer = {
    byteLength: input.length,
    // Copy out of `input`: a Node Buffer's slice() is a view into a shared pool, whose .buffer
    // would be the whole pool.
    slice: (start, end) => Uint8Array.prototype.slice.call(input, start, end ?? input.length).buffer,
  };
  let rows: unknown[][] = [];
  try {
    await parquetRead({
      file,
      metadata,
      columns: [columnName],
      compressors,
      utf8: false,
      parsers: { stringFromBytes: (b: Uint8Array) => b },
      onComplete: (r: unknown[][]) => {
        rows = r;
      },
    });
  } catch (err) {
    if (err instanceof IcebergSyncError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new CorruptFileError(fileName, `cannot decode file_path (${detail})`, { cause: err });
  }
  return rows.map((r) => {
    const v = r[0];
    if (v === null || v === undefined) return null;
    if (!(v instanceof Uint8Array))
      throw new CorruptFileError(fileName, 'file_path holds a non-binary value');
    return v;
  });
}

/** Maps path bytes through the caller's string mapping, once per distinct path. */
class PathMapper {
  changed = false;
  private readonly cache = new Map<string, Uint8Array>();
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly encoder = new TextEncoder();
  private readonly mapPath: (path: string) => string;
  private readonly fileName: string;

  constructor(mapPath: (path: string) => string, fileName: string) {
    this.mapPath = mapPath;
    this.fileName = fileName;
  }

  map(bytes: Uint8Array): Uint8Array {
    let path: string;
    try {
      path = this.decoder.decode(bytes);
    } catch {
      throw new CorruptFileError(this.fileName, 'file_path holds a value that is not UTF-8');
    }
    let out = this.cache.get(path);
    if (!out) {
      const next = this.mapPath(path);
      out = next === path ? bytes : this.encoder.encode(next);
      if (next !== path) this.changed = true;
      this.cache.set(path, out);
    }
    return out;
  }
}

function pathBounds(
  min: Uint8Array | undefined,
  max: Uint8Array | undefined,
): { minPath?: string; maxPath?: string } {
  const d = new TextDecoder();
  return { ...(min && { minPath: d.decode(min) }), ...(max && { maxPath: d.decode(max) }) };
}

// ---------------------------------------------------------------------------------------------
// The file_path chunk

interface PageRecord {
  oldOffset: number;
  /** Offset of the new page relative to the new chunk's start. */
  newOffset: number;
  /** Header plus body, in the new chunk. */
  newSize: number;
  isData: boolean;
  /** Data pages: the page's values, before and after mapping (null for nulls). */
  original: PathValue[];
  mapped: PathValue[];
}

interface RebuiltChunk {
  bytes: Uint8Array;
  pages: PageRecord[];
  uncompressedDelta: bigint;
}

interface ChunkContext {
  codec: number;
  maxDef: number;
  groupOriginal: PathValue[];
  groupMapped: PathValue[];
  fileName: string;
}

function rebuildChunk(input: Uint8Array, start: number, length: number, ctx: ChunkContext): RebuiltChunk {
  const { fileName } = ctx;
  const end = start + length;
  const chunkBytes = input.subarray(0, end);
  const parts: Uint8Array[] = [];
  const pages: PageRecord[] = [];
  let newLength = 0;
  let uncompressedDelta = 0n;
  let rowCursor = 0;
  let pos = start;
  while (pos < end) {
    const { value: header, end: bodyStart } = guard(fileName, () => decodeStruct(chunkBytes, pos));
    const type = header.int(1);
    const uncompressedSize = header.int(2) ?? 0;
    const compressedSize = header.int(3) ?? -1;
    if (compressedSize < 0 || bodyStart + compressedSize > end) {
      throw new CorruptFileError(fileName, `page at offset ${pos} extends past its column chunk`);
    }
    const body = input.subarray(bodyStart, bodyStart + compressedSize);
    let newBody = body;
    let newUncompressed = uncompressedSize;
    let headerChanged = false;
    const record: PageRecord = {
      oldOffset: pos,
      newOffset: newLength,
      newSize: 0,
      isData: false,
      original: [],
      mapped: [],
    };

    if (type === PAGE_DICTIONARY) {
      const dph = header.struct(7);
      const count = dph?.int(1) ?? 0;
      const raw = decompress(ctx.codec, body, uncompressedSize, fileName);
      const mapper = dictionaryMapper(ctx.groupOriginal, ctx.groupMapped);
      const entries = decodePlainByteArrays(raw, count, fileName).map(mapper);
      const newRaw = encodePlainByteArrays(entries);
      if (!equalBytes(newRaw, raw)) {
        newBody = compress(ctx.codec, newRaw, fileName);
        newUncompressed = newRaw.length;
        if (dph?.has(3)) dph.set(3, CompactType.BOOL_TRUE, isSorted(entries));
        headerChanged = true;
      }
    } else if (type === PAGE_DATA || type === PAGE_DATA_V2) {
      const v2 = type === PAGE_DATA_V2;
      const dph = v2 ? header.struct(8) : header.struct(5);
      if (!dph) throw new CorruptFileError(fileName, `data page at offset ${pos} has no data page header`);
      const numValues = dph.int(1) ?? 0;
      const encoding = (v2 ? dph.int(4) : dph.int(2)) ?? ENC_PLAIN;
      record.isData = true;
      record.original = ctx.groupOriginal.slice(rowCursor, rowCursor + numValues);
      record.mapped = ctx.groupMapped.slice(rowCursor, rowCursor + numValues);
      if (record.original.length !== numValues) {
        throw new CorruptFileError(fileName, 'file_path pages hold more values than the row group has rows');
      }
      rowCursor += numValues;
      const values = record.mapped.filter((v): v is Uint8Array => v !== null);
      const pageChanged = record.mapped.some((v, i) => v !== record.original[i]);
      if (encoding === ENC_PLAIN) {
        if (pageChanged) {
          const plain = encodePlainByteArrays(values);
          if (v2) {
            const levels = (dph.int(5) ?? 0) + (dph.int(6) ?? 0);
            const compressed = dph.bool(7) ?? true;
            // The old values are not needed, but their sizes are: the footer's totals move by
            // the difference, so a page header that lies about them is refused here.
            if (levels < 0 || levels > body.length || levels > uncompressedSize) {
              throw new CorruptFileError(fileName, `data page at offset ${pos} has bad level lengths`);
            }
            if (compressed) decompress(ctx.codec, body.subarray(levels), uncompressedSize - levels, fileName);
            else if (body.length !== uncompressedSize) {
              throw new CorruptFileError(fileName, `data page at offset ${pos} has a bad uncompressed size`);
            }
            const packed = compressed ? compress(ctx.codec, plain, fileName) : plain;
            newBody = concatBytes([body.subarray(0, levels), packed]);
            newUncompressed = levels + plain.length;
          } else {
            const raw = decompress(ctx.codec, body, uncompressedSize, fileName);
            const levels = v1LevelsLength(raw, ctx.maxDef, dph.int(3), numValues, fileName);
            const newRaw = concatBytes([raw.subarray(0, levels), plain]);
            newBody = compress(ctx.codec, newRaw, fileName);
            newUncompressed = newRaw.length;
          }
          headerChanged = true;
        }
      } else if (encoding !== ENC_PLAIN_DICTIONARY && encoding !== ENC_RLE_DICTIONARY) {
        throw new UnsupportedError(
          fileName,
          `file_path data pages with encoding ${encoding} are not supported`,
        );
      }
      const pageStats = v2 ? dph.struct(8) : dph.struct(5);
      if (pageStats && pageChanged) {
        updateStatistics(pageStats, values, isInjective(record.original, record.mapped));
        headerChanged = true;
      }
    }

    let headerBytes = input.subarray(pos, bodyStart);
    if (headerChanged) {
      header.set(2, CompactType.I32, newUncompressed);
      header.set(3, CompactType.I32, newBody.length);
      if (header.has(4)) header.set(4, CompactType.I32, crc32(newBody) | 0);
      headerBytes = encodeStruct(header);
    }
    uncompressedDelta += BigInt(headerBytes.length + newUncompressed - (bodyStart - pos) - uncompressedSize);
    record.newSize = headerBytes.length + newBody.length;
    parts.push(headerBytes, newBody);
    newLength += record.newSize;
    pages.push(record);
    pos = bodyStart + compressedSize;
  }
  if (rowCursor !== ctx.groupOriginal.length) {
    throw new CorruptFileError(fileName, 'file_path pages hold fewer values than the row group has rows');
  }
  return { bytes: concatBytes(parts), pages, uncompressedDelta };
}

/**
 * Walks the page headers of a column chunk and refuses a page that lies outside the chunk or
 * claims more uncompressed bytes than its compressed bytes can hold.
 */
function checkPageSizes(input: Uint8Array, start: number, length: number, fileName: string): void {
  const end = start + length;
  const chunkBytes = input.subarray(0, end);
  for (let pos = start; pos < end; ) {
    const { value: header, end: bodyStart } = guard(fileName, () => decodeStruct(chunkBytes, pos));
    const uncompressedSize = header.int(2) ?? 0;
    const compressedSize = header.int(3) ?? -1;
    if (compressedSize < 0 || bodyStart + compressedSize > end) {
      throw new CorruptFileError(fileName, `page at offset ${pos} extends past its column chunk`);
    }
    if (uncompressedSize < 0 || uncompressedSize > compressedSize * MAX_EXPANSION + 1024) {
      throw new CorruptFileError(
        fileName,
        `page at offset ${pos} claims ${uncompressedSize} uncompressed bytes from ${compressedSize}`,
      );
    }
    pos = bodyStart + compressedSize;
  }
}

/** Maps dictionary entries through the mapping already computed for the row values. */
function dictionaryMapper(original: PathValue[], mapped: PathValue[]): (entry: Uint8Array) => Uint8Array {
  const byText = new Map<string, Uint8Array>();
  const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
  original.forEach((v, i) => {
    if (v !== null) byText.set(hex(v), mapped[i]!);
  });
  // An entry no row uses stays as it is: nothing refers to it.
  return (entry) => byText.get(hex(entry)) ?? entry;
}

/** Length of the repetition and definition levels at the start of a decompressed v1 page. */
function v1LevelsLength(
  raw: Uint8Array,
  maxDef: number,
  defEncoding: number | undefined,
  numValues: number,
  fileName: string,
): number {
  if (maxDef === 0) return 0;
  if (defEncoding === ENC_BIT_PACKED) return Math.ceil(numValues / 8);
  if (defEncoding !== ENC_RLE)
    throw new UnsupportedError(fileName, `definition level encoding ${defEncoding}`);
  if (raw.length < 4) throw new CorruptFileError(fileName, 'data page too short for its levels');
  const n = new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getUint32(0, true);
  if (4 + n > raw.length) throw new CorruptFileError(fileName, 'data page too short for its levels');
  return 4 + n;
}

// ---------------------------------------------------------------------------------------------
// Page indexes, embedded metadata, offsets

interface ColumnOffsets {
  fileOffset: number | undefined;
  offsetIndex: number | undefined;
  offsetIndexLength: number | undefined;
  columnIndex: number | undefined;
  dataPage: number | undefined;
  indexPage: number | undefined;
  dictionaryPage: number | undefined;
  bloomFilter: number | undefined;
}

function columnOffsets(cc: ThriftStruct): ColumnOffsets {
  const cmd = cc.struct(3);
  const n = (v: bigint | undefined) => (v === undefined ? undefined : Number(v));
  return {
    fileOffset: n(cc.long(2)),
    offsetIndex: n(cc.long(4)),
    offsetIndexLength: cc.int(5),
    columnIndex: n(cc.long(6)),
    dataPage: n(cmd?.long(9)),
    indexPage: n(cmd?.long(10)),
    dictionaryPage: n(cmd?.long(11)),
    bloomFilter: n(cmd?.long(14)),
  };
}

/** Maps an offset of the input to the offset of the same byte in the output. */
type PositionMap = (offset: number) => number;

interface Region {
  kind: 'chunk' | 'column-index' | 'offset-index' | 'embedded';
  start: number;
  end: number;
  /** Fixed new content, or a builder for content that depends on the final layout. */
  content?: Uint8Array;
  build?: (pos: PositionMap) => Uint8Array;
  chunk?: RebuiltChunk;
}

function positionMap(regions: Region[], contents: Uint8Array[], fileName: string): PositionMap {
  const newStarts: number[] = [];
  let delta = 0;
  regions.forEach((r, i) => {
    newStarts.push(r.start + delta);
    delta += contents[i]!.length - (r.end - r.start);
  });
  return (offset) => {
    let shift = 0;
    for (let i = 0; i < regions.length; i++) {
      const r = regions[i]!;
      if (offset < r.start) break;
      if (offset === r.start) return newStarts[i]!;
      if (offset < r.end) {
        const page = r.chunk?.pages.find((p) => p.oldOffset === offset);
        if (page) return newStarts[i]! + page.newOffset;
        throw new UnsupportedError(fileName, `an offset (${offset}) points inside a rewritten structure`);
      }
      shift += contents[i]!.length - (r.end - r.start);
    }
    return offset + shift;
  };
}

function setOffsets(
  cc: ThriftStruct,
  orig: ColumnOffsets,
  pos: PositionMap,
  regions: Region[],
  contents: Uint8Array[],
): void {
  const cmd = cc.struct(3)!;
  const setLong = (s: ThriftStruct, id: number, v: number | undefined) => {
    // Zero is "unset" for some writers' dictionary offsets; leave it.
    if (v !== undefined && v > 0 && s.has(id)) s.set(id, CompactType.I64, BigInt(pos(v)));
  };
  setLong(cc, 2, orig.fileOffset);
  setLong(cc, 4, orig.offsetIndex);
  setLong(cc, 6, orig.columnIndex);
  setLong(cmd, 9, orig.dataPage);
  setLong(cmd, 10, orig.indexPage);
  setLong(cmd, 11, orig.dictionaryPage);
  setLong(cmd, 14, orig.bloomFilter);
  for (const [offsetId, lengthId, offset] of [
    [4, 5, orig.offsetIndex],
    [6, 7, orig.columnIndex],
  ] as const) {
    const i = regions.findIndex(
      (x) => x.start === offset && (x.kind === 'offset-index' || x.kind === 'column-index'),
    );
    if (i >= 0 && cc.has(offsetId)) cc.set(lengthId, CompactType.I32, contents[i]!.length);
  }
}

function rebuildOffsetIndex(old: ThriftStruct, pos: PositionMap, chunk: Region | undefined): Uint8Array {
  const oi = new ThriftStruct(old.fields.map((f) => ({ ...f })));
  const locations = old.structs(1).map((loc) => {
    const copy = new ThriftStruct(loc.fields.map((f) => ({ ...f })));
    const offset = Number(loc.long(1) ?? 0n);
    copy.set(1, CompactType.I64, BigInt(pos(offset)));
    const page = chunk?.chunk?.pages.find((p) => p.oldOffset === offset);
    if (page) copy.set(2, CompactType.I32, page.newSize);
    return copy;
  });
  oi.set(1, CompactType.LIST, thriftList(CompactType.STRUCT, locations));
  const unencoded = old.list(2);
  if (unencoded && chunk?.chunk) {
    const dataPages = chunk.chunk.pages.filter((p) => p.isData);
    if (dataPages.length === unencoded.items.length) {
      const sizes = dataPages.map((p) => byteTotal(p.mapped.filter((v): v is Uint8Array => v !== null)));
      oi.set(2, CompactType.LIST, thriftList(unencoded.elemType, sizes));
    }
  }
  return encodeStruct(oi);
}

function rebuildColumnIndex(old: ThriftStruct, pages: PageRecord[], fileName: string): ThriftStruct {
  const ci = new ThriftStruct(old.fields.map((f) => ({ ...f })));
  const dataPages = pages.filter((p) => p.isData);
  const nullPages = old.list(1)?.items ?? [];
  const oldMins = old.list(2)?.items ?? [];
  const oldMaxs = old.list(3)?.items ?? [];
  if (
    nullPages.length !== dataPages.length ||
    oldMins.length !== dataPages.length ||
    oldMaxs.length !== dataPages.length ||
    ![...oldMins, ...oldMaxs].every((b) => b instanceof Uint8Array)
  ) {
    throw new CorruptFileError(fileName, 'file_path column index does not match its pages');
  }
  const mins: Uint8Array[] = [];
  const maxs: Uint8Array[] = [];
  dataPages.forEach((p, i) => {
    const oldMin = oldMins[i] as Uint8Array;
    const oldMax = oldMaxs[i] as Uint8Array;
    if (nullPages[i] === true) {
      mins.push(oldMin);
      maxs.push(oldMax);
      return;
    }
    const before = minMax(p.original.filter((v): v is Uint8Array => v !== null));
    const after = minMax(p.mapped.filter((v): v is Uint8Array => v !== null));
    if (!after.min || !after.max || !before.min || !before.max) {
      mins.push(oldMin);
      maxs.push(oldMax);
      return;
    }
    // Writers truncate long bounds (parquet-mr to 64 bytes); keep the writer's choice.
    mins.push(oldMin.length < before.min.length ? truncateMin(after.min, oldMin.length) : after.min);
    maxs.push(oldMax.length < before.max.length ? truncateMax(after.max, oldMax.length) : after.max);
  });
  ci.set(2, CompactType.LIST, thriftList(CompactType.BINARY, mins));
  ci.set(3, CompactType.LIST, thriftList(CompactType.BINARY, maxs));
  const order = ci.int(4);
  if (order !== undefined && order !== BOUNDARY_UNORDERED) {
    const live = dataPages.map((_, i) => i).filter((i) => nullPages[i] !== true);
    let ok = true;
    for (let k = 1; k < live.length; k++) {
      const a = live[k - 1]!;
      const b = live[k]!;
      const c1 = compareBytes(mins[a]!, mins[b]!);
      const c2 = compareBytes(maxs[a]!, maxs[b]!);
      if (order === BOUNDARY_ASCENDING && (c1 > 0 || c2 > 0)) ok = false;
      if (order === BOUNDARY_DESCENDING && (c1 < 0 || c2 < 0)) ok = false;
    }
    if (!ok) ci.set(4, CompactType.I32, BOUNDARY_UNORDERED);
  }
  return ci;
}

/** A prefix of at most `length` bytes, cut at a UTF-8 character boundary: still a lower bound. */
function truncateMin(value: Uint8Array, length: number): Uint8Array {
  if (value.length <= length) return value;
  let cut = length;
  while (cut > 0 && (value[cut]! & 0xc0) === 0x80) cut--;
  return value.subarray(0, cut);
}

/** A prefix with its last ASCII byte incremented: still an upper bound; else the full value. */
function truncateMax(value: Uint8Array, length: number): Uint8Array {
  if (value.length <= length) return value;
  for (let cut = length; cut > 0; cut--) {
    const last = value[cut - 1]!;
    if (last < 0x7f) {
      const out = value.slice(0, cut);
      out[cut - 1] = last + 1;
      return out;
    }
  }
  return value;
}

/**
 * Finds a ColumnChunk a writer repeated inside the file at `file_offset` (Impala writes it
 * right after the chunk's pages). It holds the old paths in its statistics, so it is rebuilt.
 */
function embeddedColumnChunk(
  input: Uint8Array,
  footerStart: number,
  chunk: {
    startOffset: number;
    totalCompressedSize: number;
    path: readonly string[];
    dataPageOffset: number;
  },
  fileOffset: number | undefined,
): { start: number; end: number; value: ThriftStruct } | undefined {
  const chunkEnd = chunk.startOffset + chunk.totalCompressedSize;
  if (fileOffset === undefined || fileOffset < chunkEnd || fileOffset >= footerStart) return undefined;
  try {
    const { value, end } = decodeStruct(input.subarray(0, footerStart), fileOffset);
    const cmd = value.struct(3);
    const path = cmd?.list(3)?.items.map((b) => new TextDecoder().decode(b as Uint8Array));
    if (!cmd || path?.join('.') !== chunk.path.join('.') || Number(cmd.long(9)) !== chunk.dataPageOffset) {
      return undefined;
    }
    return { start: fileOffset, end, value };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics

/**
 * Sets min/max of a Statistics struct from `values` (mapped, non-null), writing the same
 * fields the writer wrote: `min_value`/`max_value`, and the deprecated `min`/`max` only
 * where still valid for them (parquet-mr sets those for strings only when min equals max).
 */
function updateStatistics(stats: ThriftStruct, values: Uint8Array[], injective: boolean): void {
  const { min, max } = minMax(values);
  if (min && max) {
    if (stats.has(5) || stats.has(6)) {
      stats.set(5, CompactType.BINARY, max);
      stats.set(6, CompactType.BINARY, min);
    }
    if (stats.has(1) || stats.has(2)) {
      if (equalBytes(min, max)) {
        stats.set(1, CompactType.BINARY, max);
        stats.set(2, CompactType.BINARY, min);
      } else {
        stats.delete(1).delete(2);
      }
    }
    if (stats.has(7)) stats.set(7, CompactType.BOOL_TRUE, true);
    if (stats.has(8)) stats.set(8, CompactType.BOOL_TRUE, true);
  }
  if (!injective) stats.delete(4);
}

/** Whether distinct inputs stayed distinct (so a distinct count still holds). */
function isInjective(original: PathValue[], mapped: PathValue[]): boolean {
  const seen = new Map<string, string>();
  const key = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
  const outputs = new Set<string>();
  for (let i = 0; i < original.length; i++) {
    const o = original[i];
    if (!o) continue;
    const k = key(o);
    if (seen.has(k)) continue;
    const m = key(mapped[i]!);
    if (outputs.has(m)) return false;
    seen.set(k, m);
    outputs.add(m);
  }
  return true;
}

function minMax(values: Uint8Array[]): { min?: Uint8Array; max?: Uint8Array } {
  let min: Uint8Array | undefined;
  let max: Uint8Array | undefined;
  for (const v of values) {
    if (!min || compareBytes(v, min) < 0) min = v;
    if (!max || compareBytes(v, max) > 0) max = v;
  }
  return { ...(min && { min }), ...(max && { max }) };
}

/** Unsigned lexicographic comparison: Parquet's order for UTF-8 strings. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function isSorted(values: Uint8Array[]): boolean {
  for (let i = 1; i < values.length; i++) if (compareBytes(values[i - 1]!, values[i]!) > 0) return false;
  return true;
}

function byteTotal(values: Uint8Array[]): bigint {
  let n = 0;
  for (const v of values) n += v.length;
  return BigInt(n);
}

// ---------------------------------------------------------------------------------------------
// PLAIN byte arrays and compression

function decodePlainByteArrays(raw: Uint8Array, count: number, fileName: string): Uint8Array[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > raw.length) throw new CorruptFileError(fileName, 'dictionary page ends early');
    const n = view.getUint32(at, true);
    at += 4;
    if (at + n > raw.length) throw new CorruptFileError(fileName, 'dictionary page ends early');
    out.push(raw.subarray(at, at + n));
    at += n;
  }
  return out;
}

function encodePlainByteArrays(values: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const v of values) total += 4 + v.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const v of values) {
    view.setUint32(at, v.length, true);
    out.set(v, at + 4);
    at += 4 + v.length;
  }
  return out;
}

/**
 * Most bytes a page can decompress to, per compressed byte: LZ4 reaches about 255, the other
 * codecs less (a deflate, brotli or zstd output longer than the header says is cut off anyway).
 */
const MAX_EXPANSION = 256;

function decompress(codec: number, data: Uint8Array, size: number, fileName: string): Uint8Array {
  // The header's size is checked before anything of that size is allocated.
  if (!Number.isSafeInteger(size) || size < 0 || (codec !== 0 && size > data.length * MAX_EXPANSION + 1024)) {
    throw new CorruptFileError(
      fileName,
      `a file_path page claims ${size} uncompressed bytes from ${data.length} compressed bytes`,
    );
  }
  let out: Uint8Array;
  try {
    switch (codec) {
      case 0:
        out = data;
        break;
      case 1:
        out = new Uint8Array(size);
        snappyUncompress(data, out);
        break;
      case 2:
        out = gunzipSync(data, { maxOutputLength: Math.max(size, 1) });
        break;
      case 4:
        out = brotliDecompress(data, { maxOutputLength: Math.max(size, 1) });
        break;
      case 6:
        out = zstdDecompressSync(data, { maxOutputLength: Math.max(size, 1) });
        break;
      case 7:
        out = decompressLz4Raw(data, size);
        break;
      default:
        throw new UnsupportedError(
          fileName,
          `compression codec ${CODEC_NAMES[codec] ?? codec} is not supported`,
        );
    }
  } catch (err) {
    if (err instanceof IcebergSyncError) throw err;
    throw new CorruptFileError(fileName, `cannot decompress a file_path page (${(err as Error).message})`, {
      cause: err,
    });
  }
  if (out.length !== size)
    throw new CorruptFileError(fileName, 'a file_path page decompresses to the wrong size');
  return out;
}

function compress(codec: number, data: Uint8Array, fileName: string): Uint8Array {
  switch (codec) {
    case 0:
      return data;
    case 1:
      return snappyCompress(data);
    case 2:
      return gzipSync(data);
    case 4:
      return brotliCompress(data);
    case 6:
      return zstdCompressSync(data);
    case 7:
      return lz4RawLiterals(data);
    default:
      throw new UnsupportedError(
        fileName,
        `compression codec ${CODEC_NAMES[codec] ?? codec} is not supported`,
      );
  }
}

/**
 * An LZ4 block holding `data` as one run of literals: valid LZ4 that any decoder reads,
 * without a compressor (dictionary pages of paths are small).
 */
function lz4RawLiterals(data: Uint8Array): Uint8Array {
  const extra: number[] = [];
  let token = Math.min(data.length, 15) << 4;
  if (data.length >= 15) {
    let rest = data.length - 15;
    while (rest >= 255) {
      extra.push(255);
      rest -= 255;
    }
    extra.push(rest);
  }
  if (data.length < 15) token = data.length << 4;
  return concatBytes([Uint8Array.of(token, ...extra), data]);
}

function guard<T>(fileName: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ThriftError || err instanceof TypeError) {
      throw new CorruptFileError(fileName, `corrupt metadata (${err.message})`, { cause: err });
    }
    throw err;
  }
}
