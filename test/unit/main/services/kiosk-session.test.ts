import { describe, expect, it, vi } from 'vitest';
import { createKioskReset, isCustomerActivity, KioskSession } from '../../../../main/services/kiosk-session.ts';
import { FakeClock } from '../../../fakes/fake-clock.ts';
import { MemoryLogger } from '../../../fakes/memory-stores.ts';

function setup() {
  const clock = new FakeClock();
  const reset = vi.fn(async () => {});
  const s = new KioskSession({ clock, log: new MemoryLogger(), timings: () => ({ idleSeconds: 60, promptSeconds: 3 }), reset });
  const seen: string[] = [];
  s.onChange((st) => seen.push(`${st.phase}${st.secondsLeft ?? ''}`));
  return { clock, reset, s, seen };
}

describe('KioskSession', () => {
  it('attract → active → "Still there?" countdown → reset → attract', async () => {
    const { clock, s, seen, reset } = setup();
    s.activity();
    await clock.advance(60_000);
    expect(s.status()).toEqual({ phase: 'still-there', secondsLeft: 3 });
    await clock.advance(3_000);
    expect(reset).toHaveBeenCalledTimes(1);
    expect(seen).toEqual(['active', 'still-there3', 'still-there2', 'still-there1', 'resetting', 'attract']);
  });

  it('activity restarts the idle timer; the prompt answer keeps the visit', async () => {
    const { clock, s, reset } = setup();
    s.activity();
    await clock.advance(50_000);
    s.activity();
    await clock.advance(50_000);
    expect(s.status().phase).toBe('active');
    await clock.advance(10_000);
    expect(s.status().phase).toBe('still-there');
    s.activity(); // a stray touch is not an answer
    expect(s.status().phase).toBe('still-there');
    s.stillHere();
    await clock.advance(30_000);
    expect(s.status().phase).toBe('active');
    expect(reset).not.toHaveBeenCalled();
  });

  it('endSession resets now', async () => {
    const { s, reset } = setup();
    s.activity();
    expect(await s.endSession()).toEqual({ phase: 'attract', secondsLeft: null });
    expect(reset).toHaveBeenCalledTimes(1);
  });
});

describe('createKioskReset', () => {
  const deps = (state: string) => {
    const calls: string[] = [];
    return {
      calls,
      d: {
        visits: {
          rotate: async (id: string | null) => {
            calls.push(`rotate:${id}`);
            throw new Error('disk full');
          },
          drain: () => calls.push('drain'),
        },
        binding: { bindingId: state === 'NONE' ? null : 'b-1', forgetVisit: async () => calls.push('forget') },
        purchases: { forgetQuotes: () => calls.push('quotes') },
        wipeStorage: async () => {
          calls.push('wipe');
          throw new Error('disk');
        },
        reloadWindows: () => calls.push('reload'),
        log: new MemoryLogger(),
      },
    };
  };

  it('queues the end of the visit binding first, then wipes locally and reloads even when steps fail, then drains', async () => {
    const { calls, d } = deps('ACTIVE');
    await createKioskReset(d)();
    expect(calls).toEqual(['rotate:b-1', 'forget', 'quotes', 'wipe', 'reload', 'drain']);
  });

  it('rotates the visit even without a binding', async () => {
    const { calls, d } = deps('NONE');
    await createKioskReset(d)();
    expect(calls).toEqual(['rotate:null', 'forget', 'quotes', 'wipe', 'reload', 'drain']);
  });
});

describe('isCustomerActivity', () => {
  it('a page loading (or reloading after a reset) is not a customer; a pick, a buy or an answer is', () => {
    for (const passive of ['appInfo', 'getSettings', 'listWallets', 'bindingStatus', 'pendingPurchases', 'purchaseStatus']) {
      expect(isCustomerActivity(passive)).toBe(false);
    }
    for (const action of ['startBinding', 'quotePurchase', 'confirmPurchase', 'setSettings', 'kioskStillHere']) {
      expect(isCustomerActivity(action)).toBe(true);
    }
  });
});
