/**
 * The metastore's EXCLUSIVE table lock around one commit, taken as Java's `MetastoreLock` does
 * (`lock`, then `check_lock` with backoff while WAITING, a `heartbeat` while held, `unlock`),
 * hardened for a metastore that is slow or stops answering:
 *
 * - the request carries no transaction id, so `lock` only queues the lock and answers at once
 *   (ACQUIRED or WAITING); the waiting happens here, one short `check_lock` call at a time, with
 *   growing, jittered pauses, all under one deadline (`lock-timeout-ms`);
 * - every call has a reply timeout bounded by that deadline. A `lock` call without a reply has
 *   an unknown outcome: the server may hold a lock whose id we never learnt. Each request is
 *   tagged with a token in its `agentInfo`, so the lock is found with `show_locks` and released;
 *   if that fails too, the server drops it after its own timeout (`hive.txn.timeout`);
 * - a lock that was not acquired is released on every path (given up, refused, a failed check).
 *
 * A lock held by another client past the deadline is a conflict (exit 5) naming the holder; a
 * metastore that fails or does not answer a lock call is a catalog error (exit 6) naming the
 * table, one that cannot be reached at all a storage error (exit 6), as for every other call.
 */
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { CatalogError, CommitConflictError, StorageError } from '../../errors.ts';
import {
  type HiveLockResponse,
  type HiveShowLocksElement,
  LockLevel,
  LockState,
  LockType,
  M,
} from './metastore-api.ts';
import { type MetastoreClient, MetastoreException, MetastoreUnavailableError } from './metastore-client.ts';

/** How {@link withTableLock} waits. */
export interface TableLockOptions {
  /** Longest wait for the lock, calls included (Java's `iceberg.hive.lock-timeout-ms`). */
  readonly timeoutMs: number;
  /** First and longest pause between `check_lock` calls. */
  readonly minWaitMs: number;
  readonly maxWaitMs: number;
  /** Heartbeat of the held lock (the server drops an unrenewed one after `hive.txn.timeout`). */
  readonly heartbeatIntervalMs: number;
  /** Reply timeout of one lock call (each is also bounded by the deadline). */
  readonly callTimeoutMs: number;
  /** The lock's user (shown by `SHOW LOCKS`). */
  readonly user: string;
  /** The catalog and its metastores, for messages. */
  readonly where: string;
  readonly onWarning?: (message: string) => void;
}

/** Shortest reply timeout given to a call, even at the deadline (a call needs a round trip). */
const MIN_CALL_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The table named in the metastore's terms. */
interface Target {
  readonly db: string;
  readonly name: string;
  /** The catalog's name for it, for messages. */
  readonly fq: string;
}

/** Runs `fn` holding the metastore's EXCLUSIVE lock on `db.name`; always releases the lock. */
export async function withTableLock<T>(
  client: MetastoreClient,
  table: Target,
  o: TableLockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const lockid = await acquire(client, table, o);
  const heartbeat = setInterval(() => {
    client.call(M.heartbeat, { ids: { lockid } }, { retry: true }).catch((err: Error) => {
      o.onWarning?.(`${o.where}: heartbeat of lock ${lockid} on ${table.fq}: ${err.message}`);
    });
  }, o.heartbeatIntervalMs);
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await release(client, lockid, table, o);
  }
}

/** The acquired lock's id; throws (with the lock released) when it cannot be had. */
async function acquire(client: MetastoreClient, table: Target, o: TableLockOptions): Promise<bigint> {
  const { db, name, fq } = table;
  const deadline = Date.now() + o.timeoutMs;
  const callTimeout = () => Math.max(MIN_CALL_MS, Math.min(o.callTimeoutMs, deadline - Date.now()));
  const token = randomUUID();
  let response: HiveLockResponse;
  try {
    response = (await client.call(
      M.lock,
      {
        rqst: {
          component: [{ type: LockType.EXCLUSIVE, level: LockLevel.TABLE, dbname: db, tablename: name }],
          user: o.user,
          hostname: os.hostname(),
          agentInfo: `iceberg-metadata-sync pid ${process.pid} lock ${token}`,
        },
      },
      { retry: false, timeoutMs: callTimeout() },
    )) as HiveLockResponse;
  } catch (err) {
    if (err instanceof MetastoreUnavailableError && err.sent) {
      const released = await releaseLost(client, table, token, o);
      throw new CatalogError(
        `${o.where}: ${fq}: the table lock request got no reply (${err.message}), so whether the metastore queued a lock is unknown; ${released} Nothing was committed.`,
        { cause: err },
      );
    }
    const message = `${o.where}: ${fq}: the table lock could not be requested: ${(err as Error).message}`;
    // An unreachable metastore fails every call alike (a storage error, as hive.ts reports it).
    if (err instanceof MetastoreUnavailableError) throw new StorageError(message, { cause: err });
    throw new CatalogError(message, { cause: err });
  }
  const lockid = response.lockid;
  let state = response.state;
  let wait = o.minWaitMs;
  let lastFailure: Error | undefined;
  try {
    while (state === LockState.WAITING) {
      const left = deadline - Date.now();
      if (left <= 0) {
        const holder = await holderOf(client, table, lockid, o);
        throw new CommitConflictError(
          `${fq}: the metastore's table lock is held by ${holder}; not acquired within ${o.timeoutMs} ms (lock ${lockid} given up)${lastFailure ? `; last check failed: ${lastFailure.message}` : ''}`,
        );
      }
      // Jitter: writers that queued together do not poll in step.
      await sleep(Math.min(left, Math.round(wait * (0.75 + Math.random() * 0.5))));
      wait = Math.min(wait * 2, o.maxWaitMs);
      try {
        const r = (await client.call(
          M.checkLock,
          { rqst: { lockid } },
          { retry: false, timeoutMs: callTimeout() },
        )) as HiveLockResponse;
        state = r.state;
      } catch (err) {
        // A lost reply: the next check (on a new connection) asks again, until the deadline.
        if (!(err instanceof MetastoreUnavailableError)) throw err;
        lastFailure = err;
      }
    }
    if (state !== LockState.ACQUIRED) {
      throw new CommitConflictError(
        `${fq}: the metastore refused the table lock (lock ${lockid}, state ${state})`,
      );
    }
    return lockid;
  } catch (err) {
    await release(client, lockid, table, o);
    if (err instanceof CommitConflictError) throw err;
    if (err instanceof MetastoreException && err.kind === 'NoSuchLockException') {
      throw new CatalogError(
        `${o.where}: ${fq}: the metastore dropped lock ${lockid} while it was waiting (${err.message}); nothing was committed`,
        { cause: err },
      );
    }
    throw new CatalogError(`${o.where}: ${fq}: check_lock of lock ${lockid}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Unlocks; a failure is a warning (the server drops the lock after `hive.txn.timeout`). */
async function release(
  client: MetastoreClient,
  lockid: bigint,
  table: Target,
  o: TableLockOptions,
): Promise<void> {
  try {
    await client.call(M.unlock, { rqst: { lockid } }, { retry: true, timeoutMs: o.callTimeoutMs });
  } catch (err) {
    if (err instanceof MetastoreException && err.kind === 'NoSuchLockException') return;
    o.onWarning?.(
      `${o.where}: unlock of lock ${lockid} on ${table.fq}: ${(err as Error).message} (the metastore drops it after hive.txn.timeout)`,
    );
  }
}

/** The table's locks, or undefined when the metastore does not list them. */
async function locksOf(
  client: MetastoreClient,
  table: Target,
  o: TableLockOptions,
): Promise<HiveShowLocksElement[] | undefined> {
  try {
    const r = (await client.call(
      M.showLocks,
      { rqst: { dbname: table.db, tablename: table.name } },
      { retry: true, timeoutMs: o.callTimeoutMs },
    )) as { locks?: HiveShowLocksElement[] };
    return r.locks ?? [];
  } catch {
    return undefined;
  }
}

/**
 * Releases the lock a `lock` call without a reply may have queued (found by its token); says
 * what became of it, as a sentence for the error message.
 */
async function releaseLost(
  client: MetastoreClient,
  table: Target,
  token: string,
  o: TableLockOptions,
): Promise<string> {
  const locks = await locksOf(client, table, o);
  if (!locks) {
    return `its locks could not be listed, so a lock it may hold is dropped by the metastore after hive.txn.timeout (5 minutes by default).`;
  }
  const ours = locks.filter((l) => l.agentInfo?.includes(token));
  if (ours.length === 0) return 'it holds no lock of this request.';
  for (const l of new Set(ours.map((x) => x.lockid))) await release(client, l, table, o);
  return `the lock it had queued (${[...new Set(ours.map((x) => x.lockid))].join(', ')}) was released.`;
}

/** Who holds the table lock, for the message of a lock not acquired in time. */
async function holderOf(
  client: MetastoreClient,
  table: Target,
  ours: bigint,
  o: TableLockOptions,
): Promise<string> {
  const locks = await locksOf(client, table, o);
  const held = locks?.find((l) => l.lockid !== ours && l.state === LockState.ACQUIRED);
  if (!held) return 'another client';
  return `lock ${held.lockid} of ${held.user}@${held.hostname}${held.agentInfo && held.agentInfo !== 'Unknown' ? ` (${held.agentInfo})` : ''}`;
}
