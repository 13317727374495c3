import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { engines, uuid } from './support/env.ts';
import { bind, purchaseState, type Stack, startStack, waitFor } from './support/stack.ts';

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`payments with unknown outcomes (${engine.name})`, () => {
    if (engine.skip) console.warn(engine.skip);
    let s: Stack;
    let hk: string;
    let dana: string;
    beforeAll(async () => {
      s = await startStack(engine.name);
      hk = await bind(s.kiosk, 'ALIPAY_HK');
      dana = await bind(s.launcher, 'DANA');
    });
    afterEach(async () => {
      await s.admin('DELETE', '/faults');
    });
    afterAll(async () => s?.close());

    it('U then S: answers "checking", inquires, and settles SUCCEEDED once', async () => {
      await s.admin('POST', '/faults', { endpoint: 'pay', mode: 'U', count: 1, resolveAs: 'S', resolveAfterInquiries: 2 });
      const intent = uuid();
      const first = await s.kiosk.request('POST', '/v1/purchases', { bindingId: hk, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
      expect(first.body).toMatchObject({ state: 'PROCESSING', error: { code: 'PAYMENT_PENDING' } });
      const pending = await s.kiosk.request('GET', '/v1/purchases?pending=true');
      expect((pending.body['purchases'] as { purchaseIntentId: string }[]).map((p) => p.purchaseIntentId)).toContain(intent);
      const done = await purchaseState(s.kiosk, intent, 'SUCCEEDED');
      expect(done['error']).toBeUndefined();
      const after = await s.kiosk.request('GET', '/v1/purchases?pending=true');
      expect((after.body['purchases'] as unknown[]).length).toBe(0);
    });

    it('a timeout is an unknown, never a re-send: inquiry finds the payment the sandbox processed', async () => {
      await s.admin('POST', '/notifications/faults', { mode: 'withhold', count: 1 });
      await s.admin('POST', '/faults', { endpoint: 'pay', mode: 'timeout', count: 1, delayMs: 3_000 });
      const intent = uuid();
      const first = await s.kiosk.request('POST', '/v1/purchases', { bindingId: hk, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
      expect(first.body['state']).toBe('PROCESSING');
      await purchaseState(s.kiosk, intent, 'SUCCEEDED');
      await s.admin('POST', '/notifications/release');
      const state = await s.admin('GET', '/state');
      const mine = (state.body['payments'] as { paymentRequestId: string }[]).filter((p) => p.paymentRequestId.includes(intent.replace(/-/g, '')));
      expect(mine).toHaveLength(1);
    });

    it('U until expiry then cancel (AlipayHK)', async () => {
      await s.admin('POST', '/faults', { endpoint: 'pay', mode: 'U', count: 1, resolveAs: 'never' });
      const intent = uuid();
      const first = await s.kiosk.request('POST', '/v1/purchases', { bindingId: hk, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
      expect(first.body['state']).toBe('PROCESSING');
      const row = await waitFor(
        async () => {
          const r = await s.relay.store.db.selectFrom('purchases').selectAll().where('intent_id', '=', intent).executeTakeFirst();
          return r && r.inquiries >= 2 ? r : undefined;
        },
        10_000,
        'inquiries',
      );
      expect(row.state).toBe('PROCESSING');
      s.clock.advance(61_000);
      const done = await purchaseState(s.kiosk, intent, 'CANCELLED');
      expect(done['error']).toMatchObject({ code: 'PAYMENT_CANCELLED' });
    });

    it('DANA unresolved past expiry: no cancel, reported, inquired until Antom closes it', async () => {
      await s.admin('POST', '/faults', { endpoint: 'pay', mode: 'U', count: 1, resolveAs: 'never' });
      const intent = uuid();
      const first = await s.launcher.request('POST', '/v1/purchases', { bindingId: dana, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
      expect(first.body['state']).toBe('PROCESSING');
      s.clock.advance(61_000);
      const reported = await waitFor(
        async () => {
          const r = await s.relay.store.db.selectFrom('purchases').selectAll().where('intent_id', '=', intent).executeTakeFirst();
          return r?.unresolved_reported_at ? r : undefined;
        },
        10_000,
        'unresolved report',
      );
      expect(reported.state).toBe('PROCESSING');
      expect(reported.cancel_attempts).toBe(0);
      expect(s.logs.some((l) => l.includes('cannot be cancelled') && l.includes(intent))).toBe(true);
      const still = await s.launcher.request('GET', `/v1/purchases/${intent}`);
      expect(still.body).toMatchObject({ state: 'PROCESSING', error: { code: 'PAYMENT_PENDING' } });
      await s.admin('POST', '/clock', { advanceMs: 61_000 });
      const done = await purchaseState(s.launcher, intent, 'FAILED');
      expect(done['error']).toMatchObject({ code: 'PAYMENT_FAILED' });
    });

    it('notifyPayment settles what inquiry could not', async () => {
      await s.admin('POST', '/faults', { endpoint: 'inquiryPayment', mode: '5xx', count: 1000 });
      await s.admin('POST', '/faults', { endpoint: 'pay', mode: 'U', count: 1, resolveAs: 'S', resolveAfterMs: 300 });
      const intent = uuid();
      const first = await s.kiosk.request('POST', '/v1/purchases', { bindingId: hk, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
      expect(first.body['state']).toBe('PROCESSING');
      await purchaseState(s.kiosk, intent, 'SUCCEEDED');
      const notes = await s.relay.store.db.selectFrom('notifications').selectAll().where('kind', '=', 'payment').where('outcome', '=', 'applied').execute();
      expect(notes.length).toBeGreaterThan(0);
    });

    it('duplicate and out-of-order notifications change nothing', async () => {
      await s.admin('POST', '/notifications/faults', { mode: 'duplicate', count: 4 });
      await s.admin('POST', '/notifications/faults', { mode: 'withhold', count: 2 });
      const a = uuid();
      const b = uuid();
      for (const intent of [a, b]) {
        const r = await s.kiosk.request('POST', '/v1/purchases', { bindingId: hk, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
        expect(r.body['state']).toBe('SUCCEEDED');
      }
      await s.admin('POST', '/notifications/faults', { mode: 'reorder', count: 4 });
      await s.admin('POST', '/notifications/release');
      await waitFor(
        async () => {
          const n = await s.relay.store.db.selectFrom('notifications').selectAll().where('outcome', '=', 'duplicate').execute();
          return n.length >= 2 ? n : undefined;
        },
        10_000,
        'duplicate notifications',
      );
      for (const intent of [a, b]) {
        const r = await s.kiosk.request('GET', `/v1/purchases/${intent}`);
        expect(r.body).toMatchObject({ state: 'SUCCEEDED', version: 2 });
      }
    });

    it('a relay restart resumes an unsettled purchase from the database', async () => {
      await s.admin('POST', '/faults', { endpoint: 'pay', mode: 'U', count: 1, resolveAs: 'S', resolveAfterInquiries: 1 });
      await s.relay.worker.stop();
      const intent = uuid();
      const first = await s.kiosk.request('POST', '/v1/purchases', { bindingId: hk, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
      expect(first.body['state']).toBe('PROCESSING');
      s.relay.worker.start();
      await purchaseState(s.kiosk, intent, 'SUCCEEDED');
    });
  });
}
