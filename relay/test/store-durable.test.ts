import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, pingStore, type Store } from '../src/store/db.ts';
import { StoreBrokenError } from '../src/store/wal-barrier.ts';
import { flushGate, until } from './support/flush-gate.ts';

/*
 * SQLite's commits and the WAL barrier (issue 17, group commit), on a real database: the flush
 * is injected (a real fdatasync the test can hold or fail), SQLite is not mocked.
 */

const count = async (store: Store): Promise<number> => Number((await sql<{ n: number }>`select count(*) as n from t`.execute(store.db)).rows[0]?.n);
/** Holds the flushes, runs `act`, and checks it is answered only once the held flush ran. */
async function answeredAfterTheFlush(gate: ReturnType<typeof flushGate>, act: () => Promise<unknown>): Promise<void> {
  gate.hold = true;
  let answered = false;
  const done = act().then(() => {
    answered = true;
  });
  await until(() => gate.held.length === 1, 'a held flush');
  expect(answered).toBe(false);
  gate.release();
  await done;
}

const insertIn = (store: Store, id: number): Promise<unknown> => store.db.transaction().execute((trx) => sql`insert into t (id) values (${id})`.execute(trx));

describe('SQLite commits wait for the WAL barrier (group commit)', () => {
  let dir: string;
  let store: Store;
  let gate: ReturnType<typeof flushGate>;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'store-durable-'));
    gate = flushGate();
    store = await openStore({ dataDir: dir, walSync: gate.sync });
    await sql`create table t (id integer primary key)`.execute(store.db);
    // Migrations commit many times in one holding of the connection and await only the last
    // flush (it covers the others), so an earlier one may still run, or not yet have opened the
    // WAL, when openStore returns: wait for rest, so each test counts only its own flushes.
    await until(() => store.flushes?.inFlight === 0, "the store's flushes at rest");
  });
  afterEach(async () => {
    gate.release();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs with synchronous = NORMAL (no fsync inside a commit) and exposes the connection', () => {
    expect(store.sqlite?.pragma('synchronous', { simple: true })).toBe(1);
    expect(store.sqlite?.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('no transaction resolves while its flush is held, reads run meanwhile, and N commits share few flushes', async () => {
    gate.hold = true;
    const before = gate.calls;
    const n = 40;
    const done = new Set<number>();
    const all = Array.from({ length: n }, (_, i) => insertIn(store, i).then(() => done.add(i)));
    // The first two commits each start a flush (two in flight at most); the rest wait for a slot.
    await until(() => gate.held.length === 2, 'two held flushes');
    // Every commit is in SQLite and visible, none is answered: the connection is free for reads.
    expect(await count(store)).toBe(n);
    expect(done.size).toBe(0);
    gate.release();
    await Promise.all(all);
    const flushes = gate.calls - before;
    expect(flushes).toBeGreaterThanOrEqual(1);
    expect(flushes).toBeLessThan(n / 4);
    expect(store.flushes?.syncs).toBeLessThan(store.flushes?.requests ?? 0);
  });

  it('a write outside a transaction waits for a flush; a read asks for none', async () => {
    const before = gate.calls;
    await count(store);
    expect(gate.calls).toBe(before);
    await answeredAfterTheFlush(gate, () => sql`insert into t (id) values (1)`.execute(store.db));
    expect(gate.calls).toBe(before + 1);
  });

  it('commits under relaxed ask for no flush; durable() asks for one', async () => {
    const before = gate.calls;
    await store.relaxed((db) => sql`insert into t (id) values (7)`.execute(db));
    await store.relaxed((db) => db.transaction().execute((trx) => sql`insert into t (id) values (8)`.execute(trx)));
    expect(gate.calls).toBe(before);
    await answeredAfterTheFlush(gate, () => store.durable());
    expect(gate.calls).toBe(before + 1);
  });

  it('a failed flush fails its commits with StoreBrokenError; later writes are refused before they run; reads go on; readiness fails', async () => {
    await insertIn(store, 1);
    gate.failNext = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    await expect(insertIn(store, 2)).rejects.toBeInstanceOf(StoreBrokenError);
    expect(store.broken).toBeInstanceOf(StoreBrokenError);
    const rows = await count(store);
    const calls = gate.calls;
    await expect(insertIn(store, 3)).rejects.toBeInstanceOf(StoreBrokenError);
    await expect(sql`insert into t (id) values (4)`.execute(store.db)).rejects.toBeInstanceOf(StoreBrokenError);
    await expect(store.relaxed((db) => sql`insert into t (id) values (5)`.execute(db))).rejects.toBeInstanceOf(StoreBrokenError);
    await expect(store.durable()).rejects.toBeInstanceOf(StoreBrokenError);
    expect(await count(store)).toBe(rows);
    expect(gate.calls).toBe(calls);
    await expect(pingStore(store)).rejects.toBeInstanceOf(StoreBrokenError);
  });
});
