/** The result of a sync or plan run: what the CLI prints and scripts read (`--json`). */

/** Outcome of a run. */
export type SyncStatus = 'committed' | 'up-to-date' | 'behind' | 'failed' | 'planned';

/** A file the chosen or newest metadata needs that is not (fully) at the DR site. */
export interface MissingFile {
  /** Path as the source metadata names it. */
  readonly source: string;
  /** Where the file should be at the DR site. */
  readonly target: string;
  /** `symlink`: a symbolic link is at the path; it is not a replicated file and is not followed. */
  readonly reason: 'missing' | 'size-mismatch' | 'unreadable' | 'symlink';
  /** What references it, e.g. `manifest-list`, `manifest`, `data`, `position-deletes`. */
  readonly kind: string;
  readonly expectedSize?: string;
  readonly actualSize?: number;
  /** With reason `symlink`: the link (the file itself, or a directory above it in the replica). */
  readonly symlink?: string;
}

/** The report of one run. */
export interface SyncReport {
  status: SyncStatus;
  /** The DR catalog's metadata location after the run (the new one when committed). */
  metadataLocation: string | null;
  /** The current snapshot id of the committed (or up-to-date) metadata, as a string. */
  snapshotId: string | null;
  /** The replicated metadata.json the DR table now reflects. */
  sourceMetadata: string | null;
  /** The newest replicated metadata.json found. */
  newestSourceMetadata: string | null;
  manifestsRewritten: number;
  manifestListsRewritten: number;
  deleteFilesRewritten: number;
  manifestsReused: number;
  /** Number of files missing or short for the newest metadata. */
  missingFiles: number;
  /** The missing files (first 1000). */
  missing: MissingFile[];
  /** Where the copy plan was written, if any. */
  copyPlan: string | null;
  /** Directory listings made for presence checks. */
  listings: number;
  /** Per-file stats made for presence checks (where they cost less than listing the directory). */
  stats: number;
  /** Metadata versions skipped because incomplete or unreadable, newest first. */
  skippedVersions: { metadata: string; reason: string }[];
  durationMs: number;
  dryRun: boolean;
  /**
   * The RPO lag after the run, in seconds: commit time of the newest replicated snapshot minus that
   * of the snapshot the DR table now holds (0 when the same); absent when not known, and for a
   * plan. Recorded in the run history, from which `watch` draws its lag sparkline.
   */
  lagSeconds?: number;
  /**
   * Set when the run found the DR catalog disagreeing with its checkpoint and repaired it: the
   * table gone from the catalog, the catalog at another of this tool's outputs, or the file it
   * points at gone. Says what was found; the run then committed (or plans to commit) again.
   */
  recovered?: string;
  error?: { code: string; message: string };
}

/** How a symlinked file is described: itself a link, or below a linked directory. */
export function symlinkText(path: string, link: string | undefined): string {
  return link === undefined || link === path
    ? 'is a symlink (not followed)'
    : `lies below the symlink ${link} (not followed)`;
}
