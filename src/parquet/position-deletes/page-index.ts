/**
 * The page indexes of a rewritten file: offset indexes (absolute page offsets, for every column)
 * and the `file_path` column index (per-page path bounds), rebuilt from the new layout.
 */

import { CorruptFileError } from '../../errors.ts';
import { CompactType, encodeStruct, ThriftStruct, thriftList } from '../thrift.ts';
import type { PageRecord } from './chunk.ts';
import type { PositionMap, Region } from './layout.ts';
import { byteTotal, compareBytes, minMax } from './statistics.ts';

// BoundaryOrder values (parquet.thrift).
const BOUNDARY_UNORDERED = 0;
const BOUNDARY_ASCENDING = 1;
const BOUNDARY_DESCENDING = 2;

/** An offset index with every page offset mapped, and the `file_path` pages' new sizes. */
export function rebuildOffsetIndex(
  old: ThriftStruct,
  pos: PositionMap,
  chunk: Region | undefined,
): Uint8Array {
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

/** The `file_path` column index with bounds from the mapped values, keeping the writer's truncation. */
export function rebuildColumnIndex(old: ThriftStruct, pages: PageRecord[], fileName: string): ThriftStruct {
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
