import { describe, expect, it } from 'vitest';
import { relayEventRouter } from '../../../../../main/services/relay/event-router.ts';

function setup() {
  const applied: unknown[] = [];
  const routed: unknown[] = [];
  const warnings: [string, unknown][] = [];
  let syncs = 0;
  const router = relayEventRouter(
    {
      apply: (w) => {
        applied.push(w);
      },
      sync: async () => {
        syncs += 1;
      },
    },
    {
      onRelayEvent: async (w) => {
        routed.push(w);
      },
    },
    { debug: () => {}, info: () => {}, error: () => {}, warn: (m, f) => warnings.push([m, f]) },
  );
  const ev = (event: string, data: unknown) => ({ event, data: typeof data === 'string' ? data : JSON.stringify(data), id: null, retry: null });
  return { router, ev, applied, routed, warnings, syncs: () => syncs };
}

// The event data the relay sends (shared/relay-api RELAY_EVENTS).
const binding = {
  bindingId: '9a8b7c6d-1e2f-4a3b-8c4d-5e6f7a8b9c0d',
  state: 'ACTIVE',
  wallet: 'DANA',
  maskedAccount: '62-***-4321',
  version: 3,
  refreshesLeft: 0,
};
const purchase = {
  purchaseIntentId: '3f1c2b9e-8d7a-4c6b-9e5f-1a2b3c4d5e6f',
  state: 'SUCCEEDED',
  version: 2,
  bindingId: binding.bindingId,
  sku: 'gems-100',
  quantity: 1,
  total: { currency: 'IDR', minor: 1_500_000 },
};

describe('relay event router', () => {
  it('hands binding events to the binding service and purchase events to the purchase service', () => {
    const t = setup();
    t.router.onEvent(t.ev('binding', binding));
    t.router.onEvent(t.ev('purchase', purchase));
    expect(t.applied).toEqual([binding]);
    expect(t.routed).toEqual([purchase]);
  });

  it('drops unreadable or unknown events, logging only the event name', () => {
    const t = setup();
    t.router.onEvent(t.ev('binding', '{"bindingId":"x","accessToken":"secret-token'));
    t.router.onEvent(t.ev('binding', { ...binding, state: 'SCANNED' }));
    // The shapes the client used to guess at are refused: a wrapped purchase, a bare-string error.
    t.router.onEvent(t.ev('purchase', { purchase }));
    t.router.onEvent(t.ev('binding', { ...binding, error: 'QR_EXPIRED' }));
    t.router.onEvent(t.ev('refund', { refundId: 'r1' }));
    expect(t.applied).toEqual([]);
    expect(t.routed).toEqual([]);
    expect(t.warnings).toEqual([
      ['unreadable relay event', { event: 'binding' }],
      ['unreadable relay event', { event: 'binding' }],
      ['unreadable relay event', { event: 'purchase' }],
      ['unreadable relay event', { event: 'binding' }],
    ]);
    expect(JSON.stringify(t.warnings)).not.toContain('secret-token');
  });

  it('re-reads the binding on every reconnect, not on a disconnect', () => {
    const t = setup();
    t.router.onConnection(false);
    t.router.onConnection(true);
    t.router.onConnection(true);
    expect(t.syncs()).toBe(2);
  });

  it('a service failing on an event or a resync is logged, never an unhandled rejection', async () => {
    const warnings: string[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const router = relayEventRouter(
        { apply: () => undefined, sync: async () => Promise.reject(new Error('relay down')) },
        { onRelayEvent: async () => Promise.reject(new Error('ENOENT: pending file')) },
        { debug: () => {}, info: () => {}, error: () => {}, warn: (m) => warnings.push(m) },
      );
      router.onEvent({ event: 'purchase', data: JSON.stringify(purchase), id: null, retry: null });
      router.onConnection(true);
      await new Promise((r) => setTimeout(r, 20));
      expect(warnings).toEqual(['relay purchase event not applied', 'binding sync after reconnect failed']);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
