import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, configSchema, parseConfig } from '../src/config.ts';
import { type Relay, startRelay } from '../src/index.ts';
import { DEFAULT_PAY_IN_FLIGHT, PayBeginBatcher } from '../src/payments/pay-batch-repo.ts';
import { lockId, type PayBeginInput } from '../src/payments/purchase-repo.ts';
import { type JsonResponse, send, TestDevice } from './support/client.ts';
import { engines, TEST_LIMITS, uuid } from './support/env.ts';
import { bind, type Stack, startStack, waitFor } from './support/stack.ts';

/*
 * Group commit of pay begins on PostgreSQL (issue 17; payments/pay-batch-repo.ts,
 * store/migrations-0008.ts): up to databasePayInFlight begin statements run at once; pays
 * arriving while all of them are in flight go together as one relay_pay_begin_many statement and
 * one commit, each answered as if alone.
 */

const postgres = engines().find((e) => e.name === 'postgres');
const skip = postgres?.skip;

/**
 * The pay-begin statements this process sends, with the number of pays each carries, and the
 * most of them running at once (sent, not yet answered).
 */
function captureBegins(): { begins: { text: string; pays: number }[]; maxLive(): number; stop(): void } {
  const begins: { text: string; pays: number }[] = [];
  let live = 0;
  let most = 0;
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string; values?: unknown[] };
    const text = typeof first === 'string' ? first : (first?.text ?? '');
    const values = (typeof first === 'string' ? args[1] : first?.values) as unknown[] | undefined;
    const result = (query as (...a: unknown[]) => unknown).apply(this, args);
    if (text.startsWith('select relay_pay_begin')) {
      const param = JSON.parse(String(values?.[0])) as unknown;
      begins.push({ text, pays: Array.isArray(param) ? param.length : 1 });
      live += 1;
      most = Math.max(most, live);
      const done = () => {
        live -= 1;
      };
      // Kysely calls query without a callback, so the result is the statement's promise.
      (result as Promise<unknown>).then(done, done);
    }
    return result;
  } as typeof query;
  return {
    begins,
    maxLive: () => most,
    stop() {
      pg.Client.prototype.query = query;
    },
  };
}

/**
 * How many advisory lock requests wait (not granted) in the client's database: pg_locks lists
 * the whole server's, and other test files (and their databases) run beside this one.
 */
async function waitingLocks(client: pg.Client): Promise<number> {
  const r = await client.query<{ n: string }>(
    "select count(*) as n from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())",
  );
  return Number(r.rows[0]?.n);
}

/** Starts a pay and returns its answer to come once the relay's batcher holds `expectQueued` pays. */
async function queue(relay: Relay, pay: () => Promise<JsonResponse>, expectQueued: number): Promise<{ answer: Promise<JsonResponse> }> {
  const answer = pay();
  await waitFor(async () => relay.purchaseRepo.payBegins?.queued === expectQueued, 10_000, `${expectQueued} pays queued`);
  return { answer };
}

const buy = (device: TestDevice, bindingId: string, sku = 'gems-100', quantity = 1, purchaseIntentId = uuid()) =>
  device.request('POST', '/v1/purchases', { bindingId, sku, quantity, purchaseIntentId });

describe('configuration of the pay batch', () => {
  it('databasePayBatchMax is an integer from 1 to 64, 32 by default', () => {
    const field = configSchema.shape.databasePayBatchMax;
    expect(field.parse(undefined)).toBe(32);
    for (const bad of [0, 65, 1.5, -1, '8']) expect(field.safeParse(bad).success).toBe(false);
    expect(field.parse(1)).toBe(1);
    expect(field.parse(64)).toBe(64);
  });

  it('databasePayInFlight is an integer from 1 to 16, 4 by default, and at most databasePoolSize', () => {
    const field = configSchema.shape.databasePayInFlight;
    expect(field.parse(undefined)).toBe(DEFAULT_PAY_IN_FLIGHT);
    expect(DEFAULT_PAY_IN_FLIGHT).toBe(4);
    for (const bad of [0, 17, 2.5, -1, '4']) expect(field.safeParse(bad).success).toBe(false);
    expect(field.parse(1)).toBe(1);
    expect(field.parse(16)).toBe(16);
    const base = { antom: { baseUrl: 'https://open-sea-global.alipay.com', clientId: 'LIVE_1' }, encryption: { activeKeyId: 'k1', keys: { k1: 'x' } } };
    expect(parseConfig({ ...base, databasePoolSize: 3, databasePayInFlight: 3 }).databasePayInFlight).toBe(3);
    expect(() => parseConfig({ ...base, databasePoolSize: 3, databasePayInFlight: 4 })).toThrow(ConfigError);
    expect(() => parseConfig({ ...base, databasePoolSize: 3, databasePayInFlight: 4 })).toThrow(/at most databasePoolSize \(3\)[\s\S]*databasePayInFlight/u);
    // The default of 4 with a pool of 2 is refused too, not silently shrunk.
    expect(() => parseConfig({ ...base, databasePoolSize: 2 })).toThrow(/databasePayInFlight/u);
  });
});

describe.skipIf(skip !== undefined)('group commit of pay begins (postgres)', () => {
  if (skip) console.warn(skip);
  let s: Stack;
  let holder: pg.Client;
  const player = (name: string) => new TestDevice(s.launcher.baseUrl, s.launcher.creds, s.assertion(name), s.launcher.now);
  const on = (relay: Relay, name: string) => new TestDevice(relay.url, s.launcher.creds, s.assertion(name), s.launcher.now);
  const ownerLock = (name: string) => lockId(`owner:player:${name}`);
  const hold = (...names: string[]) => holder.query(`select ${names.map((_, i) => `pg_advisory_lock($${i + 1}::bigint)`).join(', ')}`, names.map(ownerLock));
  const release = (name: string) => holder.query('select pg_advisory_unlock($1::bigint)', [ownerLock(name)]);
  /** The statements in flight allowed per relay (config databasePayInFlight, 4 by default). */
  let slots: number;

  /**
   * Starts `count` pays of `name`, whose owner lock the test holds, on `relay`, one after the
   * other: each goes alone as a statement in flight and waits at that lock, so they fill slots.
   */
  async function occupy(relay: Relay, name: string, bindingId: string, count: number): Promise<Promise<JsonResponse>[]> {
    const before = await waitingLocks(holder);
    const pays: Promise<JsonResponse>[] = [];
    for (let i = 1; i <= count; i++) {
      pays.push(buy(on(relay, name), bindingId));
      await waitFor(async () => (await waitingLocks(holder)) === before + i, 10_000, `pay ${i} of ${name} at its lock`);
    }
    return pays;
  }

  beforeAll(async () => {
    // Up to twelve pays start at once here: more than the default of pays between validation and Antom call.
    s = await startStack('postgres', {
      spendingCaps: { HKD: { daily: '200.00' } },
      limits: { ...TEST_LIMITS, maxStartingPays: 32, perDevicePayBurst: 32 },
    });
    slots = s.relay.config.databasePayInFlight;
    holder = new pg.Client({ connectionString: s.db.databaseUrl });
    await holder.connect();
  });
  // A failed test must not leave the next one's pays behind a lock it held.
  afterEach(async () => {
    await holder.query('select pg_advisory_unlock_all()');
  });
  afterAll(async () => {
    await holder?.end();
    await s?.close();
  });

  it('pays arriving while every slot is in flight share one statement and commit, each answered right', async () => {
    const held = player('gc-held');
    const heldBinding = await bind(held, 'ALIPAY_HK');
    const capped = player('gc-cap');
    const cappedBinding = await bind(capped, 'ALIPAY_HK');
    const launcherBinding = await bind(s.launcher, 'ALIPAY_HK');
    const existing = uuid();
    expect((await buy(s.launcher, launcherBinding, 'gems-100', 1, existing)).body['state']).toBe('SUCCEEDED');
    // One request signed once and sent twice: the second carries a used nonce.
    const replayBody = JSON.stringify({ bindingId: launcherBinding, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
    const replayHeaders = s.launcher.sign('POST', '/v1/purchases', replayBody);

    const capture = captureBegins();
    try {
      await hold('gc-held');
      // The first pays go alone, one per slot, and wait at their spending lock; the next ones queue.
      const firsts = await occupy(s.relay, 'gc-held', heldBinding, slots);
      const r = s.relay;
      const answers = {
        accepted: await queue(r, () => buy(s.launcher, launcherBinding), 1),
        capFirst: await queue(r, () => buy(capped, cappedBinding, 'gems-1000', 2), 2),
        // 196.00 of the 200.00 daily cap is taken by the pay before it in the same batch.
        capSecond: await queue(r, () => buy(capped, cappedBinding, 'gems-100', 1), 3),
        nonceFirst: await queue(r, () => send(r.url, 'POST', '/v1/purchases', replayBody, replayHeaders), 4),
        nonceReplayed: await queue(r, () => send(r.url, 'POST', '/v1/purchases', replayBody, replayHeaders), 5),
        unknownBinding: await queue(r, () => buy(s.launcher, uuid()), 6),
        existing: await queue(r, () => buy(s.launcher, launcherBinding, 'gems-100', 1, existing), 7),
        conflict: await queue(r, () => buy(s.launcher, launcherBinding, 'gems-100', 3, existing), 8),
        perTransaction: await queue(r, () => buy(capped, cappedBinding, 'vault', 2), 9),
      };
      await release('gc-held');
      for (const res of await Promise.all(firsts)) expect(res.body['state']).toBe('SUCCEEDED');
      const a = Object.fromEntries(await Promise.all(Object.entries(answers).map(async ([k, p]) => [k, await p.answer] as const)));
      const code = (res: JsonResponse | undefined) => (res?.body['error'] as { code?: string } | undefined)?.code;
      expect(a['accepted']?.body['state']).toBe('SUCCEEDED');
      expect(a['capFirst']?.body).toMatchObject({ state: 'SUCCEEDED', total: { minor: 19600 } });
      expect(a['capSecond']?.body['state']).toBe('FAILED');
      expect(code(a['capSecond'])).toBe('SPENDING_CAP_DAILY');
      expect(a['nonceFirst']?.body['state']).toBe('SUCCEEDED');
      expect(a['nonceReplayed']?.status).toBe(409);
      expect(code(a['nonceReplayed'])).toBe('REQUEST_REPLAYED');
      expect(a['unknownBinding']?.status).toBe(404);
      expect(code(a['unknownBinding'])).toBe('BINDING_NOT_FOUND');
      expect(a['existing']?.body).toMatchObject({ purchaseIntentId: existing, state: 'SUCCEEDED' });
      expect(a['conflict']?.status).toBe(409);
      expect(code(a['conflict'])).toBe('IDEMPOTENCY_CONFLICT');
      expect(code(a['perTransaction'])).toBe('ABOVE_PER_TRANSACTION');
      // The held ones alone (one statement and commit each), then the nine in one.
      expect(capture.begins).toEqual([
        ...Array(slots).fill({ text: 'select relay_pay_begin($1::jsonb) as r', pays: 1 }),
        { text: 'select relay_pay_begin_many($1::jsonb) as r', pays: 9 },
      ]);
    } finally {
      capture.stop();
    }
  });

  it('one failing pay of a batch fails alone: its writes roll back, the others commit', async () => {
    const bindingId = await bind(player('gc-one'), 'ALIPAY_HK');
    const deviceId = s.launcher.creds.deviceId;
    const batcher = new PayBeginBatcher(s.relay.store, 32, 1);
    const nonce = () => `gc-${uuid()}`;
    const item = (fields: Record<string, unknown>) => ({ device_id: deviceId, seen_at: Date.now(), intent_id: uuid(), ...fields }) as unknown as PayBeginInput;
    const [n1, n2, n3] = [nonce(), nonce(), nonce()];
    const capture = captureBegins();
    try {
      const answers = await Promise.allSettled([
        batcher.begin(item({ device_id: 'no-such-device', nonce: nonce() })),
        batcher.begin(item({ nonce: n1, owner: 'player:gc-one', binding_id: uuid() })),
        // Fails after its nonce is written: a kiosk flag that is no boolean.
        batcher.begin(item({ nonce: n2, owner: 'player:gc-one', binding_id: bindingId, kiosk: 'maybe', payable: ['ACTIVE'], wallets: {} })),
        batcher.begin(item({ nonce: n3, owner: 'player:gc-one', binding_id: uuid() })),
      ]);
      expect(answers.map((x) => (x.status === 'fulfilled' ? x.value.outcome : String(x.reason)))).toEqual([
        'DEVICE_NOT_ENROLLED',
        'BINDING_NOT_FOUND',
        expect.stringMatching(/SQLSTATE 22P02/u),
        'BINDING_NOT_FOUND',
      ]);
      expect(capture.begins.map((b) => b.pays)).toEqual([1, 3]);
    } finally {
      capture.stop();
    }
    const stored = await holder.query<{ nonce: string }>('select nonce from nonces where nonce = any($1)', [[n1, n2, n3]]);
    expect(stored.rows.map((r) => r.nonce).sort()).toEqual([n1, n3].sort());
  });

  it('a batch whose statement fails answers none of its pays and commits none (no Antom call)', async () => {
    const held = player('gc-crash-held');
    const heldBinding = await bind(held, 'ALIPAY_HK');
    const inBatch = player('gc-crash');
    const batchBinding = await bind(inBatch, 'DANA');
    const paysBefore = ((await s.admin('GET', '/state')).body['payments'] as unknown[]).length;
    await hold('gc-crash-held', 'gc-crash');
    const firsts = await occupy(s.relay, 'gc-crash-held', heldBinding, slots);
    const intents = [uuid(), uuid(), uuid()];
    const pays: Promise<JsonResponse>[] = [];
    for (const [i, intent] of intents.entries()) pays.push((await queue(s.relay, () => buy(inBatch, batchBinding, 'gems-100', 1, intent), i + 1)).answer);
    await release('gc-crash-held');
    for (const res of await Promise.all(firsts)) expect(res.body['state']).toBe('SUCCEEDED');
    // The batch takes its locks before anything else, so it now waits for gc-crash's: the
    // relay's connection dies there, as in a crash of the database or the network.
    await waitFor(async () => (await waitingLocks(holder)) === 1, 10_000, 'the batch at its lock');
    // Only the backend running the batch now: pg_stat_activity keeps an idle connection's last
    // statement too, and an idle pooled connection that ran an earlier test's batch, terminated
    // here, could be the one the next pay below is handed (its FATAL still on the way on a loaded
    // machine) and answer 503 as well.
    const killed = await holder.query<{ n: number }>(
      "select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = current_database() and state = 'active' and query like 'select relay_pay_begin_many%'",
    );
    expect(killed.rows[0]?.n).toBe(1);
    // A lost database connection answers 503 (store-connection-loss.test.ts), and nothing of the batch is committed.
    for (const res of await Promise.all(pays)) expect(res.status).toBe(503);
    await release('gc-crash');
    const rows = await holder.query('select intent_id from purchases where intent_id = any($1)', [intents]);
    expect(rows.rows).toEqual([]);
    expect(((await s.admin('GET', '/state')).body['payments'] as unknown[]).length).toBe(paysBefore + slots);
    // The pool replaces the connection: the next pay goes through.
    const next = await buy(inBatch, batchBinding);
    expect(next.body['state'], JSON.stringify({ status: next.status, body: next.body })).toBe('SUCCEEDED');
  });

  it('a pay waiting at its lock does not hold up the pays of other accounts on the same relay', async () => {
    const heldBinding = await bind(player('hol-held'), 'ALIPAY_HK');
    const freeBinding = await bind(player('hol-free'), 'ALIPAY_HK');
    await hold('hol-held');
    const [heldPay] = await occupy(s.relay, 'hol-held', heldBinding, 1);
    // With one statement in flight per relay, this pay would queue behind the held one until the test let it go.
    const blocked = new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 10_000).unref());
    const free = await Promise.race([buy(player('hol-free'), freeBinding), blocked]);
    expect(free === 'blocked' ? free : free.body['state']).toBe('SUCCEEDED');
    expect(await waitingLocks(holder)).toBe(1);
    await release('hol-held');
    expect((await heldPay)?.body['state']).toBe('SUCCEEDED');
  });

  it('never has more statements in flight than databasePayInFlight; the rest go as batches', async () => {
    const names = ['fl-a', 'fl-b', 'fl-c'];
    const bindings = await Promise.all(names.map((n) => bind(player(n), 'ALIPAY_HK')));
    const batcher = s.relay.purchaseRepo.payBegins as PayBeginBatcher;
    const capture = captureBegins();
    try {
      await hold(...names);
      // Twelve pays at once, four per held owner.
      const pays = names.flatMap((n, i) => Array.from({ length: 4 }, () => buy(player(n), bindings[i] as string)));
      await waitFor(async () => batcher.queued === pays.length - slots, 10_000, 'every slot busy, the rest queued');
      expect(batcher.inFlight).toBe(slots);
      await holder.query('select pg_advisory_unlock_all()');
      for (const res of await Promise.all(pays)) expect(res.body['state']).toBe('SUCCEEDED');
      expect(capture.maxLive()).toBe(slots);
      expect(capture.begins.map((b) => b.pays)).toEqual([...Array(slots).fill(1), pays.length - slots]);
    } finally {
      capture.stop();
    }
  });

  /*
   * Two pays of one player (one owner, one account) in two batches in flight at once, together
   * above the 200.00 daily cap: both statements wait at the player's locks, the later one sums
   * the spending after the earlier one's commit, so exactly one of them passes.
   */
  it('two concurrent batches holding pays of one account keep its spending cap', async () => {
    const capBinding = await bind(player('sl-cap'), 'ALIPAY_HK');
    const slotBindings = await Promise.all(['sl-1', 'sl-2'].map((n) => bind(player(n), 'ALIPAY_HK')));
    const others = await Promise.all(['sl-z1', 'sl-z2'].map((n) => bind(player(n), 'ALIPAY_HK')));
    const capture = captureBegins();
    try {
      await hold('sl-1', 'sl-2', 'sl-cap');
      const firsts = [
        ...(await occupy(s.relay, 'sl-1', slotBindings[0] as string, 1)),
        ...(await occupy(s.relay, 'sl-2', slotBindings[1] as string, slots - 1)),
      ];
      const large = await queue(s.relay, () => buy(player('sl-cap'), capBinding, 'gems-1000', 2), 1);
      const z1 = await queue(s.relay, () => buy(player('sl-z1'), others[0] as string), 2);
      // sl-1's pay returns: the two queued go as batch 1 and wait at sl-cap's locks.
      await release('sl-1');
      await waitFor(async () => s.relay.purchaseRepo.payBegins?.queued === 0 && (await waitingLocks(holder)) === slots, 10_000, 'batch 1 at its lock');
      const small = await queue(s.relay, () => buy(player('sl-cap'), capBinding, 'gems-100', 1), 1);
      const z2 = await queue(s.relay, () => buy(player('sl-z2'), others[1] as string), 2);
      await release('sl-2');
      for (const res of await Promise.all(firsts)) expect(res.body['state']).toBe('SUCCEEDED');
      await waitFor(async () => (await waitingLocks(holder)) === 2, 10_000, 'both batches at the lock');
      expect(s.relay.purchaseRepo.payBegins?.inFlight).toBe(2);
      await release('sl-cap');
      const [l, sm] = [await large.answer, await small.answer];
      // 196.00 + 12.00 is above the cap: whichever commits second is refused.
      expect([l.body['state'], sm.body['state']].sort()).toEqual(['FAILED', 'SUCCEEDED']);
      const refused = l.body['state'] === 'FAILED' ? l : sm;
      expect((refused.body['error'] as { code?: string } | undefined)?.code).toBe('SPENDING_CAP_DAILY');
      expect((await z1.answer).body['state']).toBe('SUCCEEDED');
      expect((await z2.answer).body['state']).toBe('SUCCEEDED');
      const many = capture.begins.filter((b) => b.text.startsWith('select relay_pay_begin_many'));
      expect(many.map((b) => b.pays)).toEqual([2, 2]);
      expect(capture.maxLive()).toBeLessThanOrEqual(slots);
    } finally {
      capture.stop();
    }
    const spent = await holder.query<{ minor: string }>(
      "select coalesce(sum(amount_minor), 0) as minor from purchases where owner = 'player:sl-cap' and state = 'SUCCEEDED'",
    );
    expect(Number(spent.rows[0]?.minor)).toBeLessThanOrEqual(20000);
  });

  /*
   * Batch 1 on relay r1 holds [A, H, B] and batch 2 on r2 [B, H, A], both in flight at once,
   * with H's owner lock held from outside. Taking locks item by item, batch 1 would hold A's
   * locks and batch 2 B's, both wait for H, and once H is free each waits for the other: a
   * deadlock, one pay failing after PostgreSQL's deadlock_timeout. The batch takes all its locks
   * first in one global order, so one batch waits for the other and every pay passes. r1 and r2
   * are two relays, or one relay with two of its statements in flight.
   */
  async function crossingBatches(r1: Relay, r2: Relay, tag: string): Promise<void> {
    // The sandbox's seeded accounts: A on AlipayHK, B and H on DANA.
    const accounts = { a: '852-6123-8812', b: '62-812-3456-4321', h: '62-812-0000-0002' };
    const [x1, x2, a, b, h] = ['x1', 'x2', 'a', 'b', 'h'].map((n) => `${tag}-${n}`) as [string, string, string, string, string];
    const bindings: Record<string, string> = {
      [x1]: await bind(player(x1), 'ALIPAY_HK'),
      [x2]: await bind(player(x2), 'ALIPAY_HK'),
      [a]: await bind(player(a), 'ALIPAY_HK', accounts.a),
      [b]: await bind(player(b), 'DANA', accounts.b),
      [h]: await bind(player(h), 'DANA', accounts.h),
    };
    const pay = (relay: Relay, n: string) => () => buy(on(relay, n), bindings[n] as string);
    await hold(x1, x2, h);
    // Every slot of both relays busy: on one relay, x1 takes one slot and x2 the others.
    const [c1, c2] = r1 === r2 ? [1, slots - 1] : [slots, slots];
    const firsts1 = await occupy(r1, x1, bindings[x1] as string, c1);
    const firsts2 = await occupy(r2, x2, bindings[x2] as string, c2);
    const pays: Promise<JsonResponse>[] = [];
    for (const [i, n] of [a, h, b].entries()) pays.push((await queue(r1, pay(r1, n), i + 1)).answer);
    await release(x1);
    for (const res of await Promise.all(firsts1)) expect(res.body['state']).toBe('SUCCEEDED');
    await waitFor(async () => r1.purchaseRepo.payBegins?.queued === 0 && (await waitingLocks(holder)) === c2 + 1, 10_000, 'batch 1 in flight');
    for (const [i, n] of [b, h, a].entries()) pays.push((await queue(r2, pay(r2, n), i + 1)).answer);
    await release(x2);
    for (const res of await Promise.all(firsts2)) expect(res.body['state']).toBe('SUCCEEDED');
    await waitFor(async () => (await waitingLocks(holder)) === 2, 10_000, 'both batches waiting');
    if (r1 === r2) expect(r1.purchaseRepo.payBegins?.inFlight).toBe(2);
    await release(h);
    const answers = await Promise.all(pays);
    expect(answers.map((x) => x.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answers.map((x) => x.body['state'])).toEqual(Array(6).fill('SUCCEEDED'));
  }

  it('two batches of one relay in flight at once, locking crossing accounts, never deadlock', async () => {
    await crossingBatches(s.relay, s.relay, 'sr');
  });

  describe('two relays, two batches locking crossing accounts', () => {
    let other: Relay;
    beforeAll(async () => {
      const quiet = new Writable({ write: (_c, _e, done) => done() });
      other = await startRelay({ ...s.relay.config, port: 0, publicUrl: undefined }, { clock: s.clock, logDestination: quiet, manualWorker: true });
    });
    afterAll(async () => other?.close());

    it('never deadlock', async () => {
      await crossingBatches(s.relay, other, 'dl');
    });
  });
});
