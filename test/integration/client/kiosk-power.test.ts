import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveOnPhone, type Stack, waitFor } from '../../../relay/test/support/stack.ts';
import { displayMustStayAwake } from '../../../main/services/create-client.ts';
import { type Client, startClient, startServers } from './helpers/client-stack.ts';

/*
 * The kiosk's power guard, a rule of the client composition (createClient): the display stays
 * awake while a QR waits to be scanned or a purchase has no final result, and sleeps otherwise.
 * It used to be re-evaluated on binding changes only, so a pending purchase let the display
 * sleep. Here against the real relay and sandbox: the pay answers "unknown" (U) and settles later.
 */
describe('kiosk power guard', () => {
  let s: Stack;
  let c: Client;
  const awake: boolean[] = [];
  const last = () => awake.at(-1);
  beforeAll(async () => {
    s = await startServers();
    c = await startClient(s, 'kiosk', { keepAwake: (on) => awake.push(on) });
  });
  afterAll(async () => {
    await c?.close();
    await s?.close();
  });

  it('is a pure rule of the binding state and the number of unfinished purchases', () => {
    expect(displayMustStayAwake({ state: 'QR_SHOWN' }, 0)).toBe(true);
    expect(displayMustStayAwake({ state: 'ACTIVE' }, 1)).toBe(true);
    expect(displayMustStayAwake({ state: 'ACTIVE' }, 0)).toBe(false);
    expect(displayMustStayAwake({ state: 'NONE' }, 0)).toBe(false);
  });

  it('keeps the display awake for a shown QR, lets it sleep once linked, and keeps it awake again while a purchase is pending', async () => {
    const started = await c.binding.start('ALIPAY_HK');
    expect(last()).toBe(true);
    await approveOnPhone(started.qr?.codeValue as string);
    await waitFor(async () => c.binding.status().state === 'ACTIVE', 10_000, 'ACTIVE');
    expect(last()).toBe(false);

    // The pay's outcome is unknown (U): the purchase stays PROCESSING until the inquiry settles it.
    await s.admin('POST', '/faults', { endpoint: 'pay', mode: 'U', count: 1, resolveAs: 'S' });
    const quote = await c.purchases.quote({ sku: 'gems-100', quantity: 1 });
    const before = awake.length;
    const processing = await c.purchases.confirm({ purchaseIntentId: quote.purchaseIntentId });
    expect(processing.state).toBe('PROCESSING');
    // Only purchase changes happened since the QR: the guard must have followed them.
    expect(awake.slice(before)).toContain(true);
    await waitFor(async () => c.purchases.pending().length === 0, 15_000, 'purchase settled');
    await waitFor(async () => last() === false, 5_000, 'display allowed to sleep');
  });
});
