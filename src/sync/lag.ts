/**
 * The RPO lag as the DR site sees it, from one replicated metadata.json: the commit time
 * (`timestamp-ms`) of its current snapshot minus that of the snapshot the DR catalog holds, the
 * same figure `status` computes (src/warehouse/status.ts). Commit times are the source's clocks.
 */
import type { TableMetadata } from '../iceberg/metadata.ts';

/**
 * Seconds the DR snapshot `drSnapshotId` is behind the current snapshot of `newest` (0 when they
 * are the same, or when the replica holds no snapshot); `undefined` when a commit time is not in
 * `newest` (the DR snapshot expired at the source) or the DR table has no snapshot.
 */
export function lagSeconds(newest: TableMetadata, drSnapshotId: string | null): number | undefined {
  const ref = newest.currentSnapshotId;
  if (ref === undefined || ref < 0n) return 0;
  if (drSnapshotId === null) return undefined;
  if (ref.toString() === drSnapshotId) return 0;
  const at = (id: string) => newest.snapshots.find((s) => s.snapshotId.toString() === id)?.timestampMs;
  const newestAt = at(ref.toString());
  const drAt = at(drSnapshotId);
  if (newestAt === undefined || drAt === undefined) return undefined;
  return Math.max(0, Number(newestAt - drAt) / 1000);
}
