/**
 * Where a table's bookkeeping lives: `<metadata-root>/.iceberg-sync/` holds the checkpoints of
 * both modes (`state.json`, `add-files-state.json`), the run lock and the default copy plan.
 */

/** Where state, lock and copy plan live under a metadata root. */
export function stateDir(metadataRoot: string): string {
  return `${metadataRoot.replace(/\/+$/, '')}/.iceberg-sync`;
}
