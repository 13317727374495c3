import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupHash } from '../src/store/secret-box.ts';
import { type AntomMitm, startAntomMitm } from './support/antom-mitm.ts';
import { engines, uuid } from './support/env.ts';
import { purchaseRow } from './support/rows.ts';
import { bind, type Stack, startStack, waitFor } from './support/stack.ts';

/*
 * A pay and the relay's own token refresh on one binding (the refresh rotates both tokens and
 * the old access token stops working: Antom's applyToken with REFRESH_TOKEN): a pay
 * must never be sent with a token a refresh is rotating. A man in the middle holds the pay (or
 * the refresh) at the moment the race would happen; the refresh is made due by setting the
 * binding's next action to now, as markTokenDead does.
 */

const PAY = '/v1/payments/pay';
const APPLY_TOKEN = '/v1/authorizations/applyToken';
/** The stack's bound on a pay's wait for a refresh (config payments.refreshWaitMs). */
const REFRESH_WAIT_MS = 3_000;
/** The sandbox's default ALIPAY_HK account, the one `bind` links. */
const ALIPAY_DEFAULT = '852-6123-8812';

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`a pay and a token refresh of one binding (${engine.name})`, () => {
    if (engine.skip) console.warn(engine.skip);
    let s: Stack;
    let mitm: AntomMitm | undefined;
    beforeAll(async () => {
      s = await startStack(
        engine.name,
        { payments: { inquiryIntervalMs: 3_000, expiryMs: 60_000, unresolvedInquiryIntervalMs: 30_000, leaseMs: 30_000, refreshWaitMs: REFRESH_WAIT_MS } },
        {
          antomTimeoutMs: 10_000,
          interpose: async (url) => {
            mitm = await startAntomMitm(url);
            return mitm;
          },
        },
      );
    });
    afterAll(async () => s?.close());

    const m = (): AntomMitm => mitm as AntomMitm;
    const row = (id: string) => s.relay.store.db.selectFrom('bindings').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    /** The refresh is due now (the worker picks it up on its next pass). */
    const makeDue = (id: string) => s.relay.store.db.updateTable('bindings').set({ next_action_at: s.clock.now() }).where('id', '=', id).execute();
    const refreshCalls = (): number => m().calls.filter((p, i) => p.endsWith(APPLY_TOKEN) && m().bodies[i]?.includes('REFRESH_TOKEN')).length;
    const nonces = async (): Promise<number> =>
      (await s.relay.store.db.selectFrom('nonces').select('nonce').where('device_id', '=', s.launcher.creds.deviceId).execute()).length;
    const pay = (bindingId: string, intent = uuid()) =>
      s.launcher.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
    /** Waits until the binding is ACTIVE again with another token than `oldHash`; returns its row. */
    const refreshed = (id: string, oldHash: string | null) =>
      waitFor(
        async () => {
          const r = await row(id);
          return r.state === 'ACTIVE' && r.access_token_hash !== oldHash ? r : undefined;
        },
        10_000,
        'the refresh',
      );
    /** Ends a test's binding so that no later refresh of it runs under another test. */
    const unlink = (id: string) => s.launcher.request('DELETE', `/v1/bindings/${id}`);

    it('a refresh due while a pay is in flight waits for it: the pay succeeds, exactly one refresh follows', async () => {
      const id = await bind(s.launcher, 'ALIPAY_HK');
      const before = await row(id);
      const refreshes = refreshCalls();
      const held = m().hold(PAY);
      const paying = pay(id);
      await held.arrived;
      await makeDue(id);
      // The worker's pass over the due binding: without the exclusion it rotates the token
      // under the held pay; with it, it defers itself (the next action moves past now).
      await waitFor(
        async () => {
          const r = await row(id);
          return r.access_token_hash !== before.access_token_hash || (r.next_action_at ?? 0) > s.clock.now();
        },
        10_000,
        'the worker to take up the due refresh',
      );
      held.release();
      expect((await paying).body).toMatchObject({ state: 'SUCCEEDED' });
      const after = await refreshed(id, before.access_token_hash);
      expect(after.error_code).toBeNull();
      expect(refreshCalls() - refreshes).toBe(1);
      await unlink(id);
    });

    it('a pay arriving while its binding is REFRESHING waits for the refresh and pays with the new token', async () => {
      const id = await bind(s.launcher, 'ALIPAY_HK');
      const before = await row(id);
      const refresh = m().hold(APPLY_TOKEN);
      await makeDue(id);
      await refresh.arrived;
      expect((await row(id)).state).toBe('REFRESHING');
      const recorded = await nonces();
      const payCalls = m().calls.length;
      const paying = pay(id);
      // The pay's first part committed (its nonce) while the refresh is still held.
      await waitFor(async () => (await nonces()) > recorded, 10_000, 'the pay to begin');
      refresh.release();
      expect((await paying).body).toMatchObject({ state: 'SUCCEEDED' });
      const after = await row(id);
      expect(after.state).toBe('ACTIVE');
      expect(after.access_token_hash).not.toBe(before.access_token_hash);
      const sent = m().bodies.filter((_, i) => i >= payCalls && m().calls[i]?.endsWith(PAY));
      expect(sent).toHaveLength(1);
      const token = (JSON.parse(sent[0] as string) as { paymentMethod: { paymentMethodId: string } }).paymentMethod.paymentMethodId;
      expect(lookupHash(token)).toBe(after.access_token_hash);
      await unlink(id);
    });

    it('a pay waiting for a refresh that is rejected gets BINDING_EXPIRED and sends nothing', async () => {
      const id = await bind(s.launcher, 'ALIPAY_HK');
      // The wallet ended the refresh token: the relay's refresh will be refused.
      await s.admin('POST', '/tokens/expire', { loginId: ALIPAY_DEFAULT, refresh: true });
      const refresh = m().hold(APPLY_TOKEN);
      await makeDue(id);
      await refresh.arrived;
      const recorded = await nonces();
      const payCalls = m().calls.filter((p) => p.endsWith(PAY)).length;
      const intent = uuid();
      const paying = pay(id, intent);
      await waitFor(async () => (await nonces()) > recorded, 10_000, 'the pay to begin');
      refresh.release();
      const res = await paying;
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ error: { code: 'BINDING_EXPIRED' } });
      expect((await row(id)).state).toBe('EXPIRED');
      expect(await s.relay.store.db.selectFrom('purchases').select('intent_id').where('intent_id', '=', intent).executeTakeFirst()).toBeUndefined();
      expect(m().calls.filter((p) => p.endsWith(PAY)).length).toBe(payCalls);
    });

    it('a refresh that outlasts the wait: the pay gets a retryable 503 OVERLOADED, nothing charged; its retry pays', async () => {
      const id = await bind(s.launcher, 'ALIPAY_HK');
      const refresh = m().hold(APPLY_TOKEN);
      await makeDue(id);
      await refresh.arrived;
      const intent = uuid();
      const res = await pay(id, intent);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ error: { code: 'OVERLOADED' } });
      expect(await s.relay.store.db.selectFrom('purchases').select('intent_id').where('intent_id', '=', intent).executeTakeFirst()).toBeUndefined();
      refresh.release();
      await waitFor(async () => (await row(id)).state === 'ACTIVE', 10_000, 'the refresh to end');
      expect((await pay(id, intent)).body).toMatchObject({ state: 'SUCCEEDED' });
      await unlink(id);
    });

    it('a pay whose process crashed (its lease expired) does not hold the refresh back', async () => {
      const id = await bind(s.launcher, 'ALIPAY_HK');
      const before = await row(id);
      const now = s.clock.now();
      // SUBMITTED with its lease run out and no check due soon: the pay's process died mid-call.
      await s.relay.store.db
        .insertInto('purchases')
        .values({
          ...purchaseRow(uuid(), now - 60_000),
          owner: before.owner,
          binding_id: id,
          wallet: 'ALIPAY_HK',
          currency: 'HKD',
          amount_minor: 100,
          lease_until: now - 1,
          next_check_at: now + 3_600_000,
          access_token_hash: before.access_token_hash,
        })
        .execute();
      await makeDue(id);
      const after = await refreshed(id, before.access_token_hash);
      expect(after.error_code).toBeNull();
      await unlink(id);
    });
  });
}
