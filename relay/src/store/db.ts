import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { type CheckpointOptions, Checkpointer, type CheckpointStats, type StoreLogger } from './checkpointer.ts';
import { migrationProvider } from './migrations.ts';
import type { Database } from './schema.ts';
import { DurableSqliteDialect } from './sqlite-durable.ts';
import { type BarrierStats, type SyncFile, WalBarrier } from './wal-barrier.ts';

/** Which engine a store runs on; a few statements (row locks) differ. */
export type Dialect = 'sqlite' | 'postgres';

/** The relay's database handle. */
export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /**
   * Runs `fn` with commits that need not be on disk when they return: for records that are
   * not money state and whose loss on a power cut is harmless (the replay guard's nonces, the
   * notification audit trail). On SQLite its commits wait for no WAL flush (the durable
   * barrier, below): they survive a crash of the relay, and reach the disk with the next
   * durable commit's flush (the WAL is flushed in order) or the next checkpoint. On PostgreSQL
   * `fn` runs on connections with `synchronous_commit = off` (openStore): the same guarantee,
   * the server's WAL writer or the next synchronous commit flushing them. A commit made after
   * reading a relaxed one (a lease, an outbox claim) is durable only once the relaxed one is.
   * Also for the pay's outcome (PurchaseRepo.apply with `relaxed`: Antom holds the outcome, the
   * payment worker's inquiry restores a lost one). Never call it from inside a transaction: on
   * SQLite it waits for the connection the transaction holds.
   */
  relaxed<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * Resolves when every commit made before the call is on disk, for code that writes with
   * `sqlite` directly (Kysely's commits wait for it themselves). On SQLite it joins the WAL's
   * group flush (WalBarrier); rejects with StoreBrokenError once a flush failed. On PostgreSQL
   * it resolves at once: a commit there returns only once it is durable.
   */
  durable(): Promise<void>;
  /**
   * The SQLite connection itself (undefined on PostgreSQL), for hot paths that run precompiled
   * statements without Kysely. Its commits are not on disk until `durable()` resolves (the
   * connection runs with `synchronous = NORMAL`). It is the connection Kysely uses: run a
   * synchronous transaction on it only while `sqlite.inTransaction` is false, or the statements
   * join the Kysely transaction that holds it across an await.
   */
  sqlite?: SQLite.Database;
  /**
   * Why the store refuses writes (a failed WAL flush, StoreBrokenError), or undefined. Readiness
   * reports it (/readyz 503, `database: false`); writes throw it (a pay answers 500 before any
   * Antom call); reads still answer. The process does not exit by itself: exiting would drop
   * every request in flight unanswered, and the disk that failed one flush fails the next
   * process too. Recovery is a restart once the disk is sound (an orchestrator acting on
   * readiness, or an operator): SQLite replays what reached the WAL, and the payment worker's
   * inquiry settles every pay whose outcome was lost (its intent was on disk before its Antom call).
   */
  readonly broken: Error | undefined;
  /** SQLite: barriers asked for and flushes run (group commit: flushes ≤ barriers); undefined on PostgreSQL. */
  readonly flushes?: BarrierStats;
  /** SQLite: what the checkpoint worker did, and whether it runs (false: SQLite's automatic checkpoints do); undefined on PostgreSQL. */
  readonly checkpoints?: CheckpointStats & { readonly running: boolean };
  close(): Promise<void>;
}

/** The default StoreLogger: a process warning (stderr), for callers without a logger (the CLI's commands). */
const processWarning: StoreLogger = { warn: (obj, msg) => process.emitWarning(`${msg} ${JSON.stringify(obj)}`) };

/** int8 → number: every bigint column holds epoch ms or minor units, far below 2^53. */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint out of safe range: ${value}`);
  return n;
}

const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** PostgreSQL pool size when none is given (config `databasePoolSize`; docs/benchmarks.md, third round). */
export const DEFAULT_POOL_SIZE = 25;

/**
 * Opens the store: PostgreSQL when `databaseUrl` is a postgres:// URL, otherwise SQLite
 * (better-sqlite3, WAL) at `<dataDir>/relay.sqlite`. `poolSize` caps the PostgreSQL connections. Runs pending migrations before returning.
 */
export async function openStore(options: {
  databaseUrl?: string | undefined;
  dataDir: string;
  poolSize?: number | undefined;
  /** SQLite: how the WAL is flushed (default fdatasync on libuv's pool); tests inject one to count or fail flushes. */
  walSync?: SyncFile | undefined;
  /** Where the store warns (SQLite: the checkpoint worker's fallback); default a process warning. */
  logger?: StoreLogger | undefined;
  /** SQLite: when checkpoints run (Checkpointer); `file` is the one the worker opens (default the store's own; tests point it elsewhere to make the worker fail). */
  checkpoints?: (CheckpointOptions & { file?: string | undefined }) | undefined;
}): Promise<Store> {
  let store: Store;
  const url = options.databaseUrl;
  if (url && /^postgres(ql)?:\/\//u.test(url)) {
    const split = pgPoolSplit(options.poolSize ?? DEFAULT_POOL_SIZE);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pgPool(url, split.main) }) });
    // Store.relaxed on PostgreSQL: its share of the pool (pgPoolSplit) with `synchronous_commit = off`
    // (the server answers the COMMIT before its WAL record is flushed; the WAL writer flushes it
    // within wal_writer_delay, and any later synchronous commit flushes it first, the WAL being
    // one ordered log). A crash of the relay loses nothing; a crash of the server may lose the
    // last few relaxed commits, never a synchronous one made after them.
    const relaxedDb =
      split.relaxed > 0 ? new Kysely<Database>({ dialect: new PostgresDialect({ pool: pgPool(url, split.relaxed, '-c synchronous_commit=off') }) }) : undefined;
    store = {
      db,
      dialect: 'postgres',
      relaxed: (fn) => fn(relaxedDb ?? db),
      durable: () => Promise.resolve(),
      broken: undefined,
      close: async () => {
        await Promise.all([db.destroy(), relaxedDb?.destroy()]);
      },
    };
  } else if (url) {
    throw new Error('DATABASE_URL must start with postgres:// (leave it unset for SQLite)');
  } else {
    mkdirSync(options.dataDir, { recursive: true });
    const file = join(options.dataDir, 'relay.sqlite');
    const sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = WAL');
    // Group commit (issue 17): no fsync inside a commit, so none on the event loop. Every commit
    // that must be durable then waits for the WAL barrier, a flush on libuv's pool shared by all
    // commits written before it started (WalBarrier, DurableSqliteDriver). NORMAL in WAL mode
    // never corrupts the database; it only leaves the last commits unflushed, which the barrier
    // covers before anyone learns of them.
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    // Kysely prepares every query anew; the relay's queries are a few hundred distinct texts, so
    // keeping their prepared statements saves the compile on each call (bench #1: docs/benchmarks.md).
    const statements = new Map<string, ReturnType<typeof sqlite.prepare>>();
    const prepare = sqlite.prepare.bind(sqlite);
    const cached = Object.assign(Object.create(sqlite) as typeof sqlite, {
      prepare(source: string) {
        let st = statements.get(source);
        if (!st) {
          st = prepare(source);
          if (statements.size < 1000) statements.set(source, st);
        }
        return st;
      },
      close: () => sqlite.close(),
    });
    const barrier = new WalBarrier(`${file}-wal`, options.walSync);
    // Checkpoints off the event loop (issue 17): a worker thread checkpoints, nudged after flushes.
    const checkpointer = new Checkpointer(sqlite, options.checkpoints?.file ?? file, options.logger ?? processWarning, options.checkpoints);
    barrier.onFlushed = (commits) => checkpointer.flushed(commits);
    await checkpointer.ready;
    const dialect = new DurableSqliteDialect(cached, sqlite, barrier);
    const db = new Kysely<Database>({ dialect });
    store = {
      db,
      dialect: 'sqlite',
      // Kysely's SQLite driver has one connection behind a mutex: while `fn` holds it, no other
      // query (nor transaction) can run, so the flag applies to `fn`'s commits only.
      relaxed: (fn) =>
        db.connection().execute(async (conn) => {
          const driver = dialect.driver as NonNullable<typeof dialect.driver>;
          driver.relaxed = true;
          try {
            return await fn(conn);
          } finally {
            driver.relaxed = false;
          }
        }),
      durable: () => barrier.request(),
      sqlite,
      get broken() {
        return barrier.broken;
      },
      flushes: barrier.stats,
      get checkpoints() {
        return { ...checkpointer.stats, running: checkpointer.running };
      },
      async close() {
        // The worker's connection closes first, so the relay's is the last: its close then
        // checkpoints and deletes the WAL, once the flushes asked for have finished.
        await checkpointer.stop();
        await barrier.close();
        await db.destroy();
      },
    };
  }
  await migrate(store);
  return store;
}

/**
 * How a relay's PostgreSQL connections (`poolSize`, config `databasePoolSize`, which operators
 * size against the server's `max_connections`) are shared: a fifth, rounded down, for relaxed
 * commits (Store.relaxed), the rest for everything else. Below 5 there is none to spare:
 * relaxed commits then run on the pool as synchronous ones (durable, only slower).
 */
export function pgPoolSplit(poolSize: number): { main: number; relaxed: number } {
  const relaxed = Math.floor(poolSize / 5);
  return { main: poolSize - relaxed, relaxed };
}

/** A PostgreSQL pool of at most `max` connections (`options`: server settings for each, e.g. `-c name=value`). */
function pgPool(url: string, max: number, options?: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, types: pgTypes, ...(options ? { options } : {}) });
  // An idle connection the server drops (restart, failover, pg_terminate_backend) is emitted
  // here; without a listener it would crash the process. The pool discards the broken client
  // and opens a new one for the next query; a query in flight fails and its caller's
  // transaction rolls back, so no money state is half-written.
  pool.on('error', () => undefined);
  // The pool stops listening to a client while it is checked out; a FATAL arriving then with
  // no query in flight (a transaction between statements, a restart under load) is emitted on
  // the client itself and would crash the process. The client is dead either way: its next
  // query fails, the transaction rolls back, and the pool drops it on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Brings the schema up to date; throws with the failing migration's error. */
export async function migrate(store: Store): Promise<void> {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${(error as Error).message}`);
  }
}

/** Answers when the database does (readiness); throws when it is unreachable or broken (Store.broken). */
export async function pingStore(store: Store): Promise<void> {
  // A store that refuses writes is not ready, even though it still answers reads.
  if (store.broken) throw store.broken;
  await sql`select 1`.execute(store.db);
}

/** A function for `Kysely.connection().execute` that only waits for the connection. */
const idle = async (): Promise<void> => undefined;

/**
 * SQLite: resolves once no Kysely transaction is open on the connection (`Store.sqlite`). Kysely's
 * SQLite driver keeps its transaction's connection across awaits: a statement run on `sqlite`
 * meanwhile would join that transaction (and share its rollback), a BEGIN would fail. Code that
 * runs prepared statements on `sqlite` awaits this while `sqlite.inTransaction` is true, then
 * runs them without awaiting in between. Resolves at once on PostgreSQL.
 */
export async function sqliteFree(store: Store): Promise<void> {
  while (store.sqlite?.inTransaction) await store.db.connection().execute(idle);
}

/** True when the error is a unique or primary key violation, on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}
