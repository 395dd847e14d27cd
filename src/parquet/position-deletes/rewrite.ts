/**
 * The rewrite of a position-delete file's `file_path` column (the approach and its limits are
 * described in ../position-deletes.ts): read and map the paths, rebuild each row group's
 * `file_path` chunk and the structures that refer to it, then lay the file out again.
 */

import { CorruptFileError, UnsupportedError } from '../../errors.ts';
import { bytesRangeReader } from '../../storage/storage.ts';
import { decodeParquetFooter, readParquetFooterBytes } from '../footer.ts';
import { CompactType, decodeStruct, encodeStruct, ThriftError } from '../thrift.ts';
import { checkPageSizes, rebuildChunk } from './chunk.ts';
import { guard } from './guard.ts';
import {
  type ColumnOffsets,
  columnOffsets,
  embeddedColumnChunk,
  layOut,
  type PositionMap,
  type Region,
  setOffsets,
} from './layout.ts';
import { rebuildColumnIndex, rebuildOffsetIndex } from './page-index.ts';
import { PathMapper, pathBounds, readPaths } from './paths.ts';
import { byteTotal, isInjective, minMax, updateStatistics } from './statistics.ts';

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

  // Offsets the footer holds for a given layout. The row group's offset is its first page;
  // some writers stored a wrong value (PARQUET-2078), so the true start is mapped.
  const applyOffsets = (pos: PositionMap, contents: Uint8Array[]): void => {
    for (let g = 0; g < rowGroups.length; g++) {
      const rg = rowGroups[g]!;
      const chunks = rg.structs(1);
      for (let c = 0; c < chunks.length; c++)
        setOffsets(chunks[c]!, originals[g]![c]!, pos, regions, contents);
      if (rg.has(5)) rg.set(5, CompactType.I64, BigInt(pos(footer.rowGroups[g]!.startOffset)));
    }
  };
  const bytes = layOut(input, footerStart, regions, applyOffsets, () => encodeStruct(tree), fileName);

  const { min, max } = minMax(mapped.filter((v): v is Uint8Array => v !== null));
  return { bytes, changed: true, rowCount: footer.rowCount, ...pathBounds(min, max) };
}
