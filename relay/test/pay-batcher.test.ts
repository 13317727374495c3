import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config.ts';
import { type Relay, startRelay } from '../src/index.ts';
import { PayBeginBatcher } from '../src/payments/pay-batcher.ts';
import { lockId, type PayBeginInput } from '../src/payments/purchase-repo.ts';
import { type JsonResponse, send, TestDevice } from './support/client.ts';
import { engines, TEST_LIMITS, uuid } from './support/env.ts';
import { bind, type Stack, startStack, waitFor } from './support/stack.ts';

/*
 * Group commit of pay begins on PostgreSQL (issue 17; payments/pay-batcher.ts,
 * store/migrations-0008.ts): pays arriving while a begin is in flight go together as one
 * relay_pay_begin_many statement and one commit, each answered as if alone.
 */

const postgres = engines().find((e) => e.name === 'postgres');
const skip = postgres?.skip;

/** The pay-begin statements this process sends, with the number of pays each carries. */
function captureBegins(): { begins: { text: string; pays: number }[]; stop(): void } {
  const begins: { text: string; pays: number }[] = [];
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string; values?: unknown[] };
    const text = typeof first === 'string' ? first : (first?.text ?? '');
    const values = (typeof first === 'string' ? args[1] : first?.values) as unknown[] | undefined;
    if (text.startsWith('select relay_pay_begin')) {
      const param = JSON.parse(String(values?.[0])) as unknown;
      begins.push({ text, pays: Array.isArray(param) ? param.length : 1 });
    }
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  return {
    begins,
    stop() {
      pg.Client.prototype.query = query;
    },
  };
}

/** How many advisory lock requests wait (not granted) on the server. */
async function waitingLocks(client: pg.Client): Promise<number> {
  const r = await client.query<{ n: string }>("select count(*) as n from pg_locks where locktype = 'advisory' and not granted");
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
});

describe.skipIf(skip !== undefined)('group commit of pay begins (postgres)', () => {
  if (skip) console.warn(skip);
  let s: Stack;
  let holder: pg.Client;
  const player = (name: string) => new TestDevice(s.launcher.baseUrl, s.launcher.creds, s.assertion(name), s.launcher.now);
  const ownerLock = (name: string) => lockId(`owner:player:${name}`);

  beforeAll(async () => {
    // Ten pays start at once here: more than the default of pays between validation and Antom call.
    s = await startStack('postgres', { spendingCaps: { HKD: { daily: '200.00' } }, limits: { ...TEST_LIMITS, maxStartingPays: 32 } });
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

  it('pays arriving while a begin is in flight share one statement and commit, each answered right', async () => {
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
      await holder.query('select pg_advisory_lock($1::bigint)', [ownerLock('gc-held')]);
      // The first pay goes alone and waits at its spending lock; the next ones queue behind it.
      const first = buy(held, heldBinding);
      await waitFor(async () => (await waitingLocks(holder)) === 1, 10_000, 'the first pay at its lock');
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
      await holder.query('select pg_advisory_unlock($1::bigint)', [ownerLock('gc-held')]);
      expect((await first).body['state']).toBe('SUCCEEDED');
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
      // Ten pays, two begin statements (so two commits): the held one alone, then nine in one.
      expect(capture.begins).toEqual([
        { text: 'select relay_pay_begin($1::jsonb) as r', pays: 1 },
        { text: 'select relay_pay_begin_many($1::jsonb) as r', pays: 9 },
      ]);
    } finally {
      capture.stop();
    }
  });

  it('one failing pay of a batch fails alone: its writes roll back, the others commit', async () => {
    const bindingId = await bind(player('gc-one'), 'ALIPAY_HK');
    const deviceId = s.launcher.creds.deviceId;
    const batcher = new PayBeginBatcher(s.relay.store, 32);
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
    await holder.query('select pg_advisory_lock($1::bigint), pg_advisory_lock($2::bigint)', [ownerLock('gc-crash-held'), ownerLock('gc-crash')]);
    const first = buy(held, heldBinding);
    await waitFor(async () => (await waitingLocks(holder)) === 1, 10_000, 'the first pay at its lock');
    const intents = [uuid(), uuid(), uuid()];
    const pays: Promise<JsonResponse>[] = [];
    for (const [i, intent] of intents.entries()) pays.push((await queue(s.relay, () => buy(inBatch, batchBinding, 'gems-100', 1, intent), i + 1)).answer);
    await holder.query('select pg_advisory_unlock($1::bigint)', [ownerLock('gc-crash-held')]);
    expect((await first).body['state']).toBe('SUCCEEDED');
    // The batch takes its locks before anything else, so it now waits for gc-crash's: the
    // relay's connection dies there, as in a crash of the database or the network.
    await waitFor(async () => (await waitingLocks(holder)) === 1, 10_000, 'the batch at its lock');
    await holder.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query like 'select relay_pay_begin_many%'",
    );
    // A lost database connection answers 503 (store-connection-loss.test.ts), and nothing of the batch is committed.
    for (const res of await Promise.all(pays)) expect(res.status).toBe(503);
    await holder.query('select pg_advisory_unlock($1::bigint)', [ownerLock('gc-crash')]);
    const rows = await holder.query('select intent_id from purchases where intent_id = any($1)', [intents]);
    expect(rows.rows).toEqual([]);
    expect(((await s.admin('GET', '/state')).body['payments'] as unknown[]).length).toBe(paysBefore + 1);
    // The pool replaces the connection: the next pay goes through.
    expect((await buy(inBatch, batchBinding)).body['state']).toBe('SUCCEEDED');
  });

  describe('two relays, two batches locking crossing accounts', () => {
    let other: Relay;
    beforeAll(async () => {
      const quiet = new Writable({ write: (_c, _e, done) => done() });
      other = await startRelay({ ...s.relay.config, port: 0, publicUrl: undefined }, { clock: s.clock, logDestination: quiet, manualWorker: true });
    });
    afterAll(async () => other?.close());

    /*
     * Relay 1 batches [A, H, B] and relay 2 [B, H, A], with H's owner lock held from outside.
     * Taking locks item by item, batch 1 would hold A's locks and batch 2 B's, both wait for H,
     * and once H is free each waits for the other: a deadlock, one pay failing after
     * PostgreSQL's deadlock_timeout. The batch takes all its locks first in one global order,
     * so one batch waits for the other and every pay passes.
     */
    it('never deadlock', async () => {
      const names = ['dl-x', 'dl-a', 'dl-b', 'dl-h'] as const;
      const accounts = { 'dl-x': undefined, 'dl-a': '852-6123-8812', 'dl-b': '62-812-3456-4321', 'dl-h': '62-812-0000-0002' } as const;
      const wallets = { 'dl-x': 'ALIPAY_HK', 'dl-a': 'ALIPAY_HK', 'dl-b': 'DANA', 'dl-h': 'DANA' } as const;
      const bindings: Record<string, string> = {};
      for (const n of names) bindings[n] = await bind(player(n), wallets[n], accounts[n]);
      const on = (relay: Relay, n: (typeof names)[number]) => () =>
        buy(new TestDevice(relay.url, s.launcher.creds, s.assertion(n), s.launcher.now), bindings[n] as string);

      await holder.query('select pg_advisory_lock($1::bigint), pg_advisory_lock($2::bigint)', [ownerLock('dl-x'), ownerLock('dl-h')]);
      const firsts = [on(s.relay, 'dl-x')()];
      await waitFor(async () => (await waitingLocks(holder)) === 1, 10_000, 'relay 1 in flight');
      firsts.push(on(other, 'dl-x')());
      await waitFor(async () => (await waitingLocks(holder)) === 2, 10_000, 'relay 2 in flight');
      const pays: Promise<JsonResponse>[] = [];
      for (const [i, n] of (['dl-a', 'dl-h', 'dl-b'] as const).entries()) pays.push((await queue(s.relay, on(s.relay, n), i + 1)).answer);
      for (const [i, n] of (['dl-b', 'dl-h', 'dl-a'] as const).entries()) pays.push((await queue(other, on(other, n), i + 1)).answer);
      await holder.query('select pg_advisory_unlock($1::bigint)', [ownerLock('dl-x')]);
      for (const res of await Promise.all(firsts)) expect(res.body['state']).toBe('SUCCEEDED');
      await waitFor(async () => (await waitingLocks(holder)) === 2, 10_000, 'both batches waiting');
      await holder.query('select pg_advisory_unlock($1::bigint)', [ownerLock('dl-h')]);
      const answers = await Promise.all(pays);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(answers.map((a) => a.body['state'])).toEqual(Array(6).fill('SUCCEEDED'));
    });
  });
});
