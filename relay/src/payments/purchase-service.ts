import { createHash } from 'node:crypto';
import {
  BINDING_STATES,
  canPayWith,
  canSendToken,
  checkWalletLimits,
  type CurrencyCode,
  DomainError,
  type ErrorCode,
  type Money,
  money,
  parseMajor,
  toAntomAmount,
  type WalletId,
  WALLET_IDS,
  walletInfo,
  walletWindow,
} from '@scan-to-bind/shared/domain';
import type { RelayPurchase } from '@scan-to-bind/shared/relay-api';
import type { Logger } from 'pino';
import type { AntomClient } from '../antom/client.ts';
import type { BindingRepo } from '../bindings/binding-repo.ts';
import { checkPurchaseVisit } from '../bindings/kiosk-visits.ts';
import type { RelayConfig } from '../config.ts';
import type { Caller } from '../devices/device-service.ts';
import { isUniqueViolation } from '../store/db.ts';
import { sealContext } from '../store/seal-context.ts';
import type { SecretBox } from '../store/secret-box.ts';
import type { Catalogue } from './catalogue.ts';
import { chaosCrashPoint } from '../chaos-hook.ts';
import { RetryLaterError } from '../ops/overload.ts';
import { applyPayAnswer } from './pay-outcome.ts';
import {
  COUNTED,
  type PayBeginAnswer,
  type PayBeginBinding,
  type PayBeginInput,
  type PayBeginWallet,
  type PurchaseRepo,
  type PurchaseRow,
  purchaseStatus,
  type SpentReader,
} from './purchase-repo.ts';

/**
 * Binding states whose access token a pay may read and send now (canSendToken, the rule's
 * owner), for relay_pay_begin's gate. A REFRESHING binding is refused there and the pay waits
 * for the refresh (payments/token-use.ts).
 */
const PAYABLE: string[] = BINDING_STATES.filter((s) => canSendToken(s));

/** A purchase request as the device sends it (amounts are never accepted from a device). */
export interface PurchaseRequest {
  bindingId: string;
  sku: string;
  quantity: number;
  purchaseIntentId: string;
  /** A kiosk's current visit (bindings/kiosk-visits.ts); not part of the request fingerprint. */
  visitId?: string | undefined;
}

/** What the purchase service needs. */
export interface PurchaseDeps {
  repo: PurchaseRepo;
  bindings: BindingRepo;
  box: SecretBox;
  antom: AntomClient;
  catalogue: Catalogue;
  logger: Logger;
  payments: RelayConfig['payments'];
  spendingCaps: RelayConfig['spendingCaps'];
  paymentNotifyUrl: string;
}

/** The request fingerprint: the same intent id must always carry the same purchase. */
export function requestHash(req: PurchaseRequest): string {
  return createHash('sha256')
    .update(JSON.stringify([req.bindingId, req.sku, req.quantity]))
    .digest('hex');
}

/** The typed refusal of a binding whose state cannot pay (canPayWith). */
function assertPayable(state: string): void {
  if (canPayWith(state as never)) return;
  const code: ErrorCode =
    state === 'REVOKED' ? 'BINDING_REVOKED' : state === 'EXPIRED' ? 'BINDING_EXPIRED' : state === 'FAILED' ? 'BINDING_FAILED' : 'BINDING_NOT_ACTIVE';
  throw new DomainError(code);
}

/** A pay refused by a limit is kept as a FAILED row with its code (nothing to inquire). */
function refusedRow(row: PurchaseRow, code: ErrorCode, now: number): PurchaseRow {
  return { ...row, state: 'FAILED', error_code: code, next_check_at: null, lease_until: null, submitted_at: null, expires_at: null, finished_at: now };
}

/**
 * Purchases: price from the catalogue, check wallet limits and studio caps, write the intent,
 * then call pay once; S/F settle it, U or silence leave it PROCESSING for the worker.
 */
export class RelayPurchaseService {
  readonly #d: PurchaseDeps;

  constructor(deps: PurchaseDeps) {
    this.#d = deps;
  }

  /**
   * Creates (or replays) a purchase and returns its status. `onProviderCall` is told right
   * before the pay call goes to Antom (the end of the pay's CPU-bound part, ops/overload.ts
   * StartGate).
   *
   * Issue 17, the pay in one trip: authentication left the nonce and the enrolment check to the
   * pay (`Caller.unrecorded`, DeviceService `deferToPay`), and everything before the Antom call
   * is one transaction, PurchaseRepo.begin (relay_pay_begin on PostgreSQL, prepared statements
   * on SQLite). The binding is only known inside it, so the gates are given for every wallet
   * (price, per-transaction limits, windows, caps); it inserts the intent only when they pass.
   * Whatever it refuses, or accepts, is checked again here with the rule functions, which name
   * the typed error: a refusal the rules do not explain is an internal error (nothing was
   * inserted), and an insert the rules refuse is marked FAILED before any Antom call (fails safe).
   */
  async create(caller: Caller, req: PurchaseRequest, onProviderCall?: () => void): Promise<RelayPurchase> {
    const unrecorded = caller.unrecorded;
    if (!unrecorded) throw new Error('a pay records its own nonce: authenticate it with deferToPay');
    const { repo } = this.#d;
    const hash = requestHash(req);
    const now = repo.clock.now();
    const at = new Date(now);
    const wallets: Record<string, PayBeginWallet> = {};
    for (const wallet of WALLET_IDS) wallets[wallet] = this.#gate(wallet, req, at);
    const template = this.#row(caller, req, hash, now, { id: req.bindingId, wallet: '', account_ref: null }, '', 0);
    const input: PayBeginInput = {
      device_id: caller.deviceId,
      nonce: unrecorded.nonce,
      seen_at: unrecorded.seenAt,
      intent_id: req.purchaseIntentId,
      owner: caller.owner,
      binding_id: req.bindingId,
      kiosk: caller.kind === 'kiosk',
      visit_id: req.visitId ?? null,
      payable: PAYABLE,
      counted: COUNTED,
      row: template,
      wallets,
    };
    let answer = await repo.begin(input);
    if (answer.outcome === 'CHECK' && answer.binding.state === 'REFRESHING') answer = await this.#beginAfterRefresh(input);
    switch (answer.outcome) {
      case 'DEVICE_NOT_ENROLLED':
        throw new DomainError('DEVICE_NOT_ENROLLED', 'unknown device');
      case 'REQUEST_REPLAYED':
        throw new DomainError('REQUEST_REPLAYED', 'nonce reused');
      case 'BINDING_NOT_FOUND':
        throw new DomainError('BINDING_NOT_FOUND');
      case 'EXISTING':
        return this.#replay(caller, answer.purchase, hash);
    }
    const { binding, spent } = answer;
    const wallet = binding.wallet as WalletId;
    const currency = walletInfo(wallet).currency;
    // Exactly the row the function inserted (when it did): the template with the binding's columns.
    const row: PurchaseRow = {
      ...template,
      wallet: binding.wallet,
      account_ref: binding.account_ref,
      currency,
      amount_minor: wallets[wallet]?.amount_minor ?? 0,
      access_token_hash: binding.access_token_hash,
    };
    let checked: { item: { title: string }; total: Money; refusal: { code: ErrorCode } | undefined };
    try {
      checkPurchaseVisit(caller, binding, req.visitId, answer.device_visit);
      assertPayable(binding.state);
      const { item, total } = this.#d.catalogue.price(req.sku, req.quantity, currency);
      // The sums read under the locks; without them (a gate before the locks refused: the price's
      // per-transaction limits) nothing counts yet, as checkWalletLimits assumes without `spent`.
      const reader: SpentReader = async (column) =>
        column === 'account_ref' ? [spent?.acct_day ?? 0, spent?.acct_year ?? 0] : [spent?.owner_day ?? 0, spent?.owner_month ?? 0];
      checked = { item, total, refusal: await this.#checkLimits(reader, row, total, now) };
    } catch (err) {
      if (answer.outcome === 'INSERTED' && err instanceof DomainError) await repo.apply(row.intent_id, 'PAY_FAILED', { error_code: err.code });
      throw err;
    }
    const { item, total, refusal } = checked;
    if (answer.outcome === 'CHECK') {
      if (!refusal) throw new Error('PurchaseRepo.begin refused a pay its rules accept');
      const failed = refusedRow(row, refusal.code, now);
      try {
        await repo.insert(failed);
      } catch (err) {
        const raced = isUniqueViolation(err) ? await repo.get(req.purchaseIntentId) : undefined;
        if (raced) return this.#replay(caller, raced, hash);
        throw err;
      }
      repo.publish(failed);
      return purchaseStatus(failed);
    }
    if (refusal) {
      const res = await repo.apply(row.intent_id, 'PAY_FAILED', { error_code: refusal.code }, row);
      return purchaseStatus(res?.row ?? row);
    }
    repo.publish(row);
    return this.#pay(row, binding.key_id, binding.access_token_enc, item.title, total, onProviderCall);
  }

  /**
   * The pay's binding was REFRESHING, so its first begin recorded the nonce and nothing else:
   * the token it would have read is being rotated (payments/token-use.ts). Waits for the refresh
   * to end (bounded by config payments.refreshWaitMs) and begins again without the nonce, so the
   * pay reads the new token, or the binding's end (a rejected refresh: EXPIRED, and the caller
   * names BINDING_EXPIRED). A refresh that outlasts the wait refuses the pay with a retryable
   * 503 OVERLOADED (nothing was inserted; the client sends it again with the same intent id).
   */
  async #beginAfterRefresh(input: PayBeginInput): Promise<PayBeginAnswer> {
    const until = Date.now() + this.#d.payments.refreshWaitMs;
    const again: PayBeginInput = { ...input, nonce: null };
    for (;;) {
      if (!(await this.#d.bindings.waitWhileRefreshing(input.binding_id, until))) throw new RetryLaterError('OVERLOADED', 1);
      const answer = await this.#d.repo.begin(again);
      if (answer.outcome !== 'CHECK' || answer.binding.state !== 'REFRESHING') return answer;
    }
  }

  /**
   * relay_pay_begin's gate for one wallet the binding may have: its price (a price or
   * per-transaction refusal is left to the rules), the windows of `at` and the caps that bound them.
   */
  #gate(wallet: WalletId, req: PurchaseRequest, at: Date): PayBeginWallet {
    const info = walletInfo(wallet);
    const currency = info.currency;
    let total: Money;
    try {
      total = this.#d.catalogue.price(req.sku, req.quantity, currency).total;
    } catch (err) {
      if (err instanceof DomainError) return { refuse: true };
      throw err;
    }
    const [day, year, month] = [walletWindow(wallet, at, 'day'), walletWindow(wallet, at, 'year'), walletWindow(wallet, at, 'month')];
    const caps = this.#d.spendingCaps[currency];
    return {
      refuse: !checkWalletLimits(wallet, total).ok,
      currency,
      amount_minor: total.minor,
      day_from: day.start.getTime(),
      day_to: day.end.getTime(),
      year_from: year.start.getTime(),
      year_to: year.end.getTime(),
      month_from: month.start.getTime(),
      month_to: month.end.getTime(),
      max_day: info.caps.maxPerDay ?? null,
      max_year: info.caps.maxPerYear ?? null,
      cap_daily: caps?.daily === undefined ? null : parseMajor(caps.daily, currency).minor,
      cap_monthly: caps?.monthly === undefined ? null : parseMajor(caps.monthly, currency).minor,
    };
  }

  /** The intent row of a new pay (SUBMITTED, its inquiry and lease scheduled). */
  #row(
    caller: Caller,
    req: PurchaseRequest,
    hash: string,
    now: number,
    binding: Pick<PayBeginBinding, 'id' | 'wallet' | 'account_ref'>,
    currency: string,
    amountMinor: number,
  ): PurchaseRow {
    const { payments } = this.#d;
    return {
      intent_id: req.purchaseIntentId,
      owner: caller.owner,
      device_id: caller.deviceId,
      player_id: caller.player?.id ?? null,
      binding_id: binding.id,
      wallet: binding.wallet,
      account_ref: binding.account_ref,
      sku: req.sku,
      quantity: req.quantity,
      request_hash: hash,
      currency,
      amount_minor: amountMinor,
      state: 'SUBMITTED',
      version: 1,
      payment_request_id: `pay_${req.purchaseIntentId.replace(/-/gu, '')}`,
      payment_id: null,
      result_code: null,
      error_code: null,
      created_at: now,
      updated_at: now,
      submitted_at: now,
      expires_at: now + payments.expiryMs,
      paid_at: null,
      finished_at: null,
      next_check_at: now + payments.inquiryIntervalMs,
      lease_until: now + payments.leaseMs,
      inquiries: 0,
      cancel_attempts: 0,
      unresolved_reported_at: null,
      touched_at: Date.now(),
      access_token_hash: null,
    };
  }

  #replay(caller: Caller, row: PurchaseRow, hash: string): RelayPurchase {
    if (row.owner !== caller.owner || row.request_hash !== hash) {
      throw new DomainError('IDEMPOTENCY_CONFLICT', 'intent id already used for another purchase');
    }
    return purchaseStatus(row);
  }

  /** Wallet caps of shared/domain (per wallet account), then the studio's per-player caps. */
  async #checkLimits(spent: SpentReader, row: PurchaseRow, total: Money, now: number): Promise<{ code: ErrorCode } | undefined> {
    const wallet = row.wallet as WalletId;
    const currency = row.currency as CurrencyCode;
    const at = new Date(now);
    const day = walletWindow(wallet, at, 'day');
    const account = row.account_ref ?? row.binding_id;
    const [today, thisYear] = await spent('account_ref', account, currency, day, walletWindow(wallet, at, 'year'));
    const wl = checkWalletLimits(wallet, total, { today: money(today, currency), thisYear: money(thisYear, currency) });
    if (!wl.ok) return { code: wl.reason };
    const caps = this.#d.spendingCaps[currency];
    if (caps?.daily === undefined && caps?.monthly === undefined) return undefined;
    const [spentToday, spentThisMonth] = await spent('owner', row.owner, currency, day, walletWindow(wallet, at, 'month'));
    if (caps.daily !== undefined && spentToday + total.minor > parseMajor(caps.daily, currency).minor) return { code: 'SPENDING_CAP_DAILY' };
    if (caps.monthly !== undefined && spentThisMonth + total.minor > parseMajor(caps.monthly, currency).minor) return { code: 'SPENDING_CAP_MONTHLY' };
    return undefined;
  }

  async #pay(
    row: PurchaseRow,
    keyId: string | null,
    tokenEnc: string | null,
    title: string,
    total: Money,
    onProviderCall?: () => void,
  ): Promise<RelayPurchase> {
    const { repo, antom, box } = this.#d;
    if (!keyId || !tokenEnc) {
      const res = await repo.apply(row.intent_id, 'PAY_FAILED', { error_code: 'BINDING_NOT_ACTIVE' });
      return purchaseStatus(res?.row ?? row);
    }
    const accessToken = box.open({ keyId, data: tokenEnc }, sealContext(row.binding_id, 'access_token'));
    const amount = toAntomAmount(total);
    const unit = toAntomAmount(money(total.minor / row.quantity, total.currency));
    chaosCrashPoint('before-pay');
    onProviderCall?.();
    const outcome = await antom.call('pay', {
      productCode: 'AGREEMENT_PAYMENT',
      paymentRequestId: row.payment_request_id,
      paymentAmount: amount,
      order: {
        referenceOrderId: row.intent_id,
        orderDescription: `${title} x${row.quantity}`.slice(0, 256),
        orderAmount: amount,
        goods: [{ referenceGoodsId: row.sku, goodsName: title.slice(0, 256), goodsQuantity: String(row.quantity), goodsUnitAmount: unit }],
        env: { terminalType: 'WEB' },
      },
      paymentMethod: { paymentMethodType: row.wallet, paymentMethodId: accessToken },
      paymentNotifyUrl: this.#d.paymentNotifyUrl,
      env: { terminalType: 'WEB' },
    });
    chaosCrashPoint('after-pay-response');
    const settled = await applyPayAnswer(repo, this.#d.bindings, row, outcome, this.#d.payments.inquiryIntervalMs);
    chaosCrashPoint('after-commit');
    return purchaseStatus(settled);
  }

  /**
   * One purchase of the caller, read from the store. An unknown intent id and another owner's
   * purchase both answer NOT_FOUND, so a device cannot tell whether someone else's id exists.
   */
  async status(caller: Caller, intentId: string): Promise<RelayPurchase> {
    const row = await this.#d.repo.get(intentId);
    if (!row || row.owner !== caller.owner) throw new DomainError('NOT_FOUND');
    return purchaseStatus(row);
  }

  /** The caller's purchases: unsettled ones (after a crash), or the 50 most recent. */
  async list(caller: Caller, pendingOnly: boolean): Promise<RelayPurchase[]> {
    const rows = await this.#d.repo.listOwned(caller.owner, pendingOnly, 50);
    return rows.map(purchaseStatus);
  }
}
