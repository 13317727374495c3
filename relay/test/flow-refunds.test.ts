import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminCall } from './support/admin.ts';
import { engines, uuid } from './support/env.ts';
import { bind, type Stack, startStack, waitFor } from './support/stack.ts';

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`refunds against the sandbox (${engine.name})`, () => {
    if (engine.skip) console.warn(engine.skip);
    let s: Stack;
    let hk: string;
    const admin = (method: string, path: string, body?: unknown) => adminCall(s.relay.adminUrl, method, path, body);
    const pay = async (): Promise<string> => {
      const intent = uuid();
      const r = await s.kiosk.request('POST', '/v1/purchases', { bindingId: hk, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
      expect(r.body['state']).toBe('SUCCEEDED');
      return intent;
    };
    beforeAll(async () => {
      s = await startStack(engine.name, { admin: { token: ADMIN_TOKEN } });
      hk = await bind(s.kiosk, 'ALIPAY_HK');
    });
    afterEach(async () => {
      await s.admin('DELETE', '/faults');
    });
    afterAll(async () => s?.close());

    it('two partial refunds, then an over-refund is refused; idempotent on refundRequestId; visible to the buyer only', async () => {
      const intent = await pay();
      const first = await admin('POST', '/admin/v1/refunds', { refundRequestId: 'rf-a-1', purchaseIntentId: intent, amount: { currency: 'HKD', minor: 500 } });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ state: 'SUCCEEDED', amount: { currency: 'HKD', minor: 500 } });
      const second = await admin('POST', '/admin/v1/refunds', { refundRequestId: 'rf-a-2', purchaseIntentId: intent, amount: { currency: 'HKD', minor: 600 } });
      expect(second.body['state']).toBe('SUCCEEDED');
      const over = await admin('POST', '/admin/v1/refunds', { refundRequestId: 'rf-a-3', purchaseIntentId: intent, amount: { currency: 'HKD', minor: 200 } });
      expect(over.status).toBe(422);
      expect(over.body).toMatchObject({ error: { code: 'REFUND_EXCEEDS_PAID' } });
      const replay = await admin('POST', '/admin/v1/refunds', { refundRequestId: 'rf-a-1', purchaseIntentId: intent, amount: { currency: 'HKD', minor: 500 } });
      expect(replay.body).toMatchObject({ state: 'SUCCEEDED', version: first.body['version'] });
      const conflict = await admin('POST', '/admin/v1/refunds', {
        refundRequestId: 'rf-a-1',
        purchaseIntentId: intent,
        amount: { currency: 'HKD', minor: 100 },
      });
      expect(conflict.status).toBe(409);
      const sandbox = await s.admin('GET', '/state');
      const mine = (sandbox.body['refunds'] as { refundRequestId: string; status: string }[]).filter((r) => r.refundRequestId.startsWith('rf-a-'));
      expect(mine.map((r) => r.status).sort()).toEqual(['SUCCESS', 'SUCCESS']);
      const seen = await s.kiosk.request('GET', `/v1/purchases/${intent}/refunds`);
      expect((seen.body['refunds'] as { state: string }[]).map((r) => r.state)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      const other = await s.launcher.request('GET', `/v1/purchases/${intent}/refunds`);
      expect(other.status).toBe(404);
    });

    it('a full refund without an amount; a refund past 365 days is refused without calling Antom', async () => {
      const full = await pay();
      const r = await admin('POST', '/admin/v1/refunds', { refundRequestId: 'rf-b-1', purchaseIntentId: full });
      expect(r.body).toMatchObject({ state: 'SUCCEEDED', amount: { minor: 1200 } });
      const old = await pay();
      await s.relay.store.db
        .updateTable('purchases')
        .set({ paid_at: s.clock.now() - 366 * 86_400_000 })
        .where('intent_id', '=', old)
        .execute();
      const late = await admin('POST', '/admin/v1/refunds', { refundRequestId: 'rf-b-2', purchaseIntentId: old, amount: { currency: 'HKD', minor: 100 } });
      expect(late.status).toBe(422);
      expect(late.body).toMatchObject({ error: { code: 'REFUND_WINDOW_EXCEEDED' } });
      const sandbox = await s.admin('GET', '/state');
      expect((sandbox.body['refunds'] as { refundRequestId: string }[]).some((x) => x.refundRequestId === 'rf-b-2')).toBe(false);
    });

    it('notifyRefund settles an unknown refund; its duplicate changes nothing', async () => {
      const intent = await pay();
      await new Promise((r) => setTimeout(r, 200));
      const before = new Set((await s.relay.store.db.selectFrom('notifications').select('id').where('kind', '=', 'refund').execute()).map((n) => n.id));
      await s.admin('POST', '/faults', { endpoint: 'inquiryRefund', mode: '5xx', count: 1000 });
      await s.admin('POST', '/faults', { endpoint: 'refund', mode: 'U', count: 1, process: true });
      await s.admin('POST', '/notifications/faults', { mode: 'duplicate', count: 1 });
      const r = await admin('POST', '/admin/v1/refunds', { refundRequestId: 'rf-c-1', purchaseIntentId: intent, amount: { currency: 'HKD', minor: 300 } });
      // Antom answered U; the sandbox sends notifyRefund at once, which may land before this
      // answer is written, so the answer is PROCESSING or already SUCCEEDED. Either way only the
      // notification can settle it: every inquiryRefund fails (5xx) and the notes show 'applied'.
      expect(['PROCESSING', 'SUCCEEDED']).toContain(r.body['state']);
      const notes = await waitFor(
        async () => {
          const n = (await s.relay.store.db.selectFrom('notifications').selectAll().where('kind', '=', 'refund').execute()).filter((x) => !before.has(x.id));
          return n.length >= 2 ? n : undefined;
        },
        10_000,
        'two refund notifications',
      );
      expect(notes.map((n) => n.outcome).sort()).toEqual(['applied', 'duplicate']);
      const done = await admin('GET', '/admin/v1/refunds/rf-c-1');
      // One change for the settlement (unless it was already in the answer), none for the duplicate.
      const settledVersion = (r.body['version'] as number) + (r.body['state'] === 'SUCCEEDED' ? 0 : 1);
      expect(done.body).toMatchObject({ state: 'SUCCEEDED', version: settledVersion });
    });

    it('a refund Antom never received is re-sent with the same refundRequestId by the worker', async () => {
      const intent = await pay();
      await s.admin('POST', '/faults', { endpoint: 'refund', mode: '5xx', count: 1 });
      const r = await admin('POST', '/admin/v1/refunds', { refundRequestId: 'rf-d-1', purchaseIntentId: intent, amount: { currency: 'HKD', minor: 400 } });
      expect(r.body['state']).toBe('PROCESSING');
      await waitFor(
        async () => {
          const x = await admin('GET', '/admin/v1/refunds/rf-d-1');
          return x.body['state'] === 'SUCCEEDED' ? x : undefined;
        },
        10_000,
        'refund settled',
      );
      const sandbox = await s.admin('GET', '/state');
      expect((sandbox.body['refunds'] as { refundRequestId: string }[]).filter((x) => x.refundRequestId === 'rf-d-1')).toHaveLength(1);
    });

    it('a forged notifyRefund is refused and changes nothing', async () => {
      const res = await fetch(`${s.relay.url}/antom/notify/refund`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'client-id': 'SANDBOX_5YTEST0000000001',
          'request-time': new Date().toISOString(),
          signature: 'algorithm=RSA256,keyVersion=1,signature=AAAA',
        },
        body: JSON.stringify({ notifyType: 'REFUND_RESULT', refundRequestId: 'rf-d-1', refundStatus: 'FAIL', result: { resultStatus: 'F', resultCode: 'X' } }),
      });
      expect(res.status).toBe(401);
      const still = await admin('GET', '/admin/v1/refunds/rf-d-1');
      expect(still.body['state']).toBe('SUCCEEDED');
    });
  });
}
