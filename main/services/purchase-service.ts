import { DomainError, isPurchaseFinal, type Money, type PurchaseEvent, type PurchaseState, purchaseTransition, walletInfo } from '@scan-to-bind/shared/domain';
import {
  eventForWire,
  intentFromRelay,
  isRefusal,
  type PendingIntent,
  type PurchaseQuote,
  type PurchaseServiceDeps,
  type PurchaseStatus,
  priceQuote,
  statusOf,
} from './purchase-intent.ts';
import { backoffDelay } from './relay/backoff.ts';
import { toRelayError } from './relay/errors.ts';
import type { RelayPurchase } from '@scan-to-bind/shared/relay-api';

export {
  isPendingIntent,
  type PendingIntent,
  type PurchaseQuote,
  type PurchaseRelay,
  type PurchaseServiceDeps,
  type PurchaseStatus,
} from './purchase-intent.ts';

interface Tracked {
  intent: PendingIntent;
  status: PurchaseStatus;
}

const MAX_QUOTES = 20;
/** An unconfirmed quote is offered again to another window for this long (its price stays current). */
const QUOTE_REUSE_MS = 60_000;

/**
 * Quotes and purchases. The intent id is minted once per purchase, when the dialog asks for
 * its quote, and reused by every click and every retry; it is written to disk before the
 * first request. An unknown result stays PROCESSING ("Checking your payment…") and is
 * followed up with the relay until final — never guessed, never re-charged. On start,
 * `resume()` asks the relay about every intent left by a crash and reports the final result.
 */
export class PurchaseService {
  readonly #d: PurchaseServiceDeps;
  readonly #quotes = new Map<string, PurchaseQuote & { bindingId: string; quotedAt: number }>();
  readonly #tracked = new Map<string, Tracked>();
  readonly #inflight = new Map<string, Promise<PurchaseStatus>>();
  readonly #timers = new Map<string, unknown>();
  readonly #listeners = new Set<(s: PurchaseStatus) => void>();
  #catalogue: { currency: string; at: number; items: Array<{ sku: string; title: string; price: Money }> } | null = null;
  #disposed = false;

  constructor(deps: PurchaseServiceDeps) {
    this.#d = deps;
  }

  /** Subscribes to purchase changes; returns the unsubscribe function. */
  onChange(listener: (s: PurchaseStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Prices an item from the relay's catalogue for the linked wallet and mints the purchase's
   * intent id. A purchase of the same item and quantity that is still open for this binding
   * (quoted but not confirmed, or confirmed without a final result) is the same purchase: a
   * second window gets its quote and intent id, so two windows can never charge twice.
   */
  async quote(input: { sku: string; quantity: number }): Promise<PurchaseQuote> {
    const binding = this.#d.binding.active();
    const now = this.#d.clock.now();
    for (const [id, open] of this.#quotes) {
      if (open.sku !== input.sku || open.quantity !== input.quantity || open.bindingId !== binding.bindingId) continue;
      const state = this.#tracked.get(id)?.status.state;
      if (state !== undefined ? !isPurchaseFinal(state) : now - open.quotedAt < QUOTE_REUSE_MS) {
        const { bindingId: _b, quotedAt: _q, ...quote } = open;
        return quote;
      }
    }
    const currency = walletInfo(binding.wallet).currency;
    const items = await this.#catalogueFor(currency);
    const quote = priceQuote(binding, items, input, this.#d.newIntentId());
    this.#quotes.set(quote.purchaseIntentId, { ...quote, bindingId: binding.bindingId, quotedAt: now });
    while (this.#quotes.size > MAX_QUOTES) this.#quotes.delete(this.#quotes.keys().next().value as string);
    return quote;
  }

  /**
   * Buys what a quote offered. A second click (or a second call) with the same id returns the
   * same purchase; nothing is ever sent twice under different ids.
   */
  confirm(input: { purchaseIntentId: string }): Promise<PurchaseStatus> {
    const id = input.purchaseIntentId;
    const running = this.#inflight.get(id);
    if (running) return running;
    const known = this.#tracked.get(id);
    if (known) return Promise.resolve(known.status);
    const quote = this.#quotes.get(id);
    if (!quote) return Promise.reject(new DomainError('NOT_FOUND', 'no such quote'));
    if (quote.blockedBy) return Promise.reject(new DomainError(quote.blockedBy));
    const p = this.#begin(quote).finally(() => this.#inflight.delete(id));
    this.#inflight.set(id, p);
    return p;
  }

  /**
   * The status of a purchase this client tracks (started here, or resumed from the pending file
   * after a restart). Any other id is NOT_FOUND: the renderer only asks about purchases it was
   * shown, and the relay's own record reaches this client through the status stream.
   */
  async status(input: { purchaseIntentId: string }): Promise<PurchaseStatus> {
    const known = this.#tracked.get(input.purchaseIntentId);
    if (known) return known.status;
    throw new DomainError('NOT_FOUND');
  }

  /** Purchases without a final result. */
  pending(): PurchaseStatus[] {
    return [...this.#tracked.values()].filter((t) => !isPurchaseFinal(t.status.state)).map((t) => t.status);
  }

  /** Forgets unconfirmed quotes (a kiosk reset). Pending purchases are kept: money is never forgotten. */
  forgetQuotes(): void {
    this.#quotes.clear();
  }

  /**
   * After a crash or restart: for every persisted intent, ask the relay. Final → report it and
   * forget it. Unknown → keep following up. Never received by the relay → re-send the same
   * id and body if recent (idempotent at the relay), else report it failed (not charged).
   */
  async resume(): Promise<PurchaseStatus[]> {
    const intents = await this.#d.pending.list();
    const out: PurchaseStatus[] = [];
    for (const intent of intents) {
      const tracked: Tracked = { intent, status: this.#statusOf(intent, intent.state, null) };
      this.#tracked.set(intent.purchaseIntentId, tracked);
      try {
        const wire = await this.#d.relay.getPurchase(intent.purchaseIntentId);
        if (wire) {
          this.#applyWire(intent.purchaseIntentId, wire);
        } else if (this.#d.clock.now() - intent.createdAt <= (this.#d.resubmitWindowMs ?? 10 * 60_000)) {
          await this.#send(intent.purchaseIntentId);
        } else {
          this.#finish(intent.purchaseIntentId, 'FAILED', 'PAYMENT_FAILED');
        }
        if (this.#isOpen(intent.purchaseIntentId)) this.#scheduleFollowUp(intent.purchaseIntentId, 0);
      } catch (error) {
        this.#d.log.warn('resume: relay not reachable, will follow up', { code: toRelayError(error).code });
        this.#scheduleFollowUp(intent.purchaseIntentId, 0);
      }
      const t = this.#tracked.get(intent.purchaseIntentId);
      if (t) {
        this.#emit(t.status);
        out.push(t.status);
      }
    }
    out.push(...(await this.#adoptRelayPending(0)));
    return out;
  }

  /**
   * The relay's unfinished purchases of this caller that no record on disk named: the pay
   * request went out before its record landed and main died in between (see #begin). Each is
   * tracked, written and followed up like a resumed intent. A relay that cannot be asked now
   * is asked again on the follow-up pace until it answers once.
   */
  async #adoptRelayPending(attempt: number): Promise<PurchaseStatus[]> {
    let open: RelayPurchase[];
    try {
      open = await this.#d.relay.pendingPurchases();
    } catch (error) {
      this.#d.log.warn('resume: relay pending purchases not listed, will ask again', { code: toRelayError(error).code });
      if (!this.#disposed) {
        const delay = backoffDelay(this.#d.followUp ?? { baseMs: 1_000, maxMs: 30_000 }, attempt);
        this.#d.clock.setTimeout(() => {
          if (!this.#disposed) void this.#adoptRelayPending(attempt + 1);
        }, delay);
      }
      return [];
    }
    const out: PurchaseStatus[] = [];
    for (const wire of open) {
      if (this.#tracked.has(wire.purchaseIntentId)) continue;
      const intent = intentFromRelay(wire, this.#d.clock.now());
      if (!intent) continue;
      this.#tracked.set(intent.purchaseIntentId, { intent, status: this.#statusOf(intent, intent.state, null) });
      // Written by the step the relay's state makes (#applyWire).
      this.#applyWire(intent.purchaseIntentId, wire);
      if (this.#isOpen(intent.purchaseIntentId)) this.#scheduleFollowUp(intent.purchaseIntentId, 0);
      const t = this.#tracked.get(intent.purchaseIntentId);
      if (t) {
        this.#emit(t.status);
        out.push(t.status);
      }
    }
    return out;
  }

  /** Applies a `purchase` event from the status stream. */
  async onRelayEvent(wire: RelayPurchase): Promise<void> {
    if (this.#tracked.has(wire.purchaseIntentId)) this.#applyWire(wire.purchaseIntentId, wire);
  }

  /** Stops follow-ups (quit). */
  dispose(): void {
    this.#disposed = true;
    for (const t of this.#timers.values()) this.#d.clock.clearTimeout(t);
    this.#timers.clear();
  }

  async #catalogueFor(currency: 'HKD' | 'IDR') {
    const c = this.#catalogue;
    if (c && c.currency === currency && this.#d.clock.now() - c.at < 60_000) return c.items;
    const items = await this.#d.relay.catalogue(currency).catch((e: unknown) => {
      throw toRelayError(e);
    });
    this.#catalogue = { currency, at: this.#d.clock.now(), items };
    return items;
  }

  async #begin(quote: PurchaseQuote & { bindingId: string; quotedAt: number }): Promise<PurchaseStatus> {
    const submit = purchaseTransition('CREATED', 'SUBMIT');
    if (!submit.ok) throw new DomainError('ILLEGAL_TRANSITION');
    const intent: PendingIntent = {
      purchaseIntentId: quote.purchaseIntentId,
      bindingId: quote.bindingId,
      sku: quote.sku,
      quantity: quote.quantity,
      total: quote.total,
      wallet: quote.wallet,
      createdAt: this.#d.clock.now(),
      acknowledged: false,
      state: submit.state,
    };
    this.#tracked.set(intent.purchaseIntentId, { intent, status: this.#statusOf(intent, intent.state, null) });
    // Written beside the request, not before it (issue 17, #6: the pay request waits on no
    // disk). Safe because every crash state is still recovered by asking the relay:
    // - the request never reached the relay: nothing was charged; the record, if it landed,
    //   makes resume() re-send the same id within the window or report it failed (as before);
    // - the relay received it and the record never landed: the relay holds the intent under
    //   this caller until it is final, and resume() adopts the relay's pending purchases
    //   (#adoptRelayPending), following each up to its final result;
    // - the relay finished it before the restart and the record never landed: charged once,
    //   the relay's record and its fulfilment stand; only the restarted client does not show
    //   that result again.
    // The pending store applies operations in call order, so a later removal follows this put.
    this.#persist(intent.purchaseIntentId);
    this.#emit(this.#tracked.get(intent.purchaseIntentId)!.status);
    await this.#send(intent.purchaseIntentId);
    if (this.#isOpen(intent.purchaseIntentId)) this.#scheduleFollowUp(intent.purchaseIntentId, 0);
    return this.#tracked.get(intent.purchaseIntentId)!.status;
  }

  /** Sends (or re-sends, same id and body) the purchase to the relay. */
  async #send(id: string): Promise<void> {
    const t = this.#tracked.get(id);
    if (!t) return;
    const { intent } = t;
    try {
      const visitId = this.#d.visit?.() ?? null;
      const wire = await this.#d.relay.createPurchase({
        bindingId: intent.bindingId,
        sku: intent.sku,
        quantity: intent.quantity,
        purchaseIntentId: intent.purchaseIntentId,
        ...(visitId ? { visitId } : {}),
      });
      this.#applyWire(id, wire);
      // The relay answers a confirm with SUBMITTED only when it already holds the intent and
      // is still waiting on the wallet (our first request's answer was lost, e.g. it timed
      // out and this is the retry): the result is unknown, so "Checking your payment…".
      if (wire.state === 'SUBMITTED' && this.#tracked.get(id)?.status.state === 'SUBMITTED') {
        this.#move(id, 'PAY_UNKNOWN', null);
      }
    } catch (error) {
      const e = toRelayError(error);
      // The relay answered and refused (limits, binding, SKU…): nothing was charged.
      if (isRefusal(e)) {
        this.#finish(id, 'FAILED', e.code);
      } else {
        // No answer: the result is unknown. Show "Checking your payment…" and follow up.
        this.#move(id, 'PAY_UNKNOWN', null);
      }
    }
  }

  #applyWire(id: string, wire: RelayPurchase): void {
    const t = this.#tracked.get(id);
    if (!t) return;
    if (!t.intent.acknowledged) t.intent = { ...t.intent, acknowledged: true };
    if (wire.total.minor !== t.intent.total.minor || wire.total.currency !== t.intent.total.currency) {
      this.#d.log.warn('relay total differs from the quote', { purchaseIntentId: id });
    }
    const event = eventForWire(wire);
    if (t.status.state === 'SUBMITTED' && event === 'PAY_UNKNOWN' && wire.state === 'SUBMITTED') {
      this.#persist(id);
      return;
    }
    this.#move(id, event, wire.error?.code ?? null, wire.total);
  }

  #isOpen(id: string): boolean {
    const state = this.#tracked.get(id)?.status.state;
    return state !== undefined && !isPurchaseFinal(state);
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
      this.#finish(id, step.state, error, total);
      return;
    }
    t.intent = { ...t.intent, state: step.state };
    // Shown first, written next (issue 17, #6): the record only tells resume() to ask the relay.
    if (step.changed) {
      t.status = this.#statusOf(t.intent, step.state, null, total);
      this.#emit(t.status);
    }
    this.#persist(id);
  }

  #finish(id: string, state: PurchaseState, error: PurchaseStatus['error'], total?: Money): void {
    const t = this.#tracked.get(id);
    if (!t) return;
    const finalError = state === 'SUCCEEDED' ? null : (error ?? (state === 'CANCELLED' ? 'PAYMENT_CANCELLED' : 'PAYMENT_FAILED'));
    t.intent = { ...t.intent, state };
    t.status = this.#statusOf(t.intent, state, finalError, total);
    const timer = this.#timers.get(id);
    if (timer !== undefined) this.#d.clock.clearTimeout(timer);
    this.#timers.delete(id);
    // Settled: the next quote for this item is a new purchase.
    this.#quotes.delete(id);
    // Shown first, forgotten on disk next: a crash in between only means resume() asks the
    // relay and reports the same final result again (never a new charge).
    this.#emit(t.status);
    this.#record('remove', id, this.#d.pending.remove(id));
  }

  /** Writes the intent's current record (not awaited: see #record). */
  #persist(id: string): void {
    const t = this.#tracked.get(id);
    if (t) this.#record('put', id, this.#d.pending.put(id, t.intent));
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

  #scheduleFollowUp(id: string, attempt: number): void {
    if (this.#disposed || this.#timers.has(id)) return;
    const delay = backoffDelay(this.#d.followUp ?? { baseMs: 1_000, maxMs: 30_000 }, attempt);
    const timer = this.#d.clock.setTimeout(() => {
      this.#timers.delete(id);
      void this.#followUp(id, attempt);
    }, delay);
    this.#timers.set(id, timer);
  }

  async #followUp(id: string, attempt: number): Promise<void> {
    const t = this.#tracked.get(id);
    if (!t || isPurchaseFinal(t.status.state) || this.#disposed) return;
    try {
      const wire = await this.#d.relay.getPurchase(id);
      if (wire) this.#applyWire(id, wire);
      else await this.#send(id);
      if (this.#isOpen(id)) this.#scheduleFollowUp(id, attempt + 1);
    } catch {
      this.#scheduleFollowUp(id, attempt + 1);
    }
  }

  #statusOf(intent: PendingIntent, state: PurchaseState, error: PurchaseStatus['error'], total?: Money): PurchaseStatus {
    return statusOf(intent, state, error, this.#d.clock.now(), total);
  }

  #emit(status: PurchaseStatus): void {
    for (const l of this.#listeners) l(status);
  }
}
