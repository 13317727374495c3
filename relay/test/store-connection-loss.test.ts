import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/db.ts';
import { createTestDatabase, engines, type TestDatabase } from './support/env.ts';

// PostgreSQL drops the relay's idle connections (server restart, failover, an operator's
// pg_terminate_backend): the relay must not crash, and the next query must work.
const postgres = engines().find((e) => e.name === 'postgres');

describe.skipIf(postgres?.skip !== undefined)('store on PostgreSQL when the server drops its connections', () => {
  let db: TestDatabase;
  let store: Store;
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    store = await openStore({ databaseUrl: db.databaseUrl, dataDir: db.dataDir });
    process.on('uncaughtException', onUncaught);
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    await store.close();
    await db.drop();
  });

  it('survives its idle connections being terminated and reconnects', async () => {
    // Hold a few pooled connections open, then let them go idle.
    await Promise.all([1, 2, 3].map(() => sql`select pg_sleep(0.05)`.execute(store.db)));
    const admin = new pg.Client({ connectionString: db.databaseUrl });
    await admin.connect();
    const killed = await admin.query(
      'select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
    );
    await admin.end();
    expect(killed.rows[0].n).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 100));

    const after = await sql<{ one: number }>`select 1 as one`.execute(store.db);
    expect(after.rows[0]?.one).toBe(1);
    expect(uncaught).toEqual([]);
  });

  it('survives a connection terminated while checked out between two queries of a transaction', async () => {
    // A transaction holds its connection between statements (idle in transaction): the server's
    // FATAL then arrives with no query in flight, on a client the pool no longer listens to.
    const admin = new pg.Client({ connectionString: db.databaseUrl });
    await admin.connect();
    const tx = store.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
      await admin.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
      await new Promise((r) => setTimeout(r, 200));
      await sql`select 1`.execute(trx);
    });
    await expect(tx).rejects.toThrow();
    await admin.end();
    const after = await sql<{ one: number }>`select 1 as one`.execute(store.db);
    expect(after.rows[0]?.one).toBe(1);
    expect(uncaught).toEqual([]);
  });
});
