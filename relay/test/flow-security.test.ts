import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHeader, signBase64, signContent } from '../src/antom/signature.ts';
import { enroll, send, TestDevice } from './support/client.ts';
import { engines, uuid } from './support/env.ts';
import { bind, type Stack, startStack } from './support/stack.ts';

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`client and notification security (${engine.name})`, () => {
    if (engine.skip) console.warn(engine.skip);
    let s: Stack;
    let bindingId: string;
    beforeAll(async () => {
      s = await startStack(engine.name);
      bindingId = await bind(s.kiosk, 'ALIPAY_HK');
    });
    afterAll(async () => s?.close());

    const counts = async () => ({
      purchases: (await s.relay.store.db.selectFrom('purchases').select('intent_id').execute()).length,
      nonces: (await s.relay.store.db.selectFrom('nonces').select('nonce').execute()).length,
    });
    const expectRejected = async (res: { status: number; body: Record<string, unknown> }, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect(res.body).toMatchObject({ error: { code } });
    };

    it('rejects tampered requests (amount added, sku changed after signing) and records nothing', async () => {
      const before = await counts();
      const body = { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() };
      const addAmount = (b: string) => b.replace('}', ',"amount":{"currency":"HKD","minor":1}}');
      await expectRejected(await s.kiosk.request('POST', '/v1/purchases', body, { tamperBody: addAmount }), 401, 'DEVICE_UNAUTHORIZED');
      await expectRejected(
        await s.kiosk.request('POST', '/v1/purchases', body, { tamperBody: (b) => b.replace('gems-100', 'gems-1000') }),
        401,
        'DEVICE_UNAUTHORIZED',
      );
      expect(await counts()).toEqual(before);
    });

    it('rejects a signed body with an amount or unknown fields, and coerced types, as INVALID_INPUT', async () => {
      const before = await counts();
      const base = { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() };
      await expectRejected(await s.kiosk.request('POST', '/v1/purchases', { ...base, amount: { currency: 'HKD', minor: 1 } }), 400, 'INVALID_INPUT');
      await expectRejected(await s.kiosk.request('POST', '/v1/purchases', { ...base, quantity: '1' }), 400, 'INVALID_INPUT');
      await expectRejected(await s.kiosk.request('POST', '/v1/purchases', { ...base, quantity: 1.5 }), 400, 'INVALID_INPUT');
      await expectRejected(await s.kiosk.request('POST', '/v1/purchases', { ...base, sku: 'nope' }), 422, 'UNKNOWN_SKU');
      await expectRejected(await s.kiosk.request('GET', '/v1/catalogue?currency=HKD&extra=1'), 400, 'INVALID_INPUT');
      expect((await counts()).purchases).toBe(before.purchases);
    });

    it('rejects a replayed request, a stale timestamp and another device', async () => {
      const body = JSON.stringify({ bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
      const headers = s.kiosk.sign('POST', '/v1/purchases', body);
      const first = await send(s.relay.url, 'POST', '/v1/purchases', body, headers);
      expect(first.body['state']).toBe('SUCCEEDED');
      const before = await counts();
      await expectRejected(await send(s.relay.url, 'POST', '/v1/purchases', body, headers), 409, 'REQUEST_REPLAYED');
      const stale = JSON.stringify({ bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
      await expectRejected(
        await send(s.relay.url, 'POST', '/v1/purchases', stale, s.kiosk.sign('POST', '/v1/purchases', stale, s.clock.now() - 5 * 60_000 - 1_000)),
        401,
        'REQUEST_EXPIRED',
      );
      // The launcher's credentials with the kiosk's id, and the launcher asking for the kiosk's binding.
      const impostor = new TestDevice(s.relay.url, { deviceId: s.kiosk.creds.deviceId, deviceSecret: s.launcher.creds.deviceSecret }, undefined, () =>
        s.clock.now(),
      );
      await expectRejected(
        await impostor.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() }),
        401,
        'DEVICE_UNAUTHORIZED',
      );
      await expectRejected(
        await s.launcher.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() }),
        404,
        'BINDING_NOT_FOUND',
      );
      await expectRejected(await s.launcher.request('GET', `/v1/bindings/${bindingId}`), 404, 'BINDING_NOT_FOUND');
      // Another owner's purchase answers exactly like an unknown intent id (RelayPurchaseService.status).
      const intent = (JSON.parse(body) as { purchaseIntentId: string }).purchaseIntentId;
      await expectRejected(await s.launcher.request('GET', `/v1/purchases/${intent}`), 404, 'NOT_FOUND');
      await expectRejected(await s.launcher.request('GET', `/v1/purchases/${uuid()}`), 404, 'NOT_FOUND');
      const unknown = new TestDevice(s.relay.url, { deviceId: uuid(), deviceSecret: 'x' }, undefined, () => s.clock.now());
      await expectRejected(await unknown.request('GET', '/v1/wallets'), 401, 'DEVICE_NOT_ENROLLED');
      expect((await counts()).purchases).toBe(before.purchases);
    });

    it('requires a valid player assertion from launchers', async () => {
      const saved = s.launcher.assertion;
      s.launcher.assertion = undefined;
      await expectRejected(await s.launcher.request('GET', '/v1/wallets'), 401, 'PLAYER_UNAUTHORIZED');
      s.launcher.assertion = s.assertion('demo-2', uuid());
      await expectRejected(await s.launcher.request('GET', '/v1/wallets'), 401, 'PLAYER_UNAUTHORIZED');
      s.launcher.assertion = saved;
      const ok = await s.launcher.request('GET', '/v1/catalogue?currency=IDR');
      expect(ok.status).toBe(200);
      expect((ok.body['items'] as { price: unknown }[])[0]?.price).toEqual({ currency: 'IDR', minor: 1_500_000 });
    });

    it('a player assertion is no bearer token: bound to its device (did) and covered by the request signature', async () => {
      const victimId = s.launcher.creds.deviceId;
      const victimPlayer = `victim-${uuid()}`;
      const victim = new TestDevice(s.relay.url, s.launcher.creds, s.assertion(victimPlayer, victimId), () => s.clock.now());
      const victimBinding = await bind(victim, 'ALIPAY_HK');
      const code = await s.relay.devices.createEnrollmentCode({ label: 'Second launcher', kind: 'launcher', lifetimeMs: 60_000 });
      const attackerCreds = await enroll(s.relay.url, code.code);
      const sandboxPayments = async () => ((await s.admin('GET', '/state')).body['payments'] as unknown[]).length;
      const before = { ...(await counts()), payments: await sandboxPayments() };
      const pay = { bindingId: victimBinding, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() };

      // The attack of the issue: a second enrolled launcher sends the victim's assertion on its own, validly signed requests.
      for (const stolen of [s.assertion(victimPlayer, null), s.assertion(victimPlayer, victimId)]) {
        const attacker = new TestDevice(s.relay.url, attackerCreds, stolen, () => s.clock.now());
        await expectRejected(await attacker.request('GET', '/v1/bindings/current'), 401, 'PLAYER_UNAUTHORIZED');
        await expectRejected(await attacker.request('GET', `/v1/bindings/${victimBinding}`), 401, 'PLAYER_UNAUTHORIZED');
        await expectRejected(await attacker.request('POST', '/v1/purchases', pay), 401, 'PLAYER_UNAUTHORIZED');
      }
      // The header swapped, removed or added on a request after it was signed: the signature covers the assertion.
      const other = s.assertion(`other-${uuid()}`, victimId);
      const swap = (to: string | undefined) => (h: Record<string, string>) => {
        const { 'x-player-assertion': _dropped, ...rest } = h;
        return to === undefined ? rest : { ...rest, 'x-player-assertion': to };
      };
      await expectRejected(await victim.request('GET', '/v1/bindings/current', undefined, { headers: swap(other) }), 401, 'DEVICE_UNAUTHORIZED');
      await expectRejected(await victim.request('POST', '/v1/purchases', pay, { headers: swap(other) }), 401, 'DEVICE_UNAUTHORIZED');
      await expectRejected(await victim.request('GET', '/v1/wallets', undefined, { headers: swap(undefined) }), 401, 'DEVICE_UNAUTHORIZED');
      await expectRejected(await s.kiosk.request('GET', '/v1/wallets', undefined, { headers: swap(other) }), 401, 'DEVICE_UNAUTHORIZED');
      // Assertions the default settings refuse on the right device: no `did`, another device's `did`, a lifetime above 15 minutes.
      for (const refused of [s.assertion(victimPlayer, null), s.assertion(victimPlayer, attackerCreds.deviceId), s.assertion(victimPlayer, victimId, 3600)]) {
        const own = new TestDevice(s.relay.url, s.launcher.creds, refused, () => s.clock.now());
        await expectRejected(await own.request('GET', '/v1/bindings/current'), 401, 'PLAYER_UNAUTHORIZED');
      }
      expect({ ...(await counts()), payments: await sandboxPayments() }).toEqual(before);
      // The victim itself still reads its binding and pays.
      expect((await victim.request('GET', '/v1/bindings/current')).body).toMatchObject({ bindingId: victimBinding, state: 'ACTIVE' });
      expect((await victim.request('POST', '/v1/purchases', pay)).body).toMatchObject({ state: 'SUCCEEDED' });
    });

    it('caps bodies at 16 KB and enrolment codes are single-use', async () => {
      const big = JSON.stringify({ wallet: 'DANA', pad: 'x'.repeat(17 * 1024) });
      const res = await send(s.relay.url, 'POST', '/v1/bindings', big, s.kiosk.sign('POST', '/v1/bindings', big));
      expect(res.status).toBe(413);
      const code = await s.relay.devices.createEnrollmentCode({ label: 'K2', kind: 'kiosk', lifetimeMs: 60_000 });
      const once = await send(s.relay.url, 'POST', '/v1/devices/enroll', JSON.stringify({ code: code.code }), {});
      expect(once.status).toBe(201);
      const twice = await send(s.relay.url, 'POST', '/v1/devices/enroll', JSON.stringify({ code: code.code }), {});
      await expectRejected(twice, 401, 'DEVICE_UNAUTHORIZED');
    });

    it('answers an unverified notification with 401 and changes nothing', async () => {
      const intent = uuid();
      await s.admin('POST', '/faults', { endpoint: 'pay', mode: 'U', count: 1, resolveAs: 'never' });
      await s.relay.worker.stop();
      const pending = await s.kiosk.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
      expect(pending.body['state']).toBe('PROCESSING');
      const body = JSON.stringify({
        notifyType: 'PAYMENT_RESULT',
        paymentRequestId: `pay_${intent.replace(/-/g, '')}`,
        paymentAmount: { currency: 'HKD', value: '1200' },
        result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
      });
      const forger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const time = String(Date.now());
      const forged = signatureHeader('1', signBase64(forger, signContent('POST', '/antom/notify/payment', 'SANDBOX_5YTEST0000000001', time, body)));
      const headers = { 'client-id': 'SANDBOX_5YTEST0000000001', 'request-time': time, signature: forged };
      const refused = await send(s.relay.url, 'POST', '/antom/notify/payment', body, headers);
      expect(refused.status).toBe(401);
      expect((await s.kiosk.request('GET', `/v1/purchases/${intent}`)).body['state']).toBe('PROCESSING');
      const unsigned = await send(s.relay.url, 'POST', '/antom/notify/payment', body, { 'client-id': 'SANDBOX_5YTEST0000000001', 'request-time': time });
      expect(unsigned.status).toBe(401);
      s.relay.worker.start();
      await s.admin('DELETE', '/faults');
    });

    it('a log scan after a full bind-and-pay run finds no token, key or secret', async () => {
      const id = await bind(s.launcher, 'DANA');
      const paid = await s.launcher.request('POST', '/v1/purchases', { bindingId: id, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
      expect(paid.body['state']).toBe('SUCCEEDED');
      const state = await s.admin('GET', '/state');
      expect(s.logs.length).toBeGreaterThan(10);
      const text = s.logs.join('\n');
      const rows = await s.relay.store.db.selectFrom('bindings').selectAll().execute();
      expect(rows.some((r) => r.access_token_enc)).toBe(true);
      const forbidden = [
        s.kiosk.creds.deviceSecret,
        s.launcher.creds.deviceSecret,
        s.secrets.encryptionKey,
        ...s.secrets.merchantPrivateKeyPem.split('\n').filter((l) => l.length > 40),
        s.launcher.currentAssertion() ?? '',
        // Any assertion at all: every one starts with the same JWS header.
        (s.launcher.currentAssertion() ?? '').split('.')[0] ?? '',
        '62-812-3456-4321',
        '852-6123-8812',
        '6281234564321',
      ];
      for (const secret of forbidden) expect(text.includes(secret), `log contains ${secret.slice(0, 6)}…`).toBe(false);
      // Tokens: the sandbox masks them in /state, so check the sealed columns never appear and no token-shaped field is logged.
      for (const row of rows) {
        for (const v of [row.access_token_enc, row.refresh_token_enc, row.auth_code_enc]) if (v) expect(text.includes(v)).toBe(false);
      }
      expect(text).not.toMatch(/"(accessToken|refreshToken|authCode|paymentMethodId|deviceSecret)":"(?!\[redacted\])/);
      // Every notification the sandbox delivered got the exact SUCCESS acknowledgement.
      const notes = state.body['notifications'] as { status: string; attempts: { acknowledged: boolean }[] }[];
      const delivered = notes.filter((n) => n.status === 'DELIVERED');
      expect(delivered.length).toBeGreaterThan(1);
      for (const n of delivered) expect(n.attempts.at(-1)?.acknowledged).toBe(true);
    });
  });
}
