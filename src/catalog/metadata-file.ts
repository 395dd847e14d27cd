/**
 * Writing the metadata file a commit points the catalog at, for the catalog types whose commit
 * is "write the file, then swap the pointer" (SQL, Hive Metastore, Glue, a REST registration).
 */
import { AlreadyExistsError } from '../errors.ts';
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
