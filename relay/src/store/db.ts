import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations.ts';
import type { Database } from './schema.ts';

/** Which engine a store runs on; a few statements (row locks) differ. */
export type Dialect = 'sqlite' | 'postgres';

/** The relay's database handle. */
export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /**
   * Runs `fn` with commits that need not be on disk when they return: for records that are
   * not money state and whose loss on a power cut is harmless (the replay guard's nonces, the
   * notification audit trail). On SQLite its commits skip the WAL fsync (`synchronous =
   * NORMAL`): they survive a crash of the relay, and reach the disk with the next money commit
   * (the WAL is fsynced in order) or the next checkpoint. Every other commit stays
   * `synchronous = FULL`. On PostgreSQL it is plain `fn(db)`. Never call it from inside a
   * transaction: on SQLite it waits for the connection the transaction holds.
   */
  relaxed<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * SQLite only (undefined on PostgreSQL): the connection Kysely drives, for hot-path statements
   * prepared once and run in one synchronous transaction without Kysely (the pay,
   * payments/purchase-sqlite.ts). Its user must not start a transaction while Kysely has one open.
   */
  sqlite?: SQLite.Database;
  /**
   * Resolves when every commit made before the call is on disk. Whoever commits money state on
   * `sqlite` directly awaits it before acting on the commit (an Antom call, an answer). Today
   * every commit is `synchronous = FULL`, so it resolves at once; it is the hook for SQLite's
   * group commit (commits at `synchronous = NORMAL`, one WAL fsync off the event loop for many).
   */
  durable(): Promise<void>;
  close(): Promise<void>;
}

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
export async function openStore(options: { databaseUrl?: string | undefined; dataDir: string; poolSize?: number | undefined }): Promise<Store> {
  let store: Store;
  const url = options.databaseUrl;
  if (url && /^postgres(ql)?:\/\//u.test(url)) {
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? DEFAULT_POOL_SIZE, types: pgTypes });
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
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    // A PostgreSQL commit is durable when it returns.
    store = { db, dialect: 'postgres', relaxed: (fn) => fn(db), durable: () => Promise.resolve(), close: () => db.destroy() };
  } else if (url) {
    throw new Error('DATABASE_URL must start with postgres:// (leave it unset for SQLite)');
  } else {
    mkdirSync(options.dataDir, { recursive: true });
    const sqlite = new SQLite(join(options.dataDir, 'relay.sqlite'));
    sqlite.pragma('journal_mode = WAL');
    // Money state: every commit is on disk before it returns (WAL fsync per commit).
    sqlite.pragma('synchronous = FULL');
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
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });
    // `relaxed` switches the fsync twice per device request (the replay guard's nonce):
    // compiled once here, as `sqlite.pragma()` compiles its statement on every call (a visible
    // share of a pay in `npm run bench:profile`, docs/benchmarks.md).
    const syncNormal = sqlite.prepare('PRAGMA synchronous = NORMAL');
    const syncFull = sqlite.prepare('PRAGMA synchronous = FULL');
    store = {
      db,
      dialect: 'sqlite',
      sqlite,
      // Every money commit is synchronous = FULL today: on disk when it returns.
      durable: () => Promise.resolve(),
      // Kysely's SQLite driver has one connection behind a mutex: while `fn` holds it, no other
      // query (nor transaction) can run, so the setting applies to `fn`'s statements only.
      relaxed: (fn) =>
        db.connection().execute(async (conn) => {
          syncNormal.run();
          try {
            return await fn(conn);
          } finally {
            syncFull.run();
          }
        }),
      close: () => db.destroy(),
    };
  }
  await migrate(store);
  return store;
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

/** Answers when the database does (readiness); throws when it is unreachable. */
export async function pingStore(store: Store): Promise<void> {
  await sql`select 1`.execute(store.db);
}

/** True when the error is a unique or primary key violation, on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}
