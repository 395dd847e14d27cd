/**
 * Where everything lands in the rewritten file: the structures that change (regions), the map
 * from old offsets to new ones, the offsets the footer and embedded column metadata hold, and
 * the pass that places the regions until their sizes settle and assembles the output.
 */

import { CorruptFileError, UnsupportedError } from '../../errors.ts';
import { concatBytes } from '../../util/bytes.ts';
import { PARQUET_MAGIC } from '../footer.ts';
import { CompactType, decodeStruct, type ThriftStruct } from '../thrift.ts';
import type { RebuiltChunk } from './chunk.ts';

/** The offsets a ColumnChunk holds, as read from the input. */
export interface ColumnOffsets {
  fileOffset: number | undefined;
  offsetIndex: number | undefined;
  offsetIndexLength: number | undefined;
  columnIndex: number | undefined;
  dataPage: number | undefined;
  indexPage: number | undefined;
  dictionaryPage: number | undefined;
  bloomFilter: number | undefined;
}

export function columnOffsets(cc: ThriftStruct): ColumnOffsets {
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
export type PositionMap = (offset: number) => number;

/** A structure of the input replaced in the output. */
export interface Region {
  kind: 'chunk' | 'column-index' | 'offset-index' | 'embedded';
  start: number;
  end: number;
  /** Fixed new content, or a builder for content that depends on the final layout. */
  content?: Uint8Array;
  build?: (pos: PositionMap) => Uint8Array;
  chunk?: RebuiltChunk;
}

export function positionMap(regions: Region[], contents: Uint8Array[], fileName: string): PositionMap {
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

/** Points a ColumnChunk's offsets (and index lengths) at the new layout. */
export function setOffsets(
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

/**
 * Finds a ColumnChunk a writer repeated inside the file at `file_offset` (Impala writes it
 * right after the chunk's pages). It holds the old paths in its statistics, so it is rebuilt.
 */
export function embeddedColumnChunk(
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

/**
 * Places `regions` (sorted here, in place) into a copy of `input` and appends the footer.
 * Contents of some regions depend on where everything lands, and their sizes move what
 * follows them; iterate until sizes settle (varint lengths change rarely, so 1-2 rounds).
 * `applyOffsets` points the footer tree at a layout; `encodeFooter` encodes it once settled.
 */
export function layOut(
  input: Uint8Array,
  footerStart: number,
  regions: Region[],
  applyOffsets: (pos: PositionMap, contents: Uint8Array[]) => void,
  encodeFooter: () => Uint8Array,
  fileName: string,
): Uint8Array {
  regions.sort((a, b) => a.start - b.start);
  for (let i = 1; i < regions.length; i++) {
    if (regions[i]!.start < regions[i - 1]!.end) {
      throw new UnsupportedError(fileName, `overlapping structures at offset ${regions[i]!.start}`);
    }
  }
  if (regions.length && (regions[0]!.start < 4 || regions.at(-1)!.end > footerStart)) {
    throw new CorruptFileError(fileName, 'column data overlaps the magic or the footer');
  }

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

  const footerOut = encodeFooter();
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
  return concatBytes(parts);
}
