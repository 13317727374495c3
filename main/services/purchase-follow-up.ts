import type { PurchaseBook } from './purchase-book.ts';
import type { PurchaseRelay } from './purchase-intent.ts';
import type { Clock } from './ports.ts';
import { type BackoffPolicy, backoffDelay } from './relay/backoff.ts';
import { toRelayError } from './relay/errors.ts';

/** The pace of inquiries while a result is unknown, unless the deps name one. */
export const FOLLOW_UP: BackoffPolicy = { baseMs: 1_000, maxMs: 30_000 };

/** What the follow-ups need. */
export interface PurchaseFollowUpDeps {
  readonly book: PurchaseBook;
  readonly relay: Pick<PurchaseRelay, 'createPurchase' | 'getPurchase'>;
  readonly clock: Clock;
  readonly policy: BackoffPolicy;
  /** Kiosks: the current visit id, sent with each purchase. */
  readonly visit?: (() => string | null) | undefined;
}

/**
 * Sending a tracked purchase to the relay and asking about it until it is final: the same id and
 * body every time (idempotent at the relay), on the backoff pace, never guessed, never
 * re-charged. What each answer means is the book's.
 */
export class PurchaseFollowUp {
  readonly #d: PurchaseFollowUpDeps;
  readonly #timers = new Map<string, unknown>();
  #disposed = false;

  constructor(deps: PurchaseFollowUpDeps) {
    this.#d = deps;
  }

  /** True once follow-ups were stopped (quit). */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** Sends (or re-sends, same id and body) the purchase to the relay. */
  async send(id: string): Promise<void> {
    const intent = this.#d.book.intent(id);
    if (!intent) return;
    try {
      const visitId = this.#d.visit?.() ?? null;
      const wire = await this.#d.relay.createPurchase({
        bindingId: intent.bindingId,
        sku: intent.sku,
        quantity: intent.quantity,
        purchaseIntentId: intent.purchaseIntentId,
        ...(visitId ? { visitId } : {}),
      });
      this.#d.book.applySent(id, wire);
    } catch (error) {
      this.#d.book.applySendError(id, toRelayError(error));
    }
  }

  /** Follows the purchase up from its first inquiry, if it has no final result (and none is scheduled). */
  start(id: string): void {
    if (this.#d.book.isOpen(id)) this.schedule(id, 0);
  }

  /** Schedules inquiry number `attempt` (one per purchase at a time). */
  schedule(id: string, attempt: number): void {
    if (this.#disposed || this.#timers.has(id)) return;
    const delay = backoffDelay(this.#d.policy, attempt);
    const timer = this.#d.clock.setTimeout(() => {
      this.#timers.delete(id);
      void this.#followUp(id, attempt);
    }, delay);
    this.#timers.set(id, timer);
  }

  /** The purchase got its final result: its follow-up stops. */
  stop(id: string): void {
    const timer = this.#timers.get(id);
    if (timer !== undefined) this.#d.clock.clearTimeout(timer);
    this.#timers.delete(id);
  }

  /** Stops every follow-up (quit). */
  dispose(): void {
    this.#disposed = true;
    for (const t of this.#timers.values()) this.#d.clock.clearTimeout(t);
    this.#timers.clear();
  }

  async #followUp(id: string, attempt: number): Promise<void> {
    if (!this.#d.book.isOpen(id) || this.#disposed) return;
    try {
      const wire = await this.#d.relay.getPurchase(id);
      if (wire) this.#d.book.applyWire(id, wire);
      else await this.send(id);
      if (this.#d.book.isOpen(id)) this.schedule(id, attempt + 1);
    } catch {
      this.schedule(id, attempt + 1);
    }
  }
}
