import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveOnPhone, type Stack, waitFor } from '../../../relay/test/support/stack.ts';
import type { BindingStatus } from '../../../main/services/binding-status.ts';
import { createKioskReset, KioskSession, type KioskStatus } from '../../../main/services/kiosk-session.ts';
import type { KioskVisits } from '../../../main/services/kiosk-visits.ts';
import { startTcpProxy, type TcpProxy } from '../../e2e/host/tcp-proxy.ts';
import { FakeClock } from '../../fakes/fake-clock.ts';
import { MemoryLogger } from '../../fakes/memory-stores.ts';
import { type Client, nextMatching, sandboxTokens, startClient, startServers } from './helpers/client-stack.ts';

/*
 * A kiosk's visit against the real relay and sandbox (issue 14). A reset wipes the visit on
 * the screen at once whatever the network does — relay unreachable, relay answering 503, the
 * process killed mid-reset — and its durable outbox revokes the binding at the relay and at
 * the sandbox once the relay is back. The next visitor's Buy never debits the previous
 * visitor's wallet (checked on the sandbox's balances). The client reaches the relay through
 * a loopback proxy the test can cut or make answer 503.
 */
const PREVIOUS = '852-6123-8812'; // AlipayHK, the visitor who walks away
const NEXT = '62-812-3456-4321'; // DANA, the next visitor

async function balance(s: Stack, loginId: string): Promise<number> {
  const accounts = (await s.admin('GET', '/state')).body['accounts'] as Array<{ loginId: string; balance: number }>;
  return Number(accounts.find((a) => a.loginId === loginId)?.balance);
}

describe('kiosk reset against the real relay and sandbox', () => {
  let s: Stack;
  let proxy: TcpProxy;
  const clients: Client[] = [];
  beforeAll(async () => {
    s = await startServers();
    proxy = await startTcpProxy(s.relay.url);
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await proxy?.close();
    await s?.close();
  });

  const kioskClient = async (restartOf?: Client): Promise<Client> => {
    const c = await startClient(s, 'kiosk', { relayUrl: proxy.url, ...(restartOf ? { restartOf } : {}) });
    clients.push(c);
    return c;
  };
  const visitsOf = (c: Client): KioskVisits => c.visits as KioskVisits;
  const resetOf = (c: Client) =>
    createKioskReset({
      visits: visitsOf(c),
      binding: c.binding,
      purchases: c.purchases,
      wipeStorage: async () => {},
      reloadWindows: () => {},
      log: new MemoryLogger(),
    });

  /** A visitor links a wallet and the screen shows it ACTIVE. */
  async function link(c: Client, wallet: 'ALIPAY_HK' | 'DANA', loginId: string): Promise<string> {
    const started = await c.binding.start(wallet);
    const active = nextMatching<BindingStatus>(
      (l) => c.binding.onChange(l),
      (st) => st.state === 'ACTIVE',
      10_000,
      'ACTIVE',
    );
    expect(await approveOnPhone(started.qr?.codeValue as string, loginId)).toBeLessThan(300);
    await active;
    return c.binding.bindingId as string;
  }

  /** The screen has nothing of the previous visit: no binding, no vault reference, Buy refused locally. */
  async function expectWiped(c: Client): Promise<void> {
    expect(c.binding.status()).toMatchObject({ state: 'NONE', qr: null });
    expect(await c.vault.bindingRef(c.playerKey)).toBeNull();
    expect(() => c.binding.active()).toThrow(/BINDING_NOT_FOUND/);
    await expect(c.purchases.quote({ sku: 'gems-100', quantity: 1 })).rejects.toThrow(/BINDING_NOT_FOUND/);
  }

  /** Once the relay is back: the outbox drains, the old binding is REVOKED and its sandbox token dead. */
  async function expectRevokedAfterHeal(c: Client, oldId: string): Promise<void> {
    proxy.restore();
    visitsOf(c).drain();
    await Promise.race([visitsOf(c).whenDrained(), new Promise((_, no) => setTimeout(() => no(new Error('outbox not drained')), 15_000))]);
    expect((await s.kiosk.request('GET', `/v1/bindings/${oldId}`)).body).toMatchObject({ bindingId: oldId, state: 'REVOKED' });
    await waitFor(async () => (await sandboxTokens(s, PREVIOUS)).every((t) => t.status !== 'ACTIVE'), 10_000, 'sandbox token revoked');
  }

  /** The next visitor links their own wallet and buys: their wallet pays, the previous one is untouched. */
  async function nextVisitorBuys(c: Client, previousBefore: number): Promise<void> {
    await link(c, 'DANA', NEXT);
    const nextBefore = await balance(s, NEXT);
    const quote = await c.purchases.quote({ sku: 'gems-100', quantity: 1 });
    const done = nextMatching<{ purchaseIntentId: string; state: string }>(
      (l) => c.purchases.onChange(l),
      (p) => p.purchaseIntentId === quote.purchaseIntentId && p.state === 'SUCCEEDED',
      10_000,
      'SUCCEEDED',
    );
    await c.purchases.confirm({ purchaseIntentId: quote.purchaseIntentId });
    await done;
    expect(nextBefore - (await balance(s, NEXT))).toBeGreaterThan(0);
    expect(await balance(s, PREVIOUS)).toBe(previousBefore);
    await resetOf(c)();
    await visitsOf(c).whenDrained();
  }

  for (const fault of ['relay unreachable', 'relay answering 503'] as const) {
    it(`a reset with the ${fault} wipes the visit at once; the outbox revokes later; the next visitor never pays with the old wallet`, async () => {
      const c = await kioskClient();
      const oldId = await link(c, 'ALIPAY_HK', PREVIOUS);
      const before = await balance(s, PREVIOUS);
      if (fault === 'relay unreachable') proxy.cut();
      else proxy.answer(503);
      const started = Date.now();
      await resetOf(c)();
      expect(Date.now() - started).toBeLessThan(1_000); // no network wait
      await expectWiped(c);
      expect(visitsOf(c).pending()).toEqual(expect.arrayContaining([{ kind: 'end', bindingId: oldId }]));
      // A stale screen's Buy (old binding, this visit) is refused by the relay once it can answer.
      await new Promise((r) => setTimeout(r, 300));
      await expectWiped(c);
      await expectRevokedAfterHeal(c, oldId);
      const stale = await c.relay
        .createPurchase({ bindingId: oldId, sku: 'gems-100', quantity: 1, purchaseIntentId: crypto.randomUUID(), visitId: visitsOf(c).current() })
        .then(
          () => 'paid',
          (e: { code?: string }) => e.code,
        );
      expect(stale).toBe('KIOSK_VISIT_ENDED');
      expect(await balance(s, PREVIOUS)).toBe(before);
      await nextVisitorBuys(c, before);
    });
  }

  it('a reset killed after its outbox write is completed by the next start, before anything is restored', async () => {
    const c = await kioskClient();
    const oldId = await link(c, 'ALIPAY_HK', PREVIOUS);
    const before = await balance(s, PREVIOUS);
    proxy.cut();
    // Step 1 of the reset (the durable write), then the process dies before the local wipe.
    await visitsOf(c).rotate(oldId);
    c.kill();
    const file = JSON.parse(readFileSync(join(c.dir, 'kiosk-visit.json'), 'utf8')) as { outbox: unknown[] };
    expect(file.outbox).toContainEqual({ kind: 'end', bindingId: oldId });
    expect(await c.vault.bindingRef(c.playerKey)).toBe(oldId); // the wipe never ran

    // The kiosk starts again with the relay still down: nothing of the old visit comes back.
    const again = await kioskClient(c);
    await expectWiped(again);
    expect(visitsOf(again).pending()).toContainEqual({ kind: 'end', bindingId: oldId });
    await expectRevokedAfterHeal(again, oldId);
    await nextVisitorBuys(again, before);
  });

  it('a kiosk process SIGKILLed mid-reset (after the outbox write, before the wipe): the next start completes it', async () => {
    const c = await kioskClient();
    const oldId = await link(c, 'ALIPAY_HK', PREVIOUS);
    const before = await balance(s, PREVIOUS);
    proxy.cut();
    c.kill(); // this process's services stop; the reset runs in a real child process that dies
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./helpers/kiosk-reset-child.ts', import.meta.url)), join(c.dir, 'kiosk-visit.json'), oldId],
      { stdio: 'ignore' },
    );
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');
    expect(await c.vault.bindingRef(c.playerKey)).toBe(oldId); // the wipe never ran

    const again = await kioskClient(c);
    await expectWiped(again);
    expect(visitsOf(again).pending()).toContainEqual({ kind: 'end', bindingId: oldId });
    await expectRevokedAfterHeal(again, oldId);
    await nextVisitorBuys(again, before);
  });

  it('a restart while the relay answers does not take back the last visit’s binding', async () => {
    const c = await kioskClient();
    const oldId = await link(c, 'ALIPAY_HK', PREVIOUS);
    c.kill(); // the app crashed mid-visit, nothing was reset
    const again = await kioskClient(c);
    await expectWiped(again);
    await visitsOf(again).whenDrained();
    expect((await s.kiosk.request('GET', `/v1/bindings/${oldId}`)).body).toMatchObject({ state: 'REVOKED' });
    await waitFor(async () => (await sandboxTokens(s, PREVIOUS)).every((t) => t.status !== 'ACTIVE'), 10_000, 'sandbox token revoked');
    expect(again.binding.status().state).toBe('NONE');
  });

  describe('the idle reset', () => {
    let c: Client;
    let kiosk: KioskSession;
    const idle = new FakeClock();
    beforeAll(async () => {
      c = await kioskClient();
      kiosk = new KioskSession({ clock: idle, log: new MemoryLogger(), timings: () => ({ idleSeconds: 60, promptSeconds: 20 }), reset: resetOf(c) });
    });
    afterAll(() => kiosk?.dispose());

    /** The customer walks away: idle → "Still there?" → the countdown runs out → reset → attract. */
    async function walkAway(): Promise<void> {
      kiosk.activity();
      await idle.advance(60_000);
      expect(kiosk.status()).toMatchObject({ phase: 'still-there', secondsLeft: 20 });
      const back = nextMatching<KioskStatus>(
        (l) => kiosk.onChange(l),
        (k) => k.phase === 'attract',
        10_000,
        'attract',
      );
      await idle.advance(20_000);
      await back;
    }

    it('revokes the visit binding: relay REVOKED, the sandbox token invalid', async () => {
      const id = await link(c, 'ALIPAY_HK', PREVIOUS);
      expect(c.binding.status()).toMatchObject({ state: 'ACTIVE', maskedAccount: '••••8812' });
      await walkAway();
      await expectWiped(c);
      await visitsOf(c).whenDrained();
      expect((await s.kiosk.request('GET', `/v1/bindings/${id}`)).body).toMatchObject({ bindingId: id, state: 'REVOKED' });
      await waitFor(async () => (await sandboxTokens(s, PREVIOUS)).every((t) => t.status !== 'ACTIVE'), 10_000, 'sandbox token revoked');
    });

    it('withdraws a shown but unscanned QR: a later authorization yields no active binding', async () => {
      const loginId = '852-6000-0001';
      const started = await c.binding.start('ALIPAY_HK');
      const id = c.binding.bindingId as string;
      const code = started.qr?.codeValue as string;
      await walkAway();
      expect(c.binding.status().state).toBe('NONE');
      await visitsOf(c).whenDrained();
      expect((await s.kiosk.request('GET', `/v1/bindings/${id}`)).body).toMatchObject({ state: 'FAILED' });

      await approveOnPhone(code, loginId); // the phone scans the old code after the customer left
      await waitFor(
        async () => {
          const tokens = await sandboxTokens(s, loginId);
          return tokens.length > 0 && tokens.every((t) => t.status !== 'ACTIVE');
        },
        10_000,
        'late authorization revoked',
      );
      const after = await s.kiosk.request('GET', `/v1/bindings/${id}`);
      expect(after.body).toMatchObject({ state: 'FAILED' });
      expect(after.body['maskedAccount']).toBeUndefined();
      const current = await s.kiosk.request('GET', '/v1/bindings/current');
      expect(current.body['state']).not.toBe('ACTIVE');
      expect(c.binding.status().state).toBe('NONE');
    });
  });
});
