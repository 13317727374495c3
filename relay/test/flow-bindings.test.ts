import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEvents } from './support/client.ts';
import { engines, uuid } from './support/env.ts';
import { approveOnPhone, bind, bindingState, type Stack, startStack, waitFor } from './support/stack.ts';

interface SandboxToken {
  loginId: string;
  status: string;
}

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`binding life cycle against the sandbox (${engine.name})`, () => {
    if (engine.skip) console.warn(engine.skip);
    let s: Stack;
    beforeAll(async () => {
      s = await startStack(engine.name, {
        bindings: { qrLifetimeMs: 15 * 60_000, maxCodeRefreshes: 2, tokenRefreshLeadMs: 30_000, kioskVisitMs: 30 * 60_000 },
      });
    });
    afterAll(async () => s?.close());

    const tokens = async (loginId: string): Promise<SandboxToken[]> =>
      ((await s.admin('GET', '/state')).body['tokens'] as SandboxToken[]).filter((t) => t.loginId === loginId);
    const revocations = () => s.relay.store.db.selectFrom('token_revocations').selectAll().execute();

    it('pushes status changes over SSE (no client polling) and exchanges the authCode within the minute', async () => {
      const events = await openEvents(s.launcher);
      const started = await s.launcher.request('POST', '/v1/bindings', { wallet: 'DANA' });
      const id = String(started.body['bindingId']);
      await events.next((e) => e.event === 'binding' && e.data['bindingId'] === id && e.data['state'] === 'QR_SHOWN');
      await approveOnPhone(String(started.body['codeValue']));
      const active = await events.next((e) => e.event === 'binding' && e.data['bindingId'] === id && e.data['state'] === 'ACTIVE');
      expect(active.data['maskedAccount']).toBe('••••4321');
      events.close();
    });

    it('a late authorization for a withdrawn QR is revoked at once and attached to nobody', async () => {
      const started = await s.kiosk.request('POST', '/v1/bindings', { wallet: 'ALIPAY_HK' });
      const id = String(started.body['bindingId']);
      const withdrawn = await s.kiosk.request('POST', `/v1/bindings/${id}/withdraw`);
      expect(withdrawn.body['state']).toBe('FAILED');
      await approveOnPhone(String(started.body['codeValue']), '852-6000-0001');
      const done = await waitFor(async () => (await revocations()).find((r) => r.reason === 'late_authorization' && r.state === 'DONE'), 10_000, 'late revoke');
      expect(done.access_token_enc).toBeNull();
      expect((await tokens('852-6000-0001')).every((t) => t.status !== 'ACTIVE')).toBe(true);
      const after = await s.kiosk.request('GET', `/v1/bindings/${id}`);
      expect(after.body).toMatchObject({ state: 'FAILED' });
      expect(after.body['maskedAccount']).toBeUndefined();
    });

    it('a late authorization for a replaced QR is revoked; the fresh code still binds', async () => {
      const started = await s.kiosk.request('POST', '/v1/bindings', { wallet: 'ALIPAY_HK' });
      const id = String(started.body['bindingId']);
      // The player taps for a new code two minutes in (a tap right after a code is issued answers that code).
      s.clock.advance(2 * 60_000);
      const fresh = await s.kiosk.request('POST', `/v1/bindings/${id}/refresh-code`);
      expect(fresh.body).toMatchObject({ state: 'QR_SHOWN', refreshesLeft: 2 });
      expect(fresh.body['codeValue']).not.toBe(started.body['codeValue']);
      const before = (await revocations()).length;
      await approveOnPhone(String(started.body['codeValue']), '852-6000-0001');
      await waitFor(
        async () => (await revocations()).filter((r) => r.state === 'DONE').length > before - 0 && (await revocations()).length > before,
        10_000,
        'late revoke',
      );
      expect((await s.kiosk.request('GET', `/v1/bindings/${id}`)).body['state']).toBe('QR_SHOWN');
      await approveOnPhone(String(fresh.body['codeValue']));
      await waitFor(async () => (await s.kiosk.request('GET', `/v1/bindings/${id}`)).body['state'] === 'ACTIVE', 10_000, 'active');
    });

    it('renews an unscanned code automatically up to the cap, then says so', async () => {
      const started = await s.launcher.request('POST', '/v1/bindings', { wallet: 'ALIPAY_HK' });
      const id = String(started.body['bindingId']);
      const codes = new Set([started.body['codeValue']]);
      for (let left = 1; left >= 0; left--) {
        s.clock.advance(15 * 60_000 + 1_000);
        const renewed = await waitFor(
          async () => {
            const r = await s.launcher.request('GET', `/v1/bindings/${id}`);
            return r.body['refreshesLeft'] === left ? r.body : undefined;
          },
          10_000,
          'renewed code',
        );
        codes.add(renewed['codeValue']);
      }
      expect(codes.size).toBe(3);
      s.clock.advance(15 * 60_000 + 1_000);
      const expired = await bindingState(s.launcher, id, 'EXPIRED');
      expect(expired['error']).toMatchObject({ code: 'QR_REFRESH_LIMIT' });
      const again = await s.launcher.request('POST', `/v1/bindings/${id}/refresh-code`);
      expect(again.status).toBe(409);
    });

    it('revokes from our side (unlink) and from theirs (TOKEN_CANCELED)', async () => {
      const ours = await bind(s.kiosk, 'DANA', '62-812-0000-0002');
      const unlinked = await s.kiosk.request('DELETE', `/v1/bindings/${ours}`);
      expect(unlinked.body['state']).toBe('REVOKED');
      await waitFor(async () => (await revocations()).find((r) => r.binding_id === ours && r.state === 'DONE'), 10_000, 'revoke done');
      expect((await tokens('62-812-0000-0002')).some((t) => t.status === 'ACTIVE')).toBe(false);
      const pay = await s.kiosk.request('POST', '/v1/purchases', { bindingId: ours, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
      expect(pay.body).toMatchObject({ error: { code: 'BINDING_REVOKED' } });

      const theirs = await bind(s.kiosk, 'ALIPAY_HK', '852-6000-0001');
      expect((await s.admin('POST', '/tokens/revoke', { loginId: '852-6000-0001' })).status).toBe(200);
      const revoked = await bindingState(s.kiosk, theirs, 'REVOKED', 'TOKEN_CANCELED');
      expect(revoked['error']).toMatchObject({ code: 'BINDING_REVOKED' });
    });

    it('a kiosk visit ends: a new visitor starting a binding revokes the last one', async () => {
      const first = await bind(s.kiosk, 'ALIPAY_HK');
      const next = await s.kiosk.request('POST', '/v1/bindings', { wallet: 'DANA' });
      expect(next.status).toBe(201);
      const old = await s.kiosk.request('GET', `/v1/bindings/${first}`);
      expect(old.body['state']).toBe('REVOKED');
      await s.kiosk.request('POST', `/v1/bindings/${String(next.body['bindingId'])}/withdraw`);
    });

    it('refreshes the access token before it expires', async () => {
      await s.admin('POST', '/settings', { accessTokenTtlMs: 120_000 });
      const id = await bind(s.launcher, 'ALIPAY_HK');
      const before = await s.relay.store.db.selectFrom('bindings').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      // The sandbox's clock first: were the relay's ahead, its worker could refresh in between
      // and be given a token whose expiry the sandbox's later jump shortens to 25 s, so that a
      // second refresh races the pay below (a state no single real clock produces).
      await s.admin('POST', '/clock', { advanceMs: 95_000 });
      s.clock.advance(95_000);
      const after = await waitFor(
        async () => {
          const r = await s.relay.store.db.selectFrom('bindings').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
          return r.access_token_hash !== before.access_token_hash && r.state === 'ACTIVE' ? r : undefined;
        },
        10_000,
        'refreshed token',
      );
      expect(after.access_token_expires_at).toBeGreaterThan(before.access_token_expires_at ?? 0);
      const pay = await s.launcher.request('POST', '/v1/purchases', { bindingId: id, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
      expect(pay.body).toMatchObject({ state: 'SUCCEEDED' });
    });

    it('an expired refresh token ends in "link again"', async () => {
      const id = await bind(s.kiosk, 'DANA', '62-812-0000-0002');
      await s.admin('POST', '/tokens/expire', { loginId: '62-812-0000-0002', refresh: true });
      const pay = await s.kiosk.request('POST', '/v1/purchases', { bindingId: id, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
      expect(pay.body).toMatchObject({ state: 'FAILED', error: { code: 'BINDING_EXPIRED' } });
      const expired = await bindingState(s.kiosk, id, 'EXPIRED');
      expect(expired['error']).toMatchObject({ code: 'BINDING_EXPIRED' });
    });
  });
}
