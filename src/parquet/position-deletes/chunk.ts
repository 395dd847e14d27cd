/**
 * Rebuilds one `file_path` column chunk page by page: the dictionary page (the usual case) or
 * PLAIN data pages are re-encoded and recompressed with the chunk's codec; data pages of
 * dictionary indices are copied verbatim. Also the page-size check run before any decoding.
 */

import { crc32 } from 'node:zlib';
import { CorruptFileError, UnsupportedError } from '../../errors.ts';
import { concatBytes } from '../../util/bytes.ts';
import { CompactType, decodeStruct, encodeStruct } from '../thrift.ts';
import { guard } from './guard.ts';
import {
  compress,
  decodePlainByteArrays,
  decompress,
  encodePlainByteArrays,
  MAX_EXPANSION,
} from './page-codec.ts';
import type { PathValue } from './paths.ts';
import { equalBytes, isInjective, isSorted, updateStatistics } from './statistics.ts';

// Parquet enum values used here (parquet.thrift).
const PAGE_DATA = 0;
const PAGE_DICTIONARY = 2;
const PAGE_DATA_V2 = 3;
const ENC_PLAIN = 0;
const ENC_PLAIN_DICTIONARY = 2;
const ENC_RLE = 3;
const ENC_BIT_PACKED = 4;
const ENC_RLE_DICTIONARY = 8;

/** Where a page of the chunk landed, and (data pages) its values. */
export interface PageRecord {
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

/** A rebuilt chunk: its bytes, its pages, and how much its uncompressed size moved. */
export interface RebuiltChunk {
  bytes: Uint8Array;
  pages: PageRecord[];
  uncompressedDelta: bigint;
}

/** What {@link rebuildChunk} needs beyond the bytes: codec, levels and the row group's values. */
export interface ChunkContext {
  codec: number;
  maxDef: number;
  groupOriginal: PathValue[];
  groupMapped: PathValue[];
  fileName: string;
}

/** Rebuilds the chunk at `start` (`length` bytes) of `input` with the mapped paths. */
export function rebuildChunk(
  input: Uint8Array,
  start: number,
  length: number,
  ctx: ChunkContext,
): RebuiltChunk {
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
export function checkPageSizes(input: Uint8Array, start: number, length: number, fileName: string): void {
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
