/**
 * A deliberately tiny SQL driver interface, so that the SQL catalog runs the same statements
 * on SQLite and PostgreSQL. Statements use `?` placeholders; the PostgreSQL driver numbers them.
 *
 * SQLite goes through Node's built-in `node:sqlite` rather than better-sqlite3: that package's
 * native build downloads binaries from outside the package registries, which the machines this
 * project runs on cannot reach.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { Pool, PoolClient, PoolConfig } from 'pg';
import { StorageError } from '../../errors.ts';

/** A value bound to a `?` placeholder. */
export type SqlValue = string | number | null;

/** One result row, by column name. */
export type SqlRow = Record<string, unknown>;

/** Runs statements. */
export interface SqlExecutor {
  /** Runs a query and returns its rows. */
  query<T extends SqlRow = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement and returns how many rows it changed. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

/** A connection (or pool) to one database. */
export interface SqlDriver extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Options of {@link NodeSqliteDriver}. */
export interface SqliteDriverOptions {
  /**
   * How long a statement waits for a lock another connection holds (Spark's sqlite-jdbc,
   * PyIceberg, another sync run) before failing. Default 5000 ms.
   */
  readonly busyTimeoutMs?: number;
  /** Open an existing file for reading only (SQLite then creates nothing; a missing file fails). */
  readonly readOnly?: boolean;
}

/** Runs async functions one at a time, in call order. */
function serializer(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const result = tail.then(fn);
    tail = result.catch(() => undefined);
    return result;
  };
}

/**
 * SQLite through `node:sqlite`. Calls are synchronous underneath; they are serialised so that
 * a transaction on this connection never swallows unrelated statements issued meanwhile.
 *
 * The journal mode is left as the file has it: WAL would be faster, but it is a persistent
 * property of the file that every other client then inherits, and it does not work on network
 * file systems (NFS/SMB), where a DR site may well keep the catalog.
 */
export class NodeSqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  readonly #file: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #serial = serializer();
  readonly #direct: SqlExecutor;

  /** Opens (creating if needed) the database file; `:memory:` for a private in-memory one. */
  constructor(file: string, options: SqliteDriverOptions = {}) {
    this.#file = file;
    try {
      this.#db = new DatabaseSync(file, {
        timeout: options.busyTimeoutMs ?? 5000,
        ...(options.readOnly ? { readOnly: true } : {}),
      });
    } catch (err) {
      throw this.#wrap(err);
    }
    this.#direct = {
      query: async <T extends SqlRow>(sql: string, params: readonly SqlValue[] = []) =>
        this.#sync(() => this.#prepare(sql).all(...params) as T[]),
      execute: async (sql, params = []) =>
        this.#sync(() => ({ changes: Number(this.#prepare(sql).run(...params).changes) })),
    };
  }

  query<T extends SqlRow = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.#serial(() => this.#direct.query<T>(sql, params));
  }

  execute(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.#serial(() => this.#direct.execute(sql, params));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#serial(async () => {
      // IMMEDIATE takes the write lock up front: a deferred transaction that later needs to
      // upgrade can fail with SQLITE_BUSY regardless of the busy timeout.
      this.#sync(() => this.#db.exec('BEGIN IMMEDIATE'));
      try {
        const result = await fn(this.#direct);
        this.#sync(() => this.#db.exec('COMMIT'));
        return result;
      } catch (err) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.#serial(async () => {
      if (this.#db.isOpen) this.#db.close();
    });
  }

  #prepare(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  #sync<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw this.#wrap(err);
    }
  }

  #wrap(err: unknown): Error {
    return new StorageError(`sqlite ${this.#file}: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
    });
  }
}

/** Rewrites `?` placeholders (outside quoted literals) as PostgreSQL's `$1`, `$2`, … */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  let quote: string | undefined;
  let out = '';
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '?') {
      n += 1;
      out += `$${n}`;
      continue;
    }
    out += ch;
  }
  return out;
}

/** PostgreSQL through `pg`, with a small connection pool. */
export class PgDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly #pool: Pool;
  readonly #where: string;

  private constructor(pool: Pool, where: string) {
    this.#pool = pool;
    this.#where = where;
  }

  /**
   * Connects (and checks the connection works). `label` names the server in error messages
   * (never include the password). `pg` is loaded only when needed.
   */
  static async connect(config: PoolConfig, label: string): Promise<PgDriver> {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ max: 4, ...config });
    // An idle pooled connection that drops emits 'error'; the pool discards it, and the next
    // query reports any lasting problem, so the event itself is not fatal.
    pool.on('error', () => {});
    const driver = new PgDriver(pool, label);
    try {
      await driver.query('SELECT 1');
    } catch (err) {
      await pool.end();
      throw err;
    }
    return driver;
  }

  query<T extends SqlRow = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.#run(this.#pool, sql, params).then((r) => r.rows as T[]);
  }

  execute(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.#run(this.#pool, sql, params).then((r) => ({ changes: r.rowCount ?? 0 }));
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw this.#wrap(err);
    }
    const tx: SqlExecutor = {
      query: <R extends SqlRow>(sql: string, params?: readonly SqlValue[]) =>
        this.#run(client, sql, params).then((r) => r.rows as R[]),
      execute: (sql, params) => this.#run(client, sql, params).then((r) => ({ changes: r.rowCount ?? 0 })),
    };
    try {
      await tx.execute('BEGIN');
      const result = await fn(tx);
      await tx.execute('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  async #run(on: Pool | PoolClient, sql: string, params: readonly SqlValue[] = []) {
    try {
      return await on.query(numberPlaceholders(sql), [...params]);
    } catch (err) {
      throw this.#wrap(err);
    }
  }

  #wrap(err: unknown): Error {
    return new StorageError(`${this.#where}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}
