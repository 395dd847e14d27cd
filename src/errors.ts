/**
 * Error types and process exit codes. Every error the tool raises on purpose is an
 * {@link IcebergSyncError} with a stable `code`; the CLI maps codes to exit codes.
 */
import { redactSecrets } from './util/redact.ts';

/** Process exit codes of the CLI (documented in docs/usage.md; keep stable). */
export const ExitCode = {
  /** Committed, or already up to date. */
  OK: 0,
  /** Unexpected internal failure (a bug): report it. */
  INTERNAL: 1,
  /** Bad command line or configuration. */
  USAGE: 2,
  /** Committed what was consistent, but newer source metadata is not fully replicated yet. */
  BEHIND: 3,
  /** Bad input: corrupt, truncated or unsupported files, unmapped paths. */
  BAD_INPUT: 4,
  /** The catalog changed under us (compare-and-swap failed), or another run holds the lock. */
  CONFLICT: 5,
  /** Storage or catalog service failure: missing files, permissions, an unreachable server. */
  STORAGE: 6,
  /** `verify` found problems. */
  VERIFY_FAILED: 7,
  /** The run was stopped through its `AbortSignal` before it finished; nothing was committed. */
  ABORTED: 8,
  /**
   * The DR catalog's entry for the table is not where this tool left it and not a file this tool
   * wrote (someone else's commit, or a damaged row): nothing was committed; a person decides.
   */
  CATALOG_DIVERGED: 9,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode =
  | 'CORRUPT_FILE'
  | 'UNSUPPORTED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED'
  | 'STORAGE'
  | 'UNMAPPED_PATH'
  | 'INVALID_PATH'
  | 'CONFIG'
  | 'COMMIT_CONFLICT'
  | 'LOCKED'
  | 'VERIFY_FAILED'
  | 'ABORTED'
  | 'CATALOG_DIVERGED'
  | 'CATALOG';

/** Base class of every error this library raises on purpose. */
export class IcebergSyncError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    // Messages name paths and URLs: credentials in them (userinfo, tokens) never reach a message.
    super(redactSecrets(message), options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A file could not be decoded: truncated, corrupt, or not the format it claims. */
export class CorruptFileError extends IcebergSyncError {
  readonly file: string;
  constructor(file: string, detail: string, options?: { cause?: unknown }) {
    super('CORRUPT_FILE', `${file}: ${detail}`, options);
    this.file = file;
  }
}

/** A file uses a feature this version does not support (e.g. format-version 4, an unknown codec). */
export class UnsupportedError extends IcebergSyncError {
  readonly file: string | undefined;
  constructor(file: string | undefined, detail: string) {
    super('UNSUPPORTED', file ? `${file}: ${detail}` : detail);
    this.file = file;
  }
}

/** A path does not exist in storage. */
export class NotFoundError extends IcebergSyncError {
  readonly path: string;
  constructor(path: string, options?: { cause?: unknown }) {
    super('NOT_FOUND', `${path}: no such file`, options);
    this.path = path;
  }
}

/** A write with `ifNotExists` found the path already present. */
export class AlreadyExistsError extends IcebergSyncError {
  readonly path: string;
  constructor(path: string, options?: { cause?: unknown }) {
    super('ALREADY_EXISTS', `${path}: already exists`, options);
    this.path = path;
  }
}

/** Storage refused access. */
export class PermissionDeniedError extends IcebergSyncError {
  readonly path: string;
  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super('PERMISSION_DENIED', `${path}: permission denied (${detail})`, options);
    this.path = path;
  }
}

/** Any other storage failure. */
export class StorageError extends IcebergSyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORAGE', message, options);
  }
}

/** Bad configuration or arguments. */
export class ConfigError extends IcebergSyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG', message, options);
  }
}

/**
 * The DR catalog holds, for the table, a metadata location this tool neither committed last nor
 * wrote: committing over it could discard someone else's work, so the run stops for a person.
 */
export class CatalogDivergedError extends IcebergSyncError {
  constructor(message: string) {
    super('CATALOG_DIVERGED', message);
  }
}

/**
 * The catalog service failed: unreachable, refused our credentials, or answered with an error
 * that is not a conflict. The catalog is left as it was (or, for a commit whose outcome stayed
 * unknown, as the next run's reconciliation finds it).
 */
export class CatalogError extends IcebergSyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CATALOG', message, options);
  }
}

/** A catalog commit lost a compare-and-swap race. */
export class CommitConflictError extends IcebergSyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('COMMIT_CONFLICT', message, options);
  }
}

/**
 * A run (or one storage call) was stopped through its `AbortSignal`. Raised between steps and by
 * storage calls in flight, never half way through a catalog commit: the catalog stays at the last
 * snapshot committed before.
 */
export class AbortedError extends IcebergSyncError {
  constructor(detail = 'aborted', options?: { cause?: unknown }) {
    super('ABORTED', detail, options);
  }
}

/** Maps an error to the CLI exit code. */
export function exitCodeFor(err: unknown): ExitCode {
  if (!(err instanceof IcebergSyncError)) return ExitCode.INTERNAL;
  switch (err.code) {
    case 'CORRUPT_FILE':
    case 'UNSUPPORTED':
    case 'UNMAPPED_PATH':
    case 'INVALID_PATH':
      return ExitCode.BAD_INPUT;
    case 'CONFIG':
      return ExitCode.USAGE;
    case 'COMMIT_CONFLICT':
    case 'LOCKED':
      return ExitCode.CONFLICT;
    case 'VERIFY_FAILED':
      return ExitCode.VERIFY_FAILED;
    case 'ABORTED':
      return ExitCode.ABORTED;
    case 'CATALOG_DIVERGED':
      return ExitCode.CATALOG_DIVERGED;
    default:
      return ExitCode.STORAGE;
  }
}
