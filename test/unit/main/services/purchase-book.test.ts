import type { RelayPurchase } from '@scan-to-bind/shared/relay-api';
import { describe, expect, it } from 'vitest';
import { PurchaseBook } from '../../../../main/services/purchase-book.ts';
import type { PendingIntent } from '../../../../main/services/purchase-intent.ts';
import { RelayError } from '../../../../main/services/relay/errors.ts';
import { FakeClock } from '../../../fakes/fake-clock.ts';
import { MemoryLogger, MemoryPendingStore } from '../../../fakes/memory-stores.ts';
import { submittedIntent } from '../../../fakes/pending-intent.ts';

function setup() {
  const pending = new MemoryPendingStore<PendingIntent>();
  const log = new MemoryLogger();
  const events: string[] = [];
  const book = new PurchaseBook({ pending, clock: new FakeClock(), log, onSettled: (id) => events.push(`settled:${id}`) });
  book.onChange((s) => events.push(`${s.state}:${s.error ?? '-'}`));
  const intent = submittedIntent();
  book.track(intent);
  const wire = (state: RelayPurchase['state']): RelayPurchase => ({
    purchaseIntentId: intent.purchaseIntentId,
    state,
    version: 1,
    bindingId: intent.bindingId,
    sku: intent.sku,
    quantity: intent.quantity,
    total: intent.total,
  });
  return { book, pending, log, events, id: intent.purchaseIntentId, wire };
}

describe('PurchaseBook', () => {
  it('a status that changes nothing is not re-sent (a resumed result, a duplicate stream event); a real change is', () => {
    const { book, events, id, wire } = setup();
    book.show(id);
    book.show(id);
    book.applyWire(id, wire('PROCESSING'));
    book.applyWire(id, wire('PROCESSING'));
    book.applyWire(id, wire('SUCCEEDED'));
    book.show(id);
    book.applyWire(id, wire('SUCCEEDED'));
    book.finish(id, 'SUCCEEDED', null);
    expect(events).toEqual(['SUBMITTED:-', 'PROCESSING:-', `settled:${id}`, 'SUCCEEDED:-', `settled:${id}`, `settled:${id}`]);
  });

  it('a request answered SUBMITTED is unknown: shown PROCESSING and written acknowledged', async () => {
    const { book, pending, events, id, wire } = setup();
    book.applySent(id, wire('SUBMITTED'));
    expect(events).toEqual(['PROCESSING:-']);
    await pending.list();
    expect(pending.map.get(id)).toMatchObject({ state: 'PROCESSING', acknowledged: true });
  });

  it('a refusal settles FAILED with its code; no answer is PROCESSING', () => {
    const refused = setup();
    refused.book.applySendError(refused.id, new RelayError('SPENDING_CAP_DAILY', 422));
    expect(refused.events).toEqual([`settled:${refused.id}`, 'FAILED:SPENDING_CAP_DAILY']);
    const unanswered = setup();
    unanswered.book.applySendError(unanswered.id, new RelayError('OFFLINE', null));
    expect(unanswered.events).toEqual(['PROCESSING:-']);
    expect(unanswered.book.open()).toHaveLength(1);
  });

  it('a final result is settled, shown, then forgotten on disk; a contradicting one later is ignored and logged', async () => {
    const { book, pending, log, events, id, wire } = setup();
    book.persist(id);
    book.applyWire(id, wire('CANCELLED'));
    expect(events).toEqual([`settled:${id}`, 'CANCELLED:PAYMENT_CANCELLED']);
    book.applyWire(id, wire('SUCCEEDED'));
    expect(book.status(id)).toMatchObject({ state: 'CANCELLED', error: 'PAYMENT_CANCELLED' });
    expect(log.lines.some((l) => l.level === 'error' && l.message === 'contradicting purchase result ignored')).toBe(true);
    expect(await pending.list()).toEqual([]);
    expect(book.isOpen(id)).toBe(false);
  });
});
