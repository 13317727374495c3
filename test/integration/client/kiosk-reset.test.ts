import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveOnPhone, type Stack, waitFor } from '../../../relay/test/support/stack.ts';
import type { BindingStatus } from '../../../main/services/binding-status.ts';
import { createKioskReset, KioskSession, type KioskStatus } from '../../../main/services/kiosk-session.ts';
import { FakeClock } from '../../fakes/fake-clock.ts';
import { MemoryLogger } from '../../fakes/memory-stores.ts';
import { type Client, nextMatching, sandboxTokens, startClient, startServers } from './helpers/client-stack.ts';

/*
 * A kiosk's visit against the real relay and sandbox: the idle reset revokes the visit's
 * binding (relay REVOKED, the sandbox token dead) and withdraws a QR nobody scanned.
 */
describe('kiosk reset against the real relay and sandbox', () => {
  let s: Stack;
  let c: Client;
  let kiosk: KioskSession;
  const idle = new FakeClock();
  beforeAll(async () => {
    s = await startServers();
    c = await startClient(s, 'kiosk');
    kiosk = new KioskSession({
      clock: idle,
      log: new MemoryLogger(),
      timings: () => ({ idleSeconds: 60, promptSeconds: 20 }),
      reset: createKioskReset({ binding: c.binding, purchases: c.purchases, wipeStorage: async () => {}, reloadWindows: () => {}, log: new MemoryLogger() }),
    });
  });
  afterAll(async () => {
    kiosk?.dispose();
    await c?.close();
    await s?.close();
  });

  /** The customer walks away: idle → "Still there?" → the countdown runs out → reset → attract. */
  async function walkAway(): Promise<void> {
    kiosk.activity();
    await idle.advance(60_000);
    expect(kiosk.status()).toMatchObject({ phase: 'still-there', secondsLeft: 20 });
    const back = nextMatching<KioskStatus>((l) => kiosk.onChange(l), (k) => k.phase === 'attract', 10_000, 'attract');
    await idle.advance(20_000);
    await back;
  }

  it('the idle reset revokes the visit binding: relay REVOKED, the sandbox token invalid', async () => {
    const loginId = '852-6123-8812';
    const started = await c.binding.start('ALIPAY_HK');
    const active = nextMatching<BindingStatus>((l) => c.binding.onChange(l), (st) => st.state === 'ACTIVE', 10_000, 'ACTIVE');
    expect(await approveOnPhone(started.qr?.codeValue as string, loginId)).toBeLessThan(300);
    expect(await active).toMatchObject({ state: 'ACTIVE', maskedAccount: '••••8812' });
    const id = c.binding.bindingId as string;
    expect((await sandboxTokens(s, loginId)).map((t) => t.status)).toEqual(['ACTIVE']);

    await walkAway();
    expect(c.binding.status().state).toBe('NONE');
    expect(await c.vault.bindingRef(c.playerKey)).toBeNull();
    expect((await s.kiosk.request('GET', `/v1/bindings/${id}`)).body).toMatchObject({ bindingId: id, state: 'REVOKED' });
    await waitFor(async () => (await sandboxTokens(s, loginId)).every((t) => t.status !== 'ACTIVE'), 10_000, 'sandbox token revoked');
    // The next visit cannot pay with it.
    expect(() => c.binding.active()).toThrow(/BINDING_NOT_FOUND/);
  });

  it('a shown but unscanned QR is withdrawn on reset: a later authorization yields no active binding', async () => {
    const loginId = '852-6000-0001';
    const started = await c.binding.start('ALIPAY_HK');
    const id = c.binding.bindingId as string;
    const code = started.qr?.codeValue as string;
    await walkAway();
    expect(c.binding.status().state).toBe('NONE');
    expect((await s.kiosk.request('GET', `/v1/bindings/${id}`)).body).toMatchObject({ state: 'FAILED' });

    await approveOnPhone(code, loginId); // the phone scans the old code after the customer left
    await waitFor(async () => {
      const tokens = await sandboxTokens(s, loginId);
      return tokens.length > 0 && tokens.every((t) => t.status !== 'ACTIVE');
    }, 10_000, 'late authorization revoked');
    const after = await s.kiosk.request('GET', `/v1/bindings/${id}`);
    expect(after.body).toMatchObject({ state: 'FAILED' });
    expect(after.body['maskedAccount']).toBeUndefined();
    const current = await s.kiosk.request('GET', '/v1/bindings/current');
    expect(current.body['state']).not.toBe('ACTIVE');
    expect(c.binding.status().state).toBe('NONE');
  });
});
