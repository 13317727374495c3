import type BetterSqlite3 from 'better-sqlite3';
import { type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult, SqliteDialect, type TransactionSettings } from 'kysely';
import type { WalBarrier } from './wal-barrier.ts';

const noop = (): void => undefined;

/**
 * One statement run outside a transaction: a write commits on its own (autocommit), so it owes
 * the barrier like a transaction's commit. Reads (statements SQLite calls readers) never do.
 */
class DurableConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    readonly driver: DurableSqliteDriver,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    this.driver.refuseWriteWhenBroken(query.sql);
    const result = await this.inner.executeQuery<R>(query);
    // better-sqlite3 answers `numAffectedRows` only for statements it ran with `run()` (writes,
    // DDL, pragmas); when no transaction is left open after one, whatever it wrote is committed.
    if (result.numAffectedRows !== undefined && !this.driver.sqlite.inTransaction) this.driver.owe();
    return result;
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

/**
 * Kysely's SQLite driver with the durable barrier (issue 17, group commit): the database runs
 * with `synchronous = NORMAL` (no fsync inside a commit, so none on the event loop), and every
 * commit (a transaction's, or a write statement's outside one) asks the WAL barrier for a flush
 * covering it. The connection is handed back first and the barrier awaited after, so other
 * queries and commits run meanwhile and join the next flush; the caller's promise (the
 * transaction's, the statement's) resolves only once its flush has finished.
 * Commits made under `relaxed` (Store.relaxed) ask for no flush: the next durable commit's
 * flush covers them, as the WAL is flushed in order.
 *
 * The window this leaves: a commit is visible to this process's reads before its flush ends
 * (with `synchronous = FULL` it was visible only after). It is safe for money because every
 * outside call that moves money follows a durable commit of its own caller (intent → sent →
 * result, STYLE), and that commit's flush covers every commit before it, the ones it read
 * included (the workers and the fulfilment outbox lease a row by a commit before they act on
 * it). What a read shows without a commit of its own (a status answer to a device) can be lost
 * to a power cut with the commit, and is recovered like a crash at that point: by inquiry.
 */
export class DurableSqliteDriver implements Driver {
  readonly #inner: Driver;
  readonly #barrier: WalBarrier;
  readonly #connections = new WeakMap<DatabaseConnection, DurableConnection>();
  /** The barrier the holder of the connection owes before its promise may resolve. */
  #owed: Promise<void> | undefined;
  /** True while `Store.relaxed` holds the connection: its commits owe no barrier. */
  relaxed = false;

  constructor(
    inner: Driver,
    barrier: WalBarrier,
    readonly sqlite: BetterSqlite3.Database,
  ) {
    this.#inner = inner;
    this.#barrier = barrier;
  }

  /** Records that the connection's holder committed: asks for the flush now (grouped), awaited on release. */
  owe(): void {
    if (this.relaxed) return;
    const flushed = this.#barrier.request();
    // Awaited on release; handled here so a failure that lands first is not reported unhandled.
    flushed.catch(noop);
    this.#owed = flushed;
  }

  /** Fail closed: once a flush failed, no statement that writes runs (StoreBrokenError); reads do. */
  refuseWriteWhenBroken(source: string): void {
    const broken = this.#barrier.broken;
    if (broken && !this.sqlite.prepare(source).reader) throw broken;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await this.#inner.acquireConnection();
    let conn = this.#connections.get(inner);
    if (!conn) {
      conn = new DurableConnection(inner, this);
      this.#connections.set(inner, conn);
    }
    return conn;
  }

  beginTransaction(conn: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (this.#barrier.broken) return Promise.reject(this.#barrier.broken);
    return this.#inner.beginTransaction((conn as DurableConnection).inner, settings);
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    await this.#inner.commitTransaction((conn as DurableConnection).inner);
    this.owe();
  }

  rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction((conn as DurableConnection).inner);
  }

  savepoint(conn: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    return this.#inner.savepoint?.((conn as DurableConnection).inner, name, compile) ?? Promise.resolve();
  }

  rollbackToSavepoint(conn: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['rollbackToSavepoint']>>[2]): Promise<void> {
    return this.#inner.rollbackToSavepoint?.((conn as DurableConnection).inner, name, compile) ?? Promise.resolve();
  }

  releaseSavepoint(conn: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['releaseSavepoint']>>[2]): Promise<void> {
    return this.#inner.releaseSavepoint?.((conn as DurableConnection).inner, name, compile) ?? Promise.resolve();
  }

  async releaseConnection(conn: DatabaseConnection): Promise<void> {
    const owed = this.#owed;
    this.#owed = undefined;
    await this.#inner.releaseConnection((conn as DurableConnection).inner);
    if (owed) await owed;
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

/** SqliteDialect whose driver is wrapped in DurableSqliteDriver (the compiler, adapter and introspector are Kysely's). */
export class DurableSqliteDialect extends SqliteDialect {
  readonly #barrier: WalBarrier;
  readonly #sqlite: BetterSqlite3.Database;
  /** The driver of the last Kysely instance built on this dialect (Store.relaxed sets its flag). */
  driver: DurableSqliteDriver | undefined;

  /** `database`: what Kysely runs statements on (the relay's statement cache); `sqlite`: the connection itself. */
  constructor(database: BetterSqlite3.Database, sqlite: BetterSqlite3.Database, barrier: WalBarrier) {
    super({ database });
    this.#sqlite = sqlite;
    this.#barrier = barrier;
  }

  override createDriver(): Driver {
    this.driver = new DurableSqliteDriver(super.createDriver(), this.#barrier, this.#sqlite);
    return this.driver;
  }
}
