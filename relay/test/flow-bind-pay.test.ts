import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockId } from '../src/payments/purchase-repo.ts';
import { engines, uuid } from './support/env.ts';
import { enroll, TestDevice } from './support/client.ts';
import { approveOnPhone, bind, type Stack, startStack, waitFor } from './support/stack.ts';

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`bind and pay against the sandbox (${engine.name})`, () => {
    if (engine.skip) console.warn(engine.skip);
    let s: Stack;
    beforeAll(async () => {
      s = await startStack(engine.name, { spendingCaps: { HKD: { daily: '200.00', monthly: '1000.00' } } });
    });
    afterAll(async () => s?.close());

    it('binds AlipayHK on a kiosk: QR, phone approval, applyToken, ACTIVE with a masked account', async () => {
      const started = await s.kiosk.request('POST', '/v1/bindings', { wallet: 'ALIPAY_HK' });
      expect(started.status).toBe(201);
      expect(started.body).toMatchObject({ state: 'QR_SHOWN', wallet: 'ALIPAY_HK', refreshesLeft: 3 });
      expect(String(started.body['codeValue'])).toContain('/wallet/scan/');
      expect(Date.parse(String(started.body['codeExpiresAt']))).toBeGreaterThan(Date.now() + 14 * 60_000);
      const id = String(started.body['bindingId']);
      const waiting = s.kiosk.request('GET', `/v1/bindings/${id}?waitForChange=${started.body['version']}`);
      expect(await approveOnPhone(String(started.body['codeValue']))).toBeLessThan(300);
      const changed = await waiting;
      expect(['AUTHORIZED', 'ACTIVE']).toContain(changed.body['state']);
      const active = await waitFor(async () => {
        const r = await s.kiosk.request('GET', '/v1/bindings/current');
        return r.body['state'] === 'ACTIVE' ? r.body : undefined;
      });
      expect(active).toMatchObject({ bindingId: id, maskedAccount: '••••8812' });
      expect(active['codeValue']).toBeUndefined();
      expect(JSON.stringify(active)).not.toMatch(/token/i);
    });

    it('pays S: priced from the catalogue, one intent = one purchase', async () => {
      const bindingId = await bind(s.launcher, 'ALIPAY_HK');
      const intent = uuid();
      const body = { bindingId, sku: 'gems-100', quantity: 2, purchaseIntentId: intent };
      const paid = await s.launcher.request('POST', '/v1/purchases', body);
      expect(paid.status).toBe(200);
      expect(paid.body).toMatchObject({ purchaseIntentId: intent, state: 'SUCCEEDED', total: { currency: 'HKD', minor: 2400 } });
      const again = await s.launcher.request('POST', '/v1/purchases', body);
      expect(again.body).toMatchObject({ state: 'SUCCEEDED', version: paid.body['version'] });
      const conflict = await s.launcher.request('POST', '/v1/purchases', { ...body, quantity: 3 });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toMatchObject({ error: { code: 'IDEMPOTENCY_CONFLICT' } });
      const state = await s.admin('GET', '/state');
      const payments = (state.body['payments'] as { paymentRequestId: string }[]).filter((p) => p.paymentRequestId.includes(intent.replace(/-/g, '')));
      expect(payments).toHaveLength(1);
    });

    it('refuses a studio spending cap before calling pay', async () => {
      const bindingId = await bind(s.kiosk, 'ALIPAY_HK');
      const first = await s.kiosk.request('POST', '/v1/purchases', { bindingId, sku: 'gems-1000', quantity: 2, purchaseIntentId: uuid() });
      expect(first.body['state']).toBe('SUCCEEDED');
      const capped = await s.kiosk.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
      expect(capped.body).toMatchObject({ state: 'FAILED', error: { code: 'SPENDING_CAP_DAILY' } });
    });

    it('a refused pay is kept as a FAILED row: its intent replays the same answer, copies at once leave one row, another body conflicts', async () => {
      const player = new TestDevice(s.launcher.baseUrl, s.launcher.creds, s.assertion('copies'), s.launcher.now);
      const bindingId = await bind(player, 'ALIPAY_HK');
      const body = { bindingId, sku: 'vault', quantity: 2, purchaseIntentId: uuid() };
      // Eight copies of one refused request at once (each its own nonce): one row, one answer.
      const answers = await Promise.all(Array.from({ length: 8 }, () => player.request('POST', '/v1/purchases', body)));
      for (const a of answers)
        expect(a.body).toMatchObject({ purchaseIntentId: body.purchaseIntentId, state: 'FAILED', version: 1, error: { code: 'ABOVE_PER_TRANSACTION' } });
      const rows = await s.relay.store.db.selectFrom('purchases').selectAll().where('intent_id', '=', body.purchaseIntentId).execute();
      expect(rows).toMatchObject([{ state: 'FAILED', error_code: 'ABOVE_PER_TRANSACTION', next_check_at: null, lease_until: null, submitted_at: null }]);
      const again = await player.request('POST', '/v1/purchases', body);
      expect(again.body).toEqual(answers[0]?.body);
      const conflict = await player.request('POST', '/v1/purchases', { ...body, quantity: 1 });
      expect(conflict.body).toMatchObject({ error: { code: 'IDEMPOTENCY_CONFLICT' } });
      // Eight copies of one accepted request at once: one payment at Antom.
      const paid = { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() };
      const copies = await Promise.all(Array.from({ length: 8 }, () => player.request('POST', '/v1/purchases', paid)));
      for (const c of copies) expect(c.body).toMatchObject({ purchaseIntentId: paid.purchaseIntentId });
      expect(copies.some((c) => c.body['state'] === 'SUCCEEDED')).toBe(true);
      const state = await s.admin('GET', '/state');
      const payments = (state.body['payments'] as { paymentRequestId: string }[]).filter((p) =>
        p.paymentRequestId.includes(paid.purchaseIntentId.replace(/-/g, '')),
      );
      expect(payments).toHaveLength(1);
    });

    it('a device disabled after its credentials were cached: its next pay is DEVICE_NOT_ENROLLED and writes nothing', async () => {
      const code = await s.relay.devices.createEnrollmentCode({ label: 'Launcher 2', kind: 'launcher', lifetimeMs: 60_000 });
      const creds = await enroll(s.relay.url, code.code);
      const device = new TestDevice(s.relay.url, creds, s.assertion('disabled-later', creds.deviceId), s.launcher.now);
      const bindingId = await bind(device, 'ALIPAY_HK');
      const ok = await device.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
      expect(ok.body['state']).toBe('SUCCEEDED');
      await s.relay.devices.disable(creds.deviceId);
      const nonces = async () => (await s.relay.store.db.selectFrom('nonces').select('nonce').where('device_id', '=', creds.deviceId).execute()).length;
      const before = await nonces();
      const intent = uuid();
      const refused = await device.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ error: { code: 'DEVICE_NOT_ENROLLED' } });
      expect(await nonces()).toBe(before);
      expect(await s.relay.store.db.selectFrom('purchases').select('intent_id').where('intent_id', '=', intent).execute()).toEqual([]);
    });

    it('concurrent pays of one player cannot overshoot the daily cap together (the spending lock)', async () => {
      const player = new TestDevice(s.launcher.baseUrl, s.launcher.creds, s.assertion('cap-race'), s.launcher.now);
      const bindingId = await bind(player, 'ALIPAY_HK');
      // Cap 200.00 HKD a day; 98.00 each: at most two of eight simultaneous pays may pass.
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => player.request('POST', '/v1/purchases', { bindingId, sku: 'gems-1000', quantity: 1, purchaseIntentId: uuid() })),
      );
      const states = answers.map((a) => a.body['state']);
      expect(states.filter((x) => x === 'SUCCEEDED')).toHaveLength(2);
      expect(answers.filter((a) => (a.body['error'] as { code?: string } | undefined)?.code === 'SPENDING_CAP_DAILY')).toHaveLength(6);
    });

    // A pay's checks take a few milliseconds, so eight requests rarely overlap by themselves: here
    // the player's spending lock is held from outside until all eight wait for it. Without the
    // lock (or with other lock ids than lockId's) all eight would read 0 spent and pass; the
    // ones in flight at once pass one by one only if each waits for the commits before it, and
    // the ones of one batch only if each sees the ones before it in the same transaction.
    if (engine.name === 'postgres')
      it('on PostgreSQL, eight pays held at the spending lock pass one at a time: exactly two', async () => {
        const player = new TestDevice(s.launcher.baseUrl, s.launcher.creds, s.assertion('cap-held'), s.launcher.now);
        const bindingId = await bind(player, 'ALIPAY_HK');
        const holder = new pg.Client({ connectionString: s.db.databaseUrl });
        await holder.connect();
        try {
          await holder.query('begin');
          await holder.query('select pg_advisory_xact_lock($1::bigint)', [lockId('owner:player:cap-held')]);
          const answers = Promise.all(
            Array.from({ length: 8 }, () => player.request('POST', '/v1/purchases', { bindingId, sku: 'gems-1000', quantity: 1, purchaseIntentId: uuid() })),
          );
          await waitFor(
            async () => {
              // This database's only: other test files' databases share the server.
              const r = await holder.query<{ n: string }>(
                "select count(*) as n from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())",
              );
              // The first pays' begins, one per statement slot (databasePayInFlight), wait at the
              // lock; the others wait for a slot and then go as one batch (group commit,
              // payments/pay-batch-repo.ts).
              const slots = s.relay.config.databasePayInFlight;
              return Number(r.rows[0]?.n) === slots && s.relay.purchaseRepo.payBegins?.queued === 8 - slots;
            },
            10_000,
            'eight pays waiting for the spending lock',
          );
          await holder.query('commit');
          const states = (await answers).map((a) => a.body['state']);
          expect(states.filter((x) => x === 'SUCCEEDED')).toHaveLength(2);
          expect(states.filter((x) => x === 'FAILED')).toHaveLength(6);
        } finally {
          await holder.end();
        }
      });

    it('refuses the wallet per-transaction limit of shared/domain, and maps a wallet-side limit from Antom', async () => {
      const bindingId = await bind(s.kiosk, 'ALIPAY_HK');
      const over = await s.kiosk.request('POST', '/v1/purchases', { bindingId, sku: 'vault', quantity: 2, purchaseIntentId: uuid() });
      expect(over.body).toMatchObject({ state: 'FAILED', error: { code: 'ABOVE_PER_TRANSACTION' } });
      const dana = await bind(s.kiosk, 'DANA', '62-812-0000-0002');
      await s.admin('POST', '/accounts/balance', { loginId: '62-812-0000-0002', balance: { currency: 'IDR', value: '5000000000' } });
      const walletSide = await s.kiosk.request('POST', '/v1/purchases', { bindingId: dana, sku: 'vault', quantity: 1, purchaseIntentId: uuid() });
      expect(walletSide.body).toMatchObject({ state: 'FAILED', error: { code: 'WALLET_LIMIT_REACHED' } });
    });
  });
}
