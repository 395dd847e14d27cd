/**
 * Statistics of the mapped paths: Parquet Statistics structs and the byte helpers they need.
 */

import { CompactType, type ThriftStruct } from '../thrift.ts';
import type { PathValue } from './paths.ts';

/**
 * Sets min/max of a Statistics struct from `values` (mapped, non-null), writing the same
 * fields the writer wrote: `min_value`/`max_value`, and the deprecated `min`/`max` only
 * where still valid for them (parquet-mr sets those for strings only when min equals max).
 */
export function updateStatistics(stats: ThriftStruct, values: Uint8Array[], injective: boolean): void {
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
export function isInjective(original: PathValue[], mapped: PathValue[]): boolean {
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

export function minMax(values: Uint8Array[]): { min?: Uint8Array; max?: Uint8Array } {
  let min: Uint8Array | undefined;
  let max: Uint8Array | undefined;
  for (const v of values) {
    if (!min || compareBytes(v, min) < 0) min = v;
    if (!max || compareBytes(v, max) > 0) max = v;
  }
  return { ...(min && { min }), ...(max && { max }) };
}

/** Unsigned lexicographic comparison: Parquet's order for UTF-8 strings. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function isSorted(values: Uint8Array[]): boolean {
  for (let i = 1; i < values.length; i++) if (compareBytes(values[i - 1]!, values[i]!) > 0) return false;
  return true;
}

export function byteTotal(values: Uint8Array[]): bigint {
  let n = 0;
  for (const v of values) n += v.length;
  return BigInt(n);
}
