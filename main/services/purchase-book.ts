import { isPurchaseFinal, type Money, type PurchaseEvent, type PurchaseState, purchaseError, purchaseTransition } from '@scan-to-bind/shared/domain';
import type { RelayPurchase } from '@scan-to-bind/shared/relay-api';
import { eventForWire, isRefusal, type PendingIntent, type PurchaseStatus, statusOf } from './purchase-intent.ts';
import type { Clock, Logger, PendingIntentStore } from './ports.ts';
import type { RelayError } from './relay/errors.ts';

/** What the book needs. */
export interface PurchaseBookDeps {
  readonly pending: PendingIntentStore<PendingIntent>;
  readonly clock: Clock;
  readonly log: Logger;
  /** Called when a purchase gets its final result, before it is shown (the service drops its quote and follow-up). */
  readonly onSettled: (id: string) => void;
}

interface Tracked {
  intent: PendingIntent;
  status: PurchaseStatus;
}

/**
 * The purchases this client tracks (started here, resumed from the pending file or adopted from
 * the relay after a restart): the one owner of what a relay answer does to a purchase (the
 * purchase machine's step), of the status the renderer is shown and of the record on disk.
 * The purchase service decides when to ask the relay; this book reads what it answered.
 */
export class PurchaseBook {
  readonly #d: PurchaseBookDeps;
  readonly #tracked = new Map<string, Tracked>();
  readonly #listeners = new Set<(s: PurchaseStatus) => void>();
  /** The status last pushed for each purchase (see #emit). */
  readonly #pushed = new Map<string, PurchaseStatus>();

  constructor(deps: PurchaseBookDeps) {
    this.#d = deps;
  }

  /** Subscribes to purchase changes; returns the unsubscribe function. */
  onChange(listener: (s: PurchaseStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts tracking `intent` in its recorded state; neither shown nor written yet (see `show`, `persist`). */
  track(intent: PendingIntent): void {
    this.#tracked.set(intent.purchaseIntentId, { intent, status: this.#statusOf(intent, intent.state, null) });
  }

  /** True when the purchase is tracked. */
  has(id: string): boolean {
    return this.#tracked.has(id);
  }

  /** The tracked purchase's record, if any. */
  intent(id: string): PendingIntent | undefined {
    return this.#tracked.get(id)?.intent;
  }

  /** The tracked purchase's status, if any. */
  status(id: string): PurchaseStatus | undefined {
    return this.#tracked.get(id)?.status;
  }

  /** True when the purchase is tracked and has no final result. */
  isOpen(id: string): boolean {
    const state = this.#tracked.get(id)?.status.state;
    return state !== undefined && !isPurchaseFinal(state);
  }

  /** Purchases without a final result. */
  open(): PurchaseStatus[] {
    return [...this.#tracked.values()].filter((t) => !isPurchaseFinal(t.status.state)).map((t) => t.status);
  }

  /** Pushes the purchase's current status to the listeners (unless they have it already: see #emit) and answers it. */
  show(id: string): PurchaseStatus | undefined {
    const t = this.#tracked.get(id);
    if (t) this.#emit(t.status);
    return t?.status;
  }

  /** Applies a relay answer (the purchase as the relay holds it). */
  applyWire(id: string, wire: RelayPurchase): void {
    const t = this.#tracked.get(id);
    if (!t) return;
    if (!t.intent.acknowledged) t.intent = { ...t.intent, acknowledged: true };
    if (wire.total.minor !== t.intent.total.minor || wire.total.currency !== t.intent.total.currency) {
      this.#d.log.warn('relay total differs from the quote', { purchaseIntentId: id });
    }
    const event = eventForWire(wire);
    if (t.status.state === 'SUBMITTED' && event === 'PAY_UNKNOWN' && wire.state === 'SUBMITTED') {
      this.persist(id);
      return;
    }
    this.#move(id, event, wire.error?.code ?? null, wire.total);
  }

  /** Applies the relay's answer to a purchase request (sent or re-sent, same id and body). */
  applySent(id: string, wire: RelayPurchase): void {
    this.applyWire(id, wire);
    // The relay answers a confirm with SUBMITTED only when it already holds the intent and
    // is still waiting on the wallet (our first request's answer was lost, e.g. it timed
    // out and this is the retry): the result is unknown, so "Checking your payment…".
    if (wire.state === 'SUBMITTED' && this.#tracked.get(id)?.status.state === 'SUBMITTED') {
      this.#move(id, 'PAY_UNKNOWN', null);
    }
  }

  /** Applies a purchase request that failed with `e`. */
  applySendError(id: string, e: RelayError): void {
    // The relay answered and refused (limits, binding, SKU…): nothing was charged.
    if (isRefusal(e)) {
      this.finish(id, 'FAILED', e.code);
    } else {
      // No answer: the result is unknown. Show "Checking your payment…" and follow up.
      this.#move(id, 'PAY_UNKNOWN', null);
    }
  }

  /** Settles the purchase in the final `state`: shown first, forgotten on disk next. */
  finish(id: string, state: PurchaseState, error: PurchaseStatus['error'], total?: Money): void {
    const t = this.#tracked.get(id);
    if (!t) return;
    t.intent = { ...t.intent, state };
    t.status = this.#statusOf(t.intent, state, purchaseError(state, error), total);
    this.#d.onSettled(id);
    // A crash between the push and the removal only means resume() asks the relay and
    // reports the same final result again (never a new charge).
    this.#emit(t.status);
    this.#record('remove', id, this.#d.pending.remove(id));
  }

  /**
   * Writes the record of a quote, untracked (issue 17, #6): its intent id is on disk before Buy can
   * be clicked, so a restart can ask the relay about it whatever happened to the confirm's writes.
   */
  recordQuote(intent: PendingIntent): void {
    this.#record('put', intent.purchaseIntentId, this.#d.pending.put(intent.purchaseIntentId, intent));
  }

  /** Forgets the record of a quote that was never confirmed here; a tracked purchase's record stays. */
  forgetQuote(id: string): void {
    if (!this.#tracked.has(id)) this.#record('remove', id, this.#d.pending.remove(id));
  }

  /** Writes the purchase's current record (not awaited: see #record). */
  persist(id: string): void {
    const t = this.#tracked.get(id);
    if (t) this.#record('put', id, this.#d.pending.put(id, t.intent));
  }

  #move(id: string, event: PurchaseEvent, error: PurchaseStatus['error'], total?: Money): void {
    const t = this.#tracked.get(id);
    if (!t) return;
    const step = purchaseTransition(t.status.state, event);
    if (!step.ok) {
      this.#d.log.error('contradicting purchase result ignored', { purchaseIntentId: id, from: t.status.state, event });
      return;
    }
    if (isPurchaseFinal(step.state)) {
      this.finish(id, step.state, error, total);
      return;
    }
    t.intent = { ...t.intent, state: step.state };
    // Shown first, written next (issue 17, #6): the record only tells resume() to ask the relay.
    if (step.changed) {
      t.status = this.#statusOf(t.intent, step.state, null, total);
      this.#emit(t.status);
    }
    this.persist(id);
  }

  /**
   * Bookkeeping on disk is never awaited by a purchase's answer or push (issue 17, #6): the
   * store applies operations in call order, the record only tells resume() which intents to
   * ask the relay about, and the relay's own record stands in for a write that failed.
   */
  #record(op: 'put' | 'remove', id: string, done: Promise<void>): void {
    done.catch((error: unknown) => {
      this.#d.log.warn(`pending purchase ${op} failed; the relay keeps the intent`, { purchaseIntentId: id, error: String(error).slice(0, 200) });
    });
  }

  #statusOf(intent: PendingIntent, state: PurchaseState, error: PurchaseStatus['error'], total?: Money): PurchaseStatus {
    return statusOf(intent, state, error, this.#d.clock.now(), total);
  }

  /**
   * Pushes a status to the listeners (the windows and the embedding launcher's `purchase-result`)
   * unless it says nothing new: the same purchase in the same state with the same error, total and
   * item as last pushed in this run. After a restart several paths report the same purchase (its
   * record on disk, the relay's pending list, the status stream, a follow-up's answer), and a
   * launcher counting results must see each final result once; any real change is still pushed.
   */
  #emit(status: PurchaseStatus): void {
    const last = this.#pushed.get(status.purchaseIntentId);
    if (last && sameStatus(last, status)) return;
    this.#pushed.set(status.purchaseIntentId, status);
    for (const l of this.#listeners) l(status);
  }
}

/** True when two statuses of one purchase say the same (their times aside). */
function sameStatus(a: PurchaseStatus, b: PurchaseStatus): boolean {
  return (
    a.state === b.state &&
    a.error === b.error &&
    a.total.minor === b.total.minor &&
    a.total.currency === b.total.currency &&
    a.sku === b.sku &&
    a.quantity === b.quantity &&
    a.wallet === b.wallet
  );
}
