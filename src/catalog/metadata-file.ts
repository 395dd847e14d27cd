/**
 * Writing the metadata file a commit points the catalog at, for the catalog types whose commit
 * is "write the file, then swap the pointer" (SQL, Hive Metastore, Glue, a REST registration).
 */
import { AlreadyExistsError, CommitConflictError } from '../errors.ts';
import type { Storage } from '../storage/storage.ts';

/**
 * Writes `bytes` at `location`, never over another file. A file already there with exactly these
 * bytes is accepted (a retry after a crash finds its own file). Resolves true if this call
 * created the file, so that a commit that certainly failed can remove it again.
 */
export async function writeMetadataOnce(
  storage: Storage,
  location: string,
  bytes: Uint8Array,
): Promise<boolean> {
  try {
    await storage.write(location, bytes, { ifNotExists: true });
    return true;
  } catch (err) {
    if (err instanceof AlreadyExistsError && Buffer.compare(await storage.read(location), bytes) === 0)
      return false;
    throw err;
  }
}

/** The metadata file a pointer-swap commit writes first: its bytes and the storage it goes to. */
export interface MetadataFileWrite {
  readonly storage: Storage;
  readonly bytes: Uint8Array;
}

/**
 * The tail of a pointer-swap commit: writes the new metadata file at `location` once (see
 * {@link writeMetadataOnce}; skipped when `write` is undefined, the engine having written the
 * file itself), then runs `swap`, which moves the catalog's pointer to `location` conditionally,
 * and resolves what it resolves.
 *
 * When `swap` fails with a {@link CommitConflictError} and this call created the file, the file is
 * deleted (best effort), so that a lost race leaves no orphan. Only then: any other failure may
 * have an unknown outcome (a reply lost after the swap was sent), in which the catalog may
 * already point at the file, and deleting it would leave a table whose metadata is missing.
 * A file that was already there (a retry finding its own) is never deleted either.
 */
export async function commitPointerSwap<T>(
  location: string,
  write: MetadataFileWrite | undefined,
  swap: () => Promise<T>,
): Promise<T> {
  const wrote = write ? await writeMetadataOnce(write.storage, location, write.bytes) : false;
  try {
    return await swap();
  } catch (err) {
    if (wrote && err instanceof CommitConflictError) await write?.storage.delete(location).catch(() => {});
    throw err;
  }
}
