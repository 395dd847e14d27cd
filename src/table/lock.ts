/**
 * The per-table run lock, shared by every mode: one run of a table at a time, on any host that
 * sees the same metadata root. Created with if-not-exists, so it works on every backend.
 */
import { hostname } from 'node:os';
import { AlreadyExistsError, IcebergSyncError } from '../errors.ts';
import type { StorageResolver } from '../storage/router.ts';
import { defaultLogger, type Logger } from '../util/logger.ts';
import { stateDir } from './checkpoint.ts';

/** A held run lock; release it when done. */
export interface RunLock {
  /** Removes the lock; a failure to do so is a warning, not an error. */
  release(): Promise<void>;
}

/** Another run holds the lock. */
export class LockedError extends IcebergSyncError {
  constructor(message: string) {
    super('LOCKED', message);
  }
}

/** Locks this process holds now (paths), to tell its own leftovers from its live runs. */
const heldHere = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the per-table run lock (`.iceberg-sync/lock`, created only if absent). A lock left by a
 * killed run on this host is taken over; one held by a live process, or by another host, is not.
 */
export async function acquireLock(
  resolve: StorageResolver,
  metadataRoot: string,
  logger: Logger = defaultLogger,
): Promise<RunLock> {
  const path = `${stateDir(metadataRoot)}/lock`;
  const storage = resolve(path);
  const me = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const body = new TextEncoder().encode(JSON.stringify(me));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await storage.write(path, body, { ifNotExists: true });
      heldHere.add(path);
      return {
        // Never throws: a release failing after a failed run (storage gone) must not hide why the
        // run failed; the lock it leaves is taken over by the next run on this host.
        release: async () => {
          heldHere.delete(path);
          try {
            await storage.delete(path);
          } catch (err) {
            logger.warn(`could not remove the run lock ${path}: ${(err as Error).message}`);
          }
        },
      };
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
      let holder: { pid?: number; host?: string; since?: string } = {};
      try {
        holder = JSON.parse(new TextDecoder().decode(await storage.read(path)));
      } catch {
        // unreadable lock: treat as held
      }
      // Stale: left by a dead process on this host, or by an earlier run of this very process whose
      // release failed (storage gone mid-run) and that is no longer running.
      const stale =
        holder.host === me.host &&
        typeof holder.pid === 'number' &&
        (holder.pid === process.pid ? !heldHere.has(path) : !processAlive(holder.pid));
      if (stale && attempt === 0) {
        await storage.delete(path);
        continue;
      }
      throw new LockedError(
        `another sync of this table is running (pid ${holder.pid ?? '?'} on ${holder.host ?? '?'} since ${holder.since ?? '?'}); ` +
          `if no run is active, remove ${path}`,
      );
    }
  }
  throw new LockedError(`could not take the lock ${path}`);
}
