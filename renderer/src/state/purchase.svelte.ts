import { type ErrorCode, isPurchaseFinal, type Money, purchaseError, WALLETS, type WalletId } from '@scan-to-bind/shared/domain';
import type { Api, InvokeOutput, IpcResult } from '@scan-to-bind/shared/ipc';

export type PurchaseQuote = InvokeOutput<'quotePurchase'>;
export type PurchaseStatus = InvokeOutput<'confirmPurchase'>;

/** Where the dialog is: every phase maps to one screen. */
export type PurchasePhase = 'idle' | 'quoting' | 'ready' | 'paying' | 'checking' | 'succeeded' | 'failed';

/** How a failure is explained and what the dialog offers next. */
export type FailureKind = 'balance' | 'limit' | 'unlinked' | 'keychain' | 'failed';

const LIMITS: readonly ErrorCode[] = [
  'BELOW_MIN',
  'ABOVE_PER_TRANSACTION',
  'ABOVE_DAILY',
  'ABOVE_YEARLY',
  'SPENDING_CAP_DAILY',
  'SPENDING_CAP_MONTHLY',
  'WALLET_LIMIT_REACHED',
];
const UNLINKED: readonly ErrorCode[] = ['BINDING_NOT_FOUND', 'BINDING_NOT_ACTIVE', 'BINDING_EXPIRED', 'BINDING_REVOKED', 'BINDING_FAILED', 'KIOSK_VISIT_ENDED'];
/** Answers that mean "the result is not known yet": never a reason to pay again. */
const UNKNOWN: readonly ErrorCode[] = ['PAYMENT_PENDING', 'TIMEOUT', 'OFFLINE', 'RELAY_UNAVAILABLE'];

/** Sorts a failure code into the dialog's result screens. */
export function failureKind(code: ErrorCode): FailureKind {
  if (code === 'INSUFFICIENT_BALANCE') return 'balance';
  if (LIMITS.includes(code)) return 'limit';
  if (UNLINKED.includes(code)) return 'unlinked';
  if (code === 'KEYCHAIN_UNAVAILABLE' || code === 'KEYCHAIN_LOCKED') return 'keychain';
  return 'failed';
}

/** The wallet cap a limit code refers to, for the `{limit}` of its message (null when unknown here). */
export function walletLimit(code: ErrorCode, wallet: WalletId): Money | null {
  const { caps, currency } = WALLETS[wallet];
  const minor = {
    BELOW_MIN: caps.minPerTransaction,
    ABOVE_PER_TRANSACTION: caps.maxPerTransaction,
    ABOVE_DAILY: caps.maxPerDay,
    ABOVE_YEARLY: caps.maxPerYear,
  }[code as string];
  return minor === undefined ? null : { currency, minor };
}

/**
 * One purchase: quote (main mints the intent id), one Buy that locks on the first click, and
 * the result from the confirm answer or a later purchaseChanged push. Buy is refused while
 * locked; the lock opens again only when main said for certain that nothing was charged.
 */
export class PurchaseFlow {
  phase = $state<PurchasePhase>('idle');
  quote = $state.raw<PurchaseQuote | null>(null);
  status = $state.raw<PurchaseStatus | null>(null);
  /** Why the purchase did not go through (quote refused, confirm refused, or status.error). */
  error = $state<ErrorCode | null>(null);
  /** Pending purchases from before a restart and their updates. */
  pending = $state.raw<PurchaseStatus[]>([]);
  #locked = false;
  #sku: string | null = null;
  #quantity = 1;
  readonly #api: Api;

  constructor(api: Api) {
    this.#api = api;
  }

  get locked(): boolean {
    return this.phase === 'paying' || this.phase === 'checking';
  }

  /** Asks main for a quote (a new purchase, with a new intent id). */
  async load(sku: string, quantity: number): Promise<void> {
    this.#sku = sku;
    this.#quantity = quantity;
    this.#locked = false;
    this.phase = 'quoting';
    this.status = null;
    this.error = null;
    const r = await this.#api.quotePurchase({ sku, quantity });
    if (r.ok) {
      this.quote = r.value;
      this.phase = 'ready';
      // Main hands an open purchase of the same item back (another window, or this one before a
      // reload): show where it stands instead of a Buy for money already on its way.
      const known = this.pending.find((p) => p.purchaseIntentId === r.value.purchaseIntentId);
      if (known) this.update(known);
    } else {
      this.quote = null;
      this.error = r.code;
      this.phase = 'failed';
    }
  }

  /** A fresh quote for the same item after a definite failure. */
  reload(): Promise<void> {
    return this.#sku ? this.load(this.#sku, this.#quantity) : Promise.resolve();
  }

  /**
   * The Buy button. Synchronous up to the invoke so a second click in the same frame finds the
   * lock closed; the second click sends nothing.
   */
  buy(): Promise<void> {
    const q = this.quote;
    if (this.#locked || !q || q.blockedBy || (this.phase !== 'ready' && this.phase !== 'failed')) {
      return Promise.resolve();
    }
    this.#locked = true;
    this.phase = 'paying';
    this.error = null;
    return this.#api.confirmPurchase({ purchaseIntentId: q.purchaseIntentId }).then((r) => this.#answer(r));
  }

  /** Asks main where the purchase stands (never a new charge). */
  async check(): Promise<void> {
    const id = this.quote?.purchaseIntentId;
    if (id) this.#answer(await this.#api.purchaseStatus({ purchaseIntentId: id }));
  }

  #answer(r: IpcResult<PurchaseStatus>): void {
    if (r.ok) {
      this.update(r.value);
    } else if (UNKNOWN.includes(r.code)) {
      this.phase = 'checking';
    } else if (this.phase !== 'succeeded') {
      // Refused before anything was charged (the keychain, a lock, a limit): the same intent
      // may be confirmed again, which main deduplicates.
      this.error = r.code;
      this.phase = 'failed';
      this.#locked = false;
    }
  }

  /** Takes a status from an answer or a push; a final result is never overwritten. */
  update(s: PurchaseStatus): void {
    this.pending = this.pending.map((p) => (p.purchaseIntentId === s.purchaseIntentId ? s : p));
    if (s.purchaseIntentId !== this.quote?.purchaseIntentId) return;
    if (this.status && isPurchaseFinal(this.status.state)) return;
    this.status = s;
    if (s.state === 'SUCCEEDED') {
      this.phase = 'succeeded';
    } else if (s.state === 'FAILED' || s.state === 'CANCELLED') {
      this.error = purchaseError(s.state, s.error);
      this.phase = 'failed';
    } else if (s.state === 'PROCESSING') {
      this.phase = 'checking';
    }
  }

  /** True when "Try again" would confirm the same intent (nothing was sent) rather than re-quote. */
  get retrySameIntent(): boolean {
    return this.status === null && this.quote !== null;
  }

  retry(): Promise<void> {
    return this.retrySameIntent ? this.buy() : this.reload();
  }

  /** Forgets everything (kiosk reset). */
  reset(): void {
    this.phase = 'idle';
    this.quote = null;
    this.status = null;
    this.error = null;
    this.pending = [];
    this.#locked = false;
    this.#sku = null;
  }
}
