import { DomainError, isPurchaseFinal, type Money, type PurchaseState, purchaseTransition, walletInfo } from '@scan-to-bind/shared/domain';
import { PurchaseBook } from './purchase-book.ts';
import { intentFromRelay, type PendingIntent, type PurchaseQuote, type PurchaseServiceDeps, type PurchaseStatus, priceQuote } from './purchase-intent.ts';
import { FOLLOW_UP, PurchaseFollowUp } from './purchase-follow-up.ts';
import { backoffDelay } from './relay/backoff.ts';
import { toRelayError } from './relay/errors.ts';
import type { RelayPurchase } from '@scan-to-bind/shared/relay-api';

export {
  type PendingIntent,
  PendingIntentSchema,
  type PurchaseQuote,
  type PurchaseRelay,
  type PurchaseServiceDeps,
  type PurchaseStatus,
} from './purchase-intent.ts';

const MAX_QUOTES = 20;
/** An unconfirmed quote is offered again to another window for this long (its price stays current). */
const QUOTE_REUSE_MS = 60_000;

/**
 * Quotes and purchases. The intent id is minted once per purchase, when the dialog asks for
 * its quote, and reused by every click and every retry; it is written to disk before the
 * first request. An unknown result stays PROCESSING ("Checking your payment…") and is
 * followed up with the relay until final — never guessed, never re-charged. On start,
 * `resume()` asks the relay about every intent left by a crash and reports the final result.
 * What each answer does to a purchase, its status and its record is the book's (purchase-book.ts).
 */
export class PurchaseService {
  readonly #d: PurchaseServiceDeps;
  readonly #quotes = new Map<string, PurchaseQuote & { bindingId: string; quotedAt: number }>();
  readonly #book: PurchaseBook;
  readonly #inflight = new Map<string, Promise<PurchaseStatus>>();
  readonly #followUps: PurchaseFollowUp;
  #catalogue: { currency: string; at: number; items: Array<{ sku: string; title: string; price: Money }> } | null = null;

  constructor(deps: PurchaseServiceDeps) {
    this.#d = deps;
    this.#book = new PurchaseBook({ pending: deps.pending, clock: deps.clock, log: deps.log, onSettled: (id) => this.#settled(id) });
    this.#followUps = new PurchaseFollowUp({ book: this.#book, relay: deps.relay, clock: deps.clock, policy: deps.followUp ?? FOLLOW_UP, visit: deps.visit });
  }

  /** Subscribes to purchase changes; returns the unsubscribe function. */
  onChange(listener: (s: PurchaseStatus) => void): () => void {
    return this.#book.onChange(listener);
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
      const state = this.#book.status(id)?.state;
      if (state !== undefined ? !isPurchaseFinal(state) : now - open.quotedAt < QUOTE_REUSE_MS) {
        const { bindingId: _b, quotedAt: _q, ...quote } = open;
        return quote;
      }
    }
    const currency = walletInfo(binding.wallet).currency;
    const items = await this.#catalogueFor(currency);
    const quote = priceQuote(binding, items, input, this.#d.newIntentId());
    const open = { ...quote, bindingId: binding.bindingId, quotedAt: now };
    this.#quotes.set(quote.purchaseIntentId, open);
    // On disk before Buy can be clicked, not on the pay path (see #resumeQuote).
    this.#book.recordQuote(this.#intentOf(open, 'CREATED'));
    while (this.#quotes.size > MAX_QUOTES) this.#dropQuote(this.#quotes.keys().next().value as string);
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
    const known = this.#book.status(id);
    if (known) return Promise.resolve(known);
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
    const known = this.#book.status(input.purchaseIntentId);
    if (known) return known;
    throw new DomainError('NOT_FOUND');
  }

  /** Purchases without a final result. */
  pending(): PurchaseStatus[] {
    return this.#book.open();
  }

  /** Forgets unconfirmed quotes (a kiosk reset). Pending purchases are kept: money is never forgotten. */
  forgetQuotes(): void {
    for (const id of [...this.#quotes.keys()]) this.#dropQuote(id);
  }

  /**
   * After a crash or restart: for every persisted intent, ask the relay. Final → report it and
   * forget it. Unknown → keep following up. Never received by the relay → re-send the same
   * id and body if recent (idempotent at the relay), else report it failed (not charged). A
   * quote's record is asked about too (#resumeQuote); then the relay's own unfinished purchases.
   */
  async resume(): Promise<PurchaseStatus[]> {
    const intents = await this.#d.pending.list();
    const out: PurchaseStatus[] = [];
    for (const intent of intents) {
      const shown = intent.state === 'CREATED' ? await this.#resumeQuote(intent) : await this.#resumeIntent(intent);
      if (shown) out.push(shown);
    }
    out.push(...(await this.#adoptRelayPending(0)));
    return out;
  }

  /** A confirmed intent from disk: see resume(). */
  async #resumeIntent(intent: PendingIntent): Promise<PurchaseStatus | undefined> {
    this.#book.track(intent);
    try {
      const wire = await this.#d.relay.getPurchase(intent.purchaseIntentId);
      if (wire) {
        this.#book.applyWire(intent.purchaseIntentId, wire);
      } else if (this.#d.clock.now() - intent.createdAt <= (this.#d.resubmitWindowMs ?? 10 * 60_000)) {
        await this.#followUps.send(intent.purchaseIntentId);
      } else {
        this.#book.finish(intent.purchaseIntentId, 'FAILED', 'PAYMENT_FAILED');
      }
      this.#followUps.start(intent.purchaseIntentId);
    } catch (error) {
      this.#d.log.warn('resume: relay not reachable, will follow up', { code: toRelayError(error).code });
      this.#followUps.schedule(intent.purchaseIntentId, 0);
    }
    return this.#book.show(intent.purchaseIntentId);
  }

  /**
   * A quote's record from disk (written when the quote was given, before Buy could be clicked).
   * The relay knows its id only if Buy was clicked: then it is adopted from the relay's answer, so
   * a result the relay reached before the restart is shown even when the confirm's own record never
   * landed. Unknown to the relay: never confirmed, so forgotten; nothing is sent or reported. A relay
   * that cannot be asked now leaves the record for the next start.
   */
  async #resumeQuote(intent: PendingIntent): Promise<PurchaseStatus | undefined> {
    let wire: RelayPurchase | null;
    try {
      wire = await this.#d.relay.getPurchase(intent.purchaseIntentId);
    } catch (error) {
      this.#d.log.warn('resume: relay not reachable, quote record kept', { code: toRelayError(error).code });
      return undefined;
    }
    if (!wire) {
      this.#book.forgetQuote(intent.purchaseIntentId);
      return undefined;
    }
    return this.#adopt({ ...intent, acknowledged: true, state: 'SUBMITTED' }, wire);
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
      if (!this.#followUps.isDisposed) {
        const delay = backoffDelay(this.#d.followUp ?? FOLLOW_UP, attempt);
        this.#d.clock.setTimeout(() => {
          if (!this.#followUps.isDisposed) void this.#adoptRelayPending(attempt + 1);
        }, delay);
      }
      return [];
    }
    const out: PurchaseStatus[] = [];
    for (const wire of open) {
      if (this.#book.has(wire.purchaseIntentId)) continue;
      const intent = intentFromRelay(wire, this.#d.clock.now());
      if (!intent) continue;
      const shown = this.#adopt(intent, wire);
      if (shown) out.push(shown);
    }
    return out;
  }

  /** Tracks a purchase the relay holds (state SUBMITTED) from its answer, follows it up while open, and shows it. */
  #adopt(intent: PendingIntent, wire: RelayPurchase): PurchaseStatus | undefined {
    this.#book.track(intent);
    // Written by the step the relay's state makes (PurchaseBook.applyWire).
    this.#book.applyWire(intent.purchaseIntentId, wire);
    this.#followUps.start(intent.purchaseIntentId);
    return this.#book.show(intent.purchaseIntentId);
  }

  /** Applies a `purchase` event from the status stream. */
  async onRelayEvent(wire: RelayPurchase): Promise<void> {
    if (this.#book.has(wire.purchaseIntentId)) this.#book.applyWire(wire.purchaseIntentId, wire);
  }

  /** Stops follow-ups (quit). */
  dispose(): void {
    this.#followUps.dispose();
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
    const intent = this.#intentOf(quote, submit.state);
    this.#book.track(intent);
    // Written beside the request, not before it (issue 17, #6: the pay request waits on no
    // disk). Safe because every crash state is still recovered by asking the relay:
    // - the request never reached the relay: nothing was charged; the record, if it landed,
    //   makes resume() re-send the same id within the window or report it failed (as before);
    // - the relay received it and the record never landed: the relay holds the intent under
    //   this caller until it is final, and resume() adopts the relay's pending purchases
    //   (#adoptRelayPending), following each up to its final result;
    // - the relay finished it before the restart and the record never landed: charged once;
    //   the quote's record, written when the quote was given, makes resume() ask the relay and
    //   show that result (#resumeQuote). Only a click within the quote record's own write
    //   leaves nothing on disk: the relay's record and its fulfilment still stand.
    // The pending store applies operations in call order, so a later removal follows this put.
    this.#book.persist(intent.purchaseIntentId);
    this.#book.show(intent.purchaseIntentId);
    await this.#followUps.send(intent.purchaseIntentId);
    this.#followUps.start(intent.purchaseIntentId);
    return this.#book.status(intent.purchaseIntentId)!;
  }

  /** The record of a quoted purchase in `state`. */
  #intentOf(quote: PurchaseQuote & { bindingId: string }, state: PurchaseState): PendingIntent {
    return {
      purchaseIntentId: quote.purchaseIntentId,
      bindingId: quote.bindingId,
      sku: quote.sku,
      quantity: quote.quantity,
      total: quote.total,
      wallet: quote.wallet,
      createdAt: this.#d.clock.now(),
      acknowledged: false,
      state,
    };
  }

  /** Forgets a quote, and its record unless it was confirmed. */
  #dropQuote(id: string): void {
    this.#quotes.delete(id);
    this.#book.forgetQuote(id);
  }

  /** A purchase got its final result: its follow-up stops and the next quote for its item is a new purchase. */
  #settled(id: string): void {
    this.#followUps.stop(id);
    this.#quotes.delete(id);
  }
}
