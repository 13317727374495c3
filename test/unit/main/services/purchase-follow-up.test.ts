import { describe, expect, it } from 'vitest';
import { PurchaseBook } from '../../../../main/services/purchase-book.ts';
import { PurchaseFollowUp } from '../../../../main/services/purchase-follow-up.ts';
import type { PendingIntent } from '../../../../main/services/purchase-intent.ts';
import { FakeClock } from '../../../fakes/fake-clock.ts';
import { FakeRelay } from '../../../fakes/fake-relay.ts';
import { MemoryLogger, MemoryPendingStore } from '../../../fakes/memory-stores.ts';
import { submittedIntent } from '../../../fakes/pending-intent.ts';

function setup() {
  const clock = new FakeClock();
  const relay = new FakeRelay();
  let followUps: PurchaseFollowUp | null = null;
  const book = new PurchaseBook({ pending: new MemoryPendingStore<PendingIntent>(), clock, log: new MemoryLogger(), onSettled: (id) => followUps?.stop(id) });
  followUps = new PurchaseFollowUp({ book, relay, clock, policy: { baseMs: 1000, maxMs: 4000 }, visit: () => 'visit-1' });
  const intent = submittedIntent();
  const id = intent.purchaseIntentId;
  book.track(intent);
  return { clock, relay, book, followUps, id };
}

describe('PurchaseFollowUp', () => {
  it('sends with the visit id; an unknown result is asked about on the backoff pace until final, then no more', async () => {
    const { clock, relay, book, followUps, id } = setup();
    relay.purchaseMode = 'drop'; // the relay took it, the answer was lost
    relay.purchaseOutcome = 'PROCESSING';
    await followUps.send(id);
    expect(relay.calls).toEqual([`createPurchase ${id}`]);
    expect(JSON.parse(relay.purchases.get(id)?.body ?? '{}')).toMatchObject({ purchaseIntentId: id, visitId: 'visit-1' });
    expect(book.status(id)?.state).toBe('PROCESSING');
    followUps.start(id);
    followUps.start(id); // one follow-up per purchase at a time
    expect(clock.pending).toBe(1);
    await clock.advance(1000);
    expect(relay.count('getPurchase')).toBe(1);
    const stored = relay.purchases.get(id);
    if (stored) stored.state = 'SUCCEEDED';
    await clock.advance(2000); // the second inquiry waits up to twice as long (backoff with jitter)
    expect(relay.count('getPurchase')).toBe(2);
    expect(book.status(id)?.state).toBe('SUCCEEDED');
    expect(clock.pending).toBe(0);
  });

  it('re-sends the same purchase when the relay never received it; dispose stops every follow-up', async () => {
    const { clock, relay, book, followUps, id } = setup();
    relay.purchaseMode = 'down';
    await followUps.send(id);
    followUps.start(id);
    relay.purchaseMode = 'ok';
    await clock.advance(1000);
    expect(relay.calls).toEqual([`createPurchase ${id}`, `getPurchase ${id}`, `createPurchase ${id}`]);
    expect(book.status(id)?.state).toBe('SUCCEEDED');

    const other = setup();
    other.relay.purchaseMode = 'down';
    await other.followUps.send(other.id);
    other.followUps.start(other.id);
    other.followUps.dispose();
    expect(other.followUps.isDisposed).toBe(true);
    expect(other.clock.pending).toBe(0);
    other.followUps.schedule(other.id, 0);
    expect(other.clock.pending).toBe(0);
  });
});
