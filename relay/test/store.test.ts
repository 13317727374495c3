import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { offsetClock } from '../src/clock.ts';
import { DeviceService } from '../src/devices/device-service.ts';
import { signClientRequest } from '../src/devices/client-signature.ts';
import { reencryptAll } from '../src/store/rotate-keys.ts';
import { SecretBox } from '../src/store/secret-box.ts';
import { EventHub } from '../src/events.ts';
import { createLogger } from '../src/logger.ts';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { BindingRepo } from '../src/bindings/binding-repo.ts';
import { applyPayAnswer } from '../src/payments/pay-outcome.ts';
import { PurchaseRepo, type PurchaseRow } from '../src/payments/purchase-repo.ts';
import { isUniqueViolation, migrate, openStore, pgPoolSplit, type Store } from '../src/store/db.ts';
import { migrationProvider } from '../src/store/migrations.ts';
import { WITHOUT_ROWID } from '../src/store/migrations-0011.ts';
import type { Database } from '../src/store/schema.ts';
import { createTestDatabase, engines, TEST_DATABASE_URL, uuid } from './support/env.ts';
import { purchaseRow as purchase, useStore } from './support/rows.ts';

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`store on ${engine.name}`, () => {
    if (engine.skip) console.warn(engine.skip);
    const opened = useStore(engine.name);
    const clock = offsetClock();
    const logger = createLogger('silent');
    let store: Store;
    beforeAll(() => {
      store = opened.store;
    });

    it('migrates idempotently', async () => {
      await migrate(store);
      const rows = await store.db.selectFrom('purchases').selectAll().execute();
      expect(rows).toEqual([]);
    });

    it('has no spend_locks table: migration 0006 drops it (spending is serialised by advisory locks)', async () => {
      const tables = (await store.db.introspection.getTables()).map((t) => t.name);
      expect(tables).toContain('purchases');
      expect(tables).not.toContain('spend_locks');
    });

    it('rejects a reused nonce and a second intent with the same paymentRequestId by constraint', async () => {
      await store.db.insertInto('nonces').values({ device_id: 'd1', nonce: 'n1', seen_at: 1 }).execute();
      const again = store.db.insertInto('nonces').values({ device_id: 'd1', nonce: 'n1', seen_at: 2 }).execute();
      await expect(again).rejects.toSatisfy(isUniqueViolation);
      const id = uuid();
      await store.db.insertInto('purchases').values(purchase(id, clock.now())).execute();
      const dup = { ...purchase(uuid(), clock.now()), payment_request_id: `pay_${id}` };
      await expect(store.db.insertInto('purchases').values(dup).execute()).rejects.toSatisfy(isUniqueViolation);
      const read = await store.db.selectFrom('purchases').selectAll().where('intent_id', '=', id).executeTakeFirstOrThrow();
      expect(read.amount_minor).toBe(89_100_000_000);
      expect(typeof read.created_at).toBe('number');
    });

    it('moves purchases only through purchaseTransition: one success, duplicates are no-ops, contradictions refused', async () => {
      const repo = new PurchaseRepo(store, clock, new EventHub(), logger);
      const id = uuid();
      await store.db.insertInto('purchases').values(purchase(id, clock.now())).execute();
      expect((await repo.apply(id, 'PAY_UNKNOWN'))?.row.state).toBe('PROCESSING');
      const ok = await repo.apply(id, 'PAY_SUCCEEDED', { payment_id: 'p1' });
      expect(ok?.row).toMatchObject({ state: 'SUCCEEDED', version: 3, payment_id: 'p1', next_check_at: null });
      expect((await repo.apply(id, 'PAY_SUCCEEDED'))?.changed).toBe(false);
      expect(await repo.apply(id, 'PAY_FAILED')).toBeUndefined();
      expect((await repo.get(id))?.state).toBe('SUCCEEDED');
    });

    it("writes a pay's answer as a relaxed commit (on PostgreSQL: synchronous_commit off on those connections only), visible at once", async () => {
      if (engine.name === 'postgres') {
        const setting = async (db: Store['db']): Promise<unknown> =>
          (await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(db)).rows[0]?.synchronous_commit;
        expect(await store.relaxed(setting)).toBe('off');
        expect(await setting(store.db)).toBe('on');
      }
      // Durable commits asked for: SQLite counts WAL flush requests; on PostgreSQL a commit is
      // durable unless it runs through Store.relaxed, so those are counted instead.
      let relaxedRuns = 0;
      const counted: Store = Object.assign(Object.create(store) as Store, {
        relaxed: <T>(fn: (db: Store['db']) => Promise<T>): Promise<T> => {
          relaxedRuns++;
          return store.relaxed(fn);
        },
      });
      const durableAsked = (): number => (engine.name === 'sqlite' ? (store.flushes?.requests ?? 0) : -relaxedRuns);
      const repo = new PurchaseRepo(counted, clock, new EventHub(), logger);
      const bindings = { markTokenDead: async () => undefined } as unknown as BindingRepo;
      for (const [outcome, state] of [
        [{ kind: 'succeeded', code: 'SUCCESS', answer: { paymentId: 'p1' } }, 'SUCCEEDED'],
        [{ kind: 'refused', code: 'USER_BALANCE_NOT_ENOUGH' }, 'FAILED'],
        [{ kind: 'pending', code: 'PAYMENT_IN_PROCESS', answer: undefined }, 'PROCESSING'],
      ] as const) {
        const id = uuid();
        await store.db.insertInto('purchases').values(purchase(id, clock.now())).execute();
        const row = await repo.get(id);
        const before = durableAsked();
        const settled = await applyPayAnswer(repo, bindings, row as PurchaseRow, outcome, 1_000);
        expect(settled.state).toBe(state);
        expect(durableAsked() - before, `${state}: no durable commit`).toBe(engine.name === 'sqlite' ? 0 : -1);
        expect((await store.db.selectFrom('purchases').select('state').where('intent_id', '=', id).executeTakeFirstOrThrow()).state).toBe(state);
      }
      // Any other step stays durable.
      const id = uuid();
      await store.db.insertInto('purchases').values(purchase(id, clock.now())).execute();
      const before = durableAsked();
      expect((await repo.apply(id, 'PAY_UNKNOWN'))?.row.state).toBe('PROCESSING');
      expect(durableAsked() - before).toBe(engine.name === 'sqlite' ? 1 : 0);
    });

    it('gives a worker lease to one claimant at a time', async () => {
      const repo = new PurchaseRepo(store, clock, new EventHub(), logger);
      const id = uuid();
      await store.db.insertInto('purchases').values(purchase(id, clock.now())).execute();
      const claims = await Promise.all([repo.claim(id, 10_000), repo.claim(id, 10_000), repo.claim(id, 10_000)]);
      expect(claims.filter(Boolean)).toHaveLength(1);
    });

    it('rotates the encryption key: rows re-sealed with the new key id still open', async () => {
      const k1 = randomBytes(32).toString('base64');
      const k2 = randomBytes(32).toString('base64');
      const old = new DeviceService({ store, box: new SecretBox({ k1 }, 'k1'), clock });
      const { code } = await old.createEnrollmentCode({ label: 'K', kind: 'kiosk', lifetimeMs: 60_000 });
      const { deviceId, deviceSecret } = await old.enroll({ code });
      const box = new SecretBox({ k1, k2 }, 'k2');
      expect(await reencryptAll(store, box)).toBeGreaterThan(0);
      const row = await store.db.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirstOrThrow();
      expect(row.key_id).toBe('k2');
      const rotated = new DeviceService({ store, box: new SecretBox({ k2 }, 'k2'), clock });
      const timestamp = String(clock.now());
      const nonce = randomBytes(16).toString('base64url');
      const input = { method: 'GET', pathWithQuery: '/v1/wallets', timestamp, nonce, body: '' };
      const caller = await rotated.authenticate({
        method: 'GET',
        pathWithQuery: '/v1/wallets',
        rawBody: Buffer.alloc(0),
        headers: { 'x-device-id': deviceId, 'x-timestamp': timestamp, 'x-nonce': nonce, 'x-signature': signClientRequest(deviceSecret, input) },
      });
      expect(caller).toMatchObject({ deviceId, kind: 'kiosk', owner: `device:${deviceId}` });
    });
  });
}

describe('PostgreSQL connections: databasePoolSize caps them all, relaxed ones included', () => {
  it('gives relaxed commits a fifth of the pool, rounded down, and none below 5', () => {
    expect(pgPoolSplit(25)).toEqual({ main: 20, relaxed: 5 });
    expect(pgPoolSplit(5)).toEqual({ main: 4, relaxed: 1 });
    expect(pgPoolSplit(4)).toEqual({ main: 4, relaxed: 0 });
    expect(pgPoolSplit(1)).toEqual({ main: 1, relaxed: 0 });
  });

  const pgEngine = engines().find((e) => e.name === 'postgres');
  it.skipIf(pgEngine?.skip !== undefined)(
    'opens at most poolSize connections under load on both kinds of commit; below 5 relaxed ones are synchronous',
    async () => {
      if (pgEngine?.skip) console.warn(pgEngine.skip);
      const db = await createTestDatabase('postgres');
      const name = new URL(db.databaseUrl as string).pathname.slice(1);
      const watcher = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await watcher.connect();
      const connections = async (): Promise<number> =>
        Number((await watcher.query('select count(*) as n from pg_stat_activity where datname = $1', [name])).rows[0]?.n);
      try {
        for (const [poolSize, relaxedSetting] of [
          [5, 'off'],
          [4, 'on'],
        ] as const) {
          const store = await openStore({ databaseUrl: db.databaseUrl, dataDir: db.dataDir, poolSize });
          try {
            const sleep = (d: Store['db']): Promise<unknown> => sql`select pg_sleep(0.3)`.execute(d);
            const load = [...Array.from({ length: 12 }, () => sleep(store.db)), ...Array.from({ length: 6 }, () => store.relaxed(sleep))];
            await new Promise((r) => setTimeout(r, 150));
            const during = await connections();
            await Promise.all(load);
            expect(during, `connections with poolSize ${poolSize}`).toBeLessThanOrEqual(poolSize);
            expect(during).toBeGreaterThanOrEqual(Math.min(poolSize, 4));
            expect((await store.relaxed((d) => sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(d))).rows[0]?.synchronous_commit).toBe(
              relaxedSetting,
            );
          } finally {
            await store.close();
          }
        }
      } finally {
        await watcher.end();
        await db.drop();
      }
    },
  );
});

describe('migration 0011: the text-keyed tables a pay inserts into are WITHOUT ROWID on SQLite', () => {
  it('stores each once (no index for its key), keeps its rows, its constraints and its seen_at index', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-0011-'));
    const file = new SQLite(join(dir, 'relay.sqlite'));
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: file }) });
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      expect((await migrator.migrateTo('0009_worker_beats')).error).toBeUndefined();
      await db.insertInto('nonces').values({ device_id: 'd1', nonce: 'n1', seen_at: 1 }).execute();
      await db.insertInto('notification_dedupe').values({ kind: 'payment', notification_key: 'k1', outcome: 'applied', received_at: 2 }).execute();
      await db.insertInto('notifications').values({ id: 'a1', kind: 'payment', ref: null, outcome: 'applied', received_at: 3 }).execute();
      const indexesOf = (table: string) =>
        file.prepare("select name from sqlite_master where type = 'index' and tbl_name = ? order by name").pluck().all(table);
      expect(indexesOf('nonces')).toEqual(['nonces_seen_at', 'sqlite_autoindex_nonces_1']);

      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      for (const t of WITHOUT_ROWID) {
        expect(String(file.prepare("select sql from sqlite_master where type = 'table' and name = ?").pluck().get(t.table))).toMatch(/without rowid$/u);
      }
      expect(indexesOf('nonces')).toEqual(['nonces_seen_at']);
      expect(indexesOf('notification_dedupe')).toEqual([]);
      expect(indexesOf('notifications')).toEqual([]);
      expect(await db.selectFrom('nonces').selectAll().execute()).toEqual([{ device_id: 'd1', nonce: 'n1', seen_at: 1 }]);
      expect(await db.selectFrom('notification_dedupe').selectAll().execute()).toEqual([
        { kind: 'payment', notification_key: 'k1', outcome: 'applied', received_at: 2 },
      ]);
      expect(await db.selectFrom('notifications').selectAll().execute()).toEqual([
        { id: 'a1', kind: 'payment', ref: null, outcome: 'applied', received_at: 3 },
      ]);
      // The keys still refuse a second row: a replayed nonce, a second audit id.
      await expect(db.insertInto('nonces').values({ device_id: 'd1', nonce: 'n1', seen_at: 4 }).execute()).rejects.toSatisfy(isUniqueViolation);
      await expect(db.insertInto('notifications').values({ id: 'a1', kind: 'payment', ref: null, outcome: 'x', received_at: 5 }).execute()).rejects.toSatisfy(
        isUniqueViolation,
      );
      // The nonce purge reads by seen_at through its index.
      const plan = file.prepare('explain query plan delete from nonces where seen_at < ?').all(10) as { detail: string }[];
      expect(plan.map((p) => p.detail).join(' ')).toContain('nonces_seen_at');
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is one transaction: a rebuild that fails leaves every table as it was, and the next start migrates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-0011-'));
    const file = new SQLite(join(dir, 'relay.sqlite'));
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: file }) });
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      expect((await migrator.migrateTo('0009_worker_beats')).error).toBeUndefined();
      await db.insertInto('nonces').values({ device_id: 'd1', nonce: 'n1', seen_at: 1 }).execute();
      // A table in the way of the second rebuild: the migration fails after the first table's.
      file.exec('create table "notification_dedupe_0011" (x integer)');
      expect((await migrator.migrateToLatest()).error).toBeDefined();
      const definition = (table: string) => String(file.prepare("select sql from sqlite_master where type = 'table' and name = ?").pluck().get(table));
      expect(definition('nonces')).not.toMatch(/without rowid/u);
      expect(file.prepare("select count(*) from sqlite_master where name = 'nonces_0011'").pluck().get()).toBe(0);
      expect(await db.selectFrom('nonces').selectAll().execute()).toEqual([{ device_id: 'd1', nonce: 'n1', seen_at: 1 }]);

      file.exec('drop table "notification_dedupe_0011"');
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      for (const t of WITHOUT_ROWID) expect(definition(t.table)).toMatch(/without rowid$/u);
      expect(await db.selectFrom('nonces').selectAll().execute()).toEqual([{ device_id: 'd1', nonce: 'n1', seen_at: 1 }]);
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
