import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminVerb } from '../src/admin/admin-cli.ts';
import { ADMIN_TOKEN, adminCall } from './support/admin.ts';
import { enroll, TestDevice } from './support/client.ts';
import { engines, uuid } from './support/env.ts';
import { bind, type Stack, startStack } from './support/stack.ts';

const customs = { customsCode: 'HANGZHOU', region: 'CN' };
const merchantCustomsInfo = { merchantCustomsCode: 'MC-001', merchantCustomsName: 'Demo Games Ltd' };

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`admin API, CLI and declarations (${engine.name})`, () => {
    if (engine.skip) console.warn(engine.skip);
    let s: Stack;
    let hk: string;
    let intent: string;
    const admin = (method: string, path: string, body?: unknown) => adminCall(s.relay.adminUrl, method, path, body);
    /** POST /admin/v1/declarations of `minor` fen for one payment, with the shared customs fields; `more` adds or overrides fields. */
    const declare = (declarationRequestId: string, purchaseIntentId: string, minor: number, more: Record<string, unknown> = {}) =>
      admin('POST', '/admin/v1/declarations', {
        declarationRequestId,
        purchaseIntentId,
        declarationAmount: { currency: 'CNY', minor },
        customs,
        merchantCustomsInfo,
        splitOrder: false,
        ...more,
      });
    beforeAll(async () => {
      s = await startStack(engine.name, { admin: { token: ADMIN_TOKEN } });
      hk = await bind(s.kiosk, 'ALIPAY_HK');
      intent = uuid();
      const r = await s.kiosk.request('POST', '/v1/purchases', { bindingId: hk, sku: 'gems-1000', quantity: 1, purchaseIntentId: intent });
      expect(r.body['state']).toBe('SUCCEEDED');
    });
    afterAll(async () => s?.close());

    it('refuses missing and wrong tokens and any device credential', async () => {
      expect((await adminCall(s.relay.adminUrl, 'GET', '/admin/v1/payments', undefined, { token: null })).status).toBe(401);
      expect((await adminCall(s.relay.adminUrl, 'GET', '/admin/v1/payments', undefined, { token: `${ADMIN_TOKEN}x` })).status).toBe(401);
      // A signed device request on the public listener does not even find the admin API.
      const signed = await s.kiosk.request('GET', '/admin/v1/payments');
      expect(signed.status).toBe(404);
      const both = await adminCall(s.relay.adminUrl, 'GET', '/admin/v1/payments', undefined, { headers: s.kiosk.sign('GET', '/admin/v1/payments', '') });
      expect(both.status).toBe(401);
      const asBearer = await adminCall(s.relay.adminUrl, 'GET', '/admin/v1/payments', undefined, { token: s.kiosk.creds.deviceSecret });
      expect(asBearer.status).toBe(401);
    });

    it('lists and searches payments and bindings without secrets', async () => {
      const found = await admin('GET', `/admin/v1/payments?q=${intent}`);
      expect(found.body['payments']).toEqual([
        expect.objectContaining({ purchaseIntentId: intent, state: 'SUCCEEDED', total: { currency: 'HKD', minor: 9800 } }),
      ]);
      const detail = await admin('GET', `/admin/v1/payments/${intent}`);
      expect(detail.body).toMatchObject({ payment: { purchaseIntentId: intent }, refunds: [], declarations: [] });
      const bindings = await admin('GET', `/admin/v1/bindings?q=${hk}`);
      expect(bindings.body['bindings']).toEqual([expect.objectContaining({ bindingId: hk, state: 'ACTIVE', maskedAccount: '••••8812' })]);
      expect(JSON.stringify(bindings.body)).not.toMatch(/token_enc|accessToken"/u);
    });

    it('the CLI verbs mirror the API (refund, payments)', async () => {
      const out: string[] = [];
      const target = { url: s.relay.adminUrl, token: ADMIN_TOKEN };
      const code = await runAdminVerb(
        'refund',
        [intent],
        new Map([
          ['amount', '1.50'],
          ['id', 'rf-cli-1'],
        ]),
        target,
        (l) => out.push(l),
      );
      expect(code).toBe(0);
      expect(JSON.parse(out.join('\n'))).toMatchObject({ refundRequestId: 'rf-cli-1', state: 'SUCCEEDED', amount: { currency: 'HKD', minor: 150 } });
      out.length = 0;
      expect(await runAdminVerb('refunds', [], new Map([['purchase', intent]]), target, (l) => out.push(l))).toBe(0);
      expect(JSON.parse(out.join('\n'))['refunds']).toHaveLength(1);
      expect(await runAdminVerb('payment', [uuid()], new Map(), target, () => undefined)).toBe(1);
    });

    it('declares an AlipayHK payment, refuses DANA and over-declaration, inquires', async () => {
      const ok = await declare('dc-1', intent, 5000, {
        buyerCertificate: { certificateType: 'ID_CARD', certificateNo: '110101199003070000', holderName: { fullName: 'Chan Tai Man' } },
      });
      expect(ok.status).toBe(201);
      expect(ok.body).toMatchObject({ declarationRequestId: 'dc-1', state: 'ACCEPTED', declarationAmount: { currency: 'CNY', minor: 5000 } });
      expect(JSON.stringify(ok.body)).not.toContain('110101199003070000');
      const over = await declare('dc-2', intent, 5000);
      expect(over.status).toBe(400);
      expect(over.body).toMatchObject({ error: { code: 'INVALID_MONEY' } });
      const dana = await bind(s.launcher, 'DANA');
      const danaIntent = uuid();
      const paid = await s.launcher.request('POST', '/v1/purchases', { bindingId: dana, sku: 'gems-100', quantity: 1, purchaseIntentId: danaIntent });
      expect(paid.body['state']).toBe('SUCCEEDED');
      const refused = await declare('dc-3', danaIntent, 100);
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({ error: { code: 'WALLET_NOT_AVAILABLE' } });
      const split = await declare('dc-4', intent, 100, { splitOrder: true });
      expect(split.status).toBe(400);
      const inquiry = await admin('POST', '/admin/v1/declarations/inquiry', { declarationRequestIds: ['dc-1', 'dc-unknown'] });
      expect(inquiry.body).toMatchObject({
        declarations: [{ declarationRequestId: 'dc-1', state: 'ACCEPTED', customsStatus: 'SUCCESS/SUCCESS' }],
        notFound: ['dc-unknown'],
      });
    });

    it('enrols and disables devices, revokes a binding', async () => {
      const minted = await admin('POST', '/admin/v1/devices', { label: 'Kiosk 99', kind: 'kiosk' });
      expect(minted.status).toBe(201);
      const creds = await enroll(s.relay.url, String(minted.body['code']));
      const device = new TestDevice(s.relay.url, creds, undefined, () => s.clock.now());
      expect((await device.request('GET', '/v1/wallets')).status).toBe(200);
      const listed = await admin('GET', '/admin/v1/devices');
      expect((listed.body['devices'] as { deviceId: string }[]).some((d) => d.deviceId === creds.deviceId)).toBe(true);
      expect(JSON.stringify(listed.body)).not.toMatch(/secret/iu);
      const disabled = await admin('POST', `/admin/v1/devices/${creds.deviceId}/disable`, {});
      expect(disabled.body['disabledAt']).toBeTypeOf('string');
      const after = await device.request('GET', '/v1/wallets');
      expect(after.status).toBe(401);
      const revoked = await admin('POST', `/admin/v1/bindings/${hk}/revoke`, {});
      expect(revoked.body['state']).toBe('REVOKED');
      const seen = await s.kiosk.request('GET', `/v1/bindings/${hk}`);
      expect(seen.body['state']).toBe('REVOKED');
    });
  });
}
