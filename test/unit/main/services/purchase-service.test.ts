import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { BindingService } from '../../../../main/services/binding-service.ts';
import { type PendingIntent, PurchaseService } from '../../../../main/services/purchase-service.ts';
import { RelayError } from '../../../../main/services/relay/errors.ts';
import { Vault } from '../../../../main/services/vault.ts';
import { FakeClock } from '../../../fakes/fake-clock.ts';
import { FakeRelay } from '../../../fakes/fake-relay.ts';
import { MemoryLogger, MemoryPendingStore, MemorySecretStore } from '../../../fakes/memory-stores.ts';

async function setup(wallet: 'ALIPAY_HK' | 'DANA' = 'ALIPAY_HK') {
  const clock = new FakeClock();
  const relay = new FakeRelay();
  relay.now = () => clock.now();
  const binding = new BindingService({
    relay,
    vault: new Vault(new MemorySecretStore()),
    clock,
    log: new MemoryLogger(),
    playerKey: async () => 'p',
  });
  await binding.start(wallet);
  binding.apply(relay.authorise(binding.bindingId!));
  const pending = new MemoryPendingStore<PendingIntent>();
  const make = () =>
    new PurchaseService({ relay, binding, pending, clock, log: new MemoryLogger(), newIntentId: randomUUID, followUp: { baseMs: 1000, maxMs: 1000 } });
  return { clock, relay, binding, pending, make, svc: make() };
}

describe('PurchaseService', () => {
  it('prices from the relay catalogue in the wallet currency and mints one intent id per quote', async () => {
    const { svc } = await setup();
    const q = await svc.quote({ sku: 'gems-100', quantity: 2 });
    expect(q).toMatchObject({
      sku: 'gems-100',
      unitPrice: { currency: 'HKD', minor: 1200 },
      total: { currency: 'HKD', minor: 2400 },
      wallet: 'ALIPAY_HK',
      maskedAccount: '852-****-8812',
      blockedBy: null,
    });
    expect(q.purchaseIntentId).toMatch(/^[0-9a-f-]{36}$/);
    await expect(svc.quote({ sku: 'nope', quantity: 1 })).rejects.toMatchObject({ code: 'UNKNOWN_SKU' });
  });

  it('a second window asking for the same open purchase gets the same intent: one charge (e2e S5)', async () => {
    const { svc, relay, clock } = await setup();
    const a = await svc.quote({ sku: 'gems-100', quantity: 1 });
    const b = await svc.quote({ sku: 'gems-100', quantity: 1 });
    expect(b).toEqual(a);
    expect((await svc.quote({ sku: 'gems-100', quantity: 2 })).purchaseIntentId).not.toBe(a.purchaseIntentId);
    relay.purchaseMode = 'down';
    const first = await svc.confirm({ purchaseIntentId: a.purchaseIntentId });
    expect(first.state).toBe('PROCESSING');
    // In flight: still the same purchase for a window opened now.
    expect((await svc.quote({ sku: 'gems-100', quantity: 1 })).purchaseIntentId).toBe(a.purchaseIntentId);
    relay.purchaseMode = 'ok';
    await clock.advance(1000);
    expect((await svc.status({ purchaseIntentId: a.purchaseIntentId })).state).toBe('SUCCEEDED');
    expect(relay.count('createPurchase')).toBeGreaterThanOrEqual(1);
    // Settled: the next quote is a new purchase.
    const next = await svc.quote({ sku: 'gems-100', quantity: 1 });
    expect(next.purchaseIntentId).not.toBe(a.purchaseIntentId);
    // An unconfirmed quote is not offered forever.
    await clock.advance(61_000);
    expect((await svc.quote({ sku: 'gems-100', quantity: 1 })).purchaseIntentId).not.toBe(next.purchaseIntentId);
  });

  it('reports a wallet limit before Buy', async () => {
    const { svc, relay } = await setup('DANA');
    relay.catalogueItems = [{ sku: 'tiny', title: 'Tiny', price: { currency: 'IDR', minor: 100 } }] as never;
    expect((await svc.quote({ sku: 'tiny', quantity: 1 })).blockedBy).toBe('BELOW_MIN');
  });

  it('buys once however often Buy is clicked; the request does not wait for the pending record (issue 17, #6)', async () => {
    const { svc, relay, pending } = await setup();
    const release = pending.hold();
    const q = await svc.quote({ sku: 'gems-100', quantity: 1 });
    const onDiskAtRequest: boolean[] = [];
    const original = relay.createPurchase.bind(relay);
    relay.createPurchase = async (b) => {
      onDiskAtRequest.push(pending.map.has(b.purchaseIntentId));
      return original(b);
    };
    const [a, b] = await Promise.all([svc.confirm({ purchaseIntentId: q.purchaseIntentId }), svc.confirm({ purchaseIntentId: q.purchaseIntentId })]);
    const c = await svc.confirm({ purchaseIntentId: q.purchaseIntentId });
    // Answered while the record's write is still held: nothing on the pay path awaited it.
    expect(a.state).toBe('SUCCEEDED');
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(relay.count('createPurchase')).toBe(1);
    expect(onDiskAtRequest).toEqual([false]);
    expect(pending.queued).toBe(3); // the quote's record, the purchase's record and its removal, all queued
    // The write lands, then the removal: nothing is left on disk.
    release();
    await vi.waitFor(() => expect(pending.map.size).toBe(0));
  });

  it('a pending record that cannot be written does not stop the purchase (the relay keeps the intent)', async () => {
    const { relay, pending, binding, clock } = await setup();
    pending.put = async () => {
      throw new Error('ENOSPC: no space left on device');
    };
    const log = new MemoryLogger();
    const svc = new PurchaseService({ relay, binding, pending, clock, log, newIntentId: randomUUID });
    const q = await svc.quote({ sku: 'gems-100', quantity: 1 });
    expect(await svc.confirm({ purchaseIntentId: q.purchaseIntentId })).toMatchObject({ state: 'SUCCEEDED' });
    expect(relay.count('createPurchase')).toBe(1);
    await vi.waitFor(() => expect(log.lines.some((l) => l.level === 'warn' && l.message.startsWith('pending purchase put failed'))).toBe(true));
  });

  it("a crash after the request and before its record landed: the restarted client adopts the relay's pending purchase and follows it to the result", async () => {
    const { relay, pending, make, clock, binding } = await setup();
    relay.purchaseOutcome = 'PROCESSING'; // the wallet has not answered yet
    pending.hold(); // the write never lands: main dies first
    const first = make();
    const q = await first.quote({ sku: 'gems-100', quantity: 1 });
    expect(await first.confirm({ purchaseIntentId: q.purchaseIntentId })).toMatchObject({ state: 'PROCESSING' });
    first.dispose();
    expect(pending.map.size).toBe(0);

    const restarted = new MemoryPendingStore<PendingIntent>();
    const second = new PurchaseService({
      relay,
      binding,
      pending: restarted,
      clock,
      log: new MemoryLogger(),
      newIntentId: randomUUID,
      followUp: { baseMs: 1000, maxMs: 1000 },
    });
    const seen: string[] = [];
    second.onChange((s) => seen.push(`${s.purchaseIntentId}:${s.state}`));
    const resumed = await second.resume();
    expect(resumed).toEqual([
      expect.objectContaining({ purchaseIntentId: q.purchaseIntentId, state: 'PROCESSING', wallet: 'ALIPAY_HK', total: { currency: 'HKD', minor: 1200 } }),
    ]);
    expect(await restarted.list()).toEqual([expect.objectContaining({ purchaseIntentId: q.purchaseIntentId, state: 'PROCESSING' })]);
    const stored = relay.purchases.get(q.purchaseIntentId);
    if (stored) stored.state = 'SUCCEEDED';
    await clock.advance(1000);
    expect(seen.at(-1)).toBe(`${q.purchaseIntentId}:SUCCEEDED`);
    expect(second.pending()).toEqual([]);
    expect(await restarted.list()).toEqual([]);
    expect(relay.count('createPurchase')).toBe(1);
  });

  it('a crash after the relay finished the purchase and before its record landed: the restarted client still shows the result, charged once', async () => {
    const { relay, pending, make, binding, clock } = await setup();
    const first = make();
    const q = await first.quote({ sku: 'gems-100', quantity: 1 });
    await pending.list(); // the quote's record lands while the player reads the dialog
    pending.hold(); // the confirm's writes never land: main dies first
    expect(await first.confirm({ purchaseIntentId: q.purchaseIntentId })).toMatchObject({ state: 'SUCCEEDED' });
    first.dispose();

    const restarted = new MemoryPendingStore<PendingIntent>();
    for (const [id, record] of pending.map) await restarted.put(id, record);
    const second = new PurchaseService({ relay, binding, pending: restarted, clock, log: new MemoryLogger(), newIntentId: randomUUID });
    const seen: string[] = [];
    second.onChange((s) => seen.push(`${s.purchaseIntentId}:${s.state}`));
    expect(await second.resume()).toEqual([expect.objectContaining({ purchaseIntentId: q.purchaseIntentId, state: 'SUCCEEDED', error: null })]);
    // Shown once: the quote's record and the relay's answer name one purchase with one result.
    expect(seen).toEqual([`${q.purchaseIntentId}:SUCCEEDED`]);
    expect(relay.count('createPurchase')).toBe(1);
    expect(await restarted.list()).toEqual([]);
  });

  it('a quote never confirmed is forgotten on restart: nothing sent, nothing reported', async () => {
    const { relay, pending, make } = await setup();
    const first = make();
    await first.quote({ sku: 'gems-100', quantity: 1 });
    expect(await pending.list()).toEqual([expect.objectContaining({ state: 'CREATED' })]);
    first.dispose();
    const second = make();
    const seen: string[] = [];
    second.onChange((s) => seen.push(s.state));
    expect(await second.resume()).toEqual([]);
    expect(seen).toEqual([]);
    expect(second.pending()).toEqual([]);
    expect(relay.count('createPurchase')).toBe(0);
    expect(await pending.list()).toEqual([]);
  });

  it("a quote's record is forgotten with the quote (kiosk reset, eviction); a confirmed purchase's record is kept", async () => {
    const { svc, relay, pending } = await setup();
    relay.purchaseMode = 'down';
    const confirmed = await svc.quote({ sku: 'gems-100', quantity: 1 });
    await svc.confirm({ purchaseIntentId: confirmed.purchaseIntentId });
    await svc.quote({ sku: 'gems-100', quantity: 2 });
    svc.forgetQuotes();
    expect(await pending.list()).toEqual([expect.objectContaining({ purchaseIntentId: confirmed.purchaseIntentId, state: 'PROCESSING' })]);
    for (let n = 1; n <= 25; n++) await svc.quote({ sku: 'gems-100', quantity: n + 2 });
    expect((await pending.list()).filter((r) => r.state === 'CREATED')).toHaveLength(20);
  });

  it('resume asks the relay for its pending purchases again when it could not be reached', async () => {
    const { relay, pending, make, clock, binding } = await setup();
    relay.purchaseOutcome = 'PROCESSING';
    pending.hold();
    const first = make();
    const q = await first.quote({ sku: 'gems-100', quantity: 1 });
    await first.confirm({ purchaseIntentId: q.purchaseIntentId });
    first.dispose();
    relay.purchaseMode = 'down';
    const second = new PurchaseService({
      relay,
      binding,
      pending: new MemoryPendingStore<PendingIntent>(),
      clock,
      log: new MemoryLogger(),
      newIntentId: randomUUID,
      followUp: { baseMs: 1000, maxMs: 1000 },
    });
    expect(await second.resume()).toEqual([]);
    relay.purchaseMode = 'ok';
    await clock.advance(1000);
    expect(second.pending()).toEqual([expect.objectContaining({ purchaseIntentId: q.purchaseIntentId, state: 'PROCESSING' })]);
    expect(relay.count('pendingPurchases')).toBe(2);
  });

  it('shows and answers the final result before the record is forgotten on disk, which follows (issue 17, #6)', async () => {
    const { svc, pending } = await setup();
    const q = await svc.quote({ sku: 'gems-100', quantity: 1 });
    const shown: { state: string; onDisk: boolean }[] = [];
    svc.onChange((s) => shown.push({ state: s.state, onDisk: pending.map.has(s.purchaseIntentId) }));
    await svc.confirm({ purchaseIntentId: q.purchaseIntentId }); // the record is on disk once this resolves…
    const second = await svc.quote({ sku: 'gems-100', quantity: 2 });
    await pending.list();
    const release = pending.hold(); // …then the disk stalls
    const answered = await svc.confirm({ purchaseIntentId: second.purchaseIntentId });
    expect(answered.state).toBe('SUCCEEDED');
    // The quote's record (landed before the stall) is still on disk when the result is shown.
    expect(shown.at(-1)).toEqual({ state: 'SUCCEEDED', onDisk: true });
    expect(pending.queued).toBe(2); // the second record's put and its removal, behind the stall
    release();
    expect(await pending.list()).toEqual([]);
  });

  it('a refusal by the relay is a final failure with its code (nothing charged)', async () => {
    const { svc, relay } = await setup();
    relay.refusal = new RelayError('SPENDING_CAP_DAILY', 422);
    const q = await svc.quote({ sku: 'gems-100', quantity: 1 });
    expect(await svc.confirm({ purchaseIntentId: q.purchaseIntentId })).toMatchObject({ state: 'FAILED', error: 'SPENDING_CAP_DAILY' });
  });

  it('an unknown result stays PROCESSING and is followed up with the same intent until final', async () => {
    const { svc, relay, clock, pending } = await setup();
    relay.purchaseMode = 'down';
    const q = await svc.quote({ sku: 'gems-100', quantity: 1 });
    const seen: string[] = [];
    svc.onChange((s) => seen.push(s.state));
    expect((await svc.confirm({ purchaseIntentId: q.purchaseIntentId })).state).toBe('PROCESSING');
    expect(pending.map.get(q.purchaseIntentId)?.state).toBe('PROCESSING');
    relay.purchaseMode = 'ok';
    await clock.advance(1000);
    expect(seen).toEqual(['SUBMITTED', 'PROCESSING', 'SUCCEEDED']);
    expect(relay.purchases.size).toBe(1);
    expect(pending.map.size).toBe(0);
    expect(await svc.status({ purchaseIntentId: q.purchaseIntentId })).toMatchObject({ state: 'SUCCEEDED' });
  });

  it('a confirm answered SUBMITTED (the relay still waits on the wallet after our request timed out) shows PROCESSING, then the result (e2e S6)', async () => {
    const { svc, relay, clock } = await setup();
    relay.purchaseOutcome = 'SUBMITTED';
    const q = await svc.quote({ sku: 'gems-100', quantity: 1 });
    const seen: string[] = [];
    svc.onChange((s) => seen.push(s.state));
    expect((await svc.confirm({ purchaseIntentId: q.purchaseIntentId })).state).toBe('PROCESSING');
    const stored = relay.purchases.get(q.purchaseIntentId);
    if (stored) stored.state = 'SUCCEEDED';
    await clock.advance(1000);
    expect(seen).toEqual(['SUBMITTED', 'PROCESSING', 'SUCCEEDED']);
    expect(relay.count('createPurchase')).toBe(1);
  });

  it('resumes after a crash: asks the relay and reports the final result', async () => {
    const { relay, pending, make } = await setup();
    relay.purchaseMode = 'drop'; // the relay took it, the answer was lost, then "the app crashed"
    const first = make();
    const q = await first.quote({ sku: 'gems-100', quantity: 1 });
    await first.confirm({ purchaseIntentId: q.purchaseIntentId });
    first.dispose();
    expect(pending.map.size).toBe(1);
    relay.purchaseMode = 'ok';
    const second = make();
    const results: string[] = [];
    second.onChange((s) => results.push(`${s.purchaseIntentId}:${s.state}`));
    const resumed = await second.resume();
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toMatchObject({ purchaseIntentId: q.purchaseIntentId, state: 'SUCCEEDED' });
    expect(results).toContain(`${q.purchaseIntentId}:SUCCEEDED`);
    expect(relay.count('createPurchase')).toBe(1);
    expect(pending.map.size).toBe(0);
  });

  it('re-sends a recent intent the relay never received, with the same id and body', async () => {
    const { relay, pending, make } = await setup();
    relay.purchaseMode = 'down';
    const first = make();
    const q = await first.quote({ sku: 'gems-100', quantity: 1 });
    await first.confirm({ purchaseIntentId: q.purchaseIntentId });
    first.dispose();
    relay.purchaseMode = 'ok';
    const [r] = await make().resume();
    expect(r).toMatchObject({ purchaseIntentId: q.purchaseIntentId, state: 'SUCCEEDED' });
    expect(relay.purchases.has(q.purchaseIntentId)).toBe(true);
    expect(pending.map.size).toBe(0);
  });

  it('an old intent the relay never received is reported failed, not charged', async () => {
    const { relay, pending, make, clock } = await setup();
    relay.purchaseMode = 'down';
    const first = make();
    const q = await first.quote({ sku: 'gems-100', quantity: 1 });
    await first.confirm({ purchaseIntentId: q.purchaseIntentId });
    first.dispose();
    relay.purchaseMode = 'ok';
    await clock.advance(60 * 60_000);
    const [r] = await make().resume();
    expect(r).toMatchObject({ state: 'FAILED', error: 'PAYMENT_FAILED' });
    expect(relay.purchases.size).toBe(0);
    expect(pending.map.size).toBe(0);
  });

  it('refuses to quote without an active binding', async () => {
    const { svc, binding } = await setup();
    await binding.unbind();
    await expect(svc.quote({ sku: 'gems-100', quantity: 1 })).rejects.toMatchObject({ code: 'BINDING_NOT_FOUND' });
    await expect(svc.confirm({ purchaseIntentId: randomUUID() })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
