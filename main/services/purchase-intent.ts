import {
  checkWalletLimits,
  DomainError,
  type Money,
  multiply,
  money,
  type PurchaseEvent,
  type PurchaseState,
  walletInfo,
  walletsFor,
} from '@scan-to-bind/shared/domain';
import { MoneySchema, type PurchaseQuoteSchema, PurchaseStateSchema, type PurchaseStatusSchema, WalletIdSchema } from '@scan-to-bind/shared/ipc';
import { z } from 'zod';
import type { ActiveBinding } from './binding-service.ts';
import type { Clock, Logger, PendingIntentStore } from './ports.ts';
import type { BackoffPolicy } from './relay/backoff.ts';
import type { RelayError } from './relay/errors.ts';
import type { RelayApi } from './relay/relay-api.ts';
import { PurchaseRequestSchema, type RelayPurchase } from '@scan-to-bind/shared/relay-api';

/*
 * The purchase service's data: what is persisted for an unfinished purchase, what the renderer
 * sees, and the pure readings of relay answers (split from purchase-service.ts).
 */

/** A purchase as the renderer sees it. */
export type PurchaseStatus = z.output<typeof PurchaseStatusSchema>;
/** The dialog's quote. */
export type PurchaseQuote = z.output<typeof PurchaseQuoteSchema>;

/**
 * What is persisted for a purchase without a final result (no secrets): the one owner of the
 * record's shape. The pending file is input from outside (truncated, edited, or written by another
 * version), so every record is parsed with this schema when the file is read and one that does not
 * match is dropped (adapters/pending-store.file.ts). Its ids, SKU and quantity follow the relay's
 * purchase request, since resume() may send the record again; strict like every shape we read
 * (an unknown field is refused, never dropped).
 */
export const PendingIntentSchema = z.strictObject({
  purchaseIntentId: PurchaseRequestSchema.shape.purchaseIntentId,
  bindingId: PurchaseRequestSchema.shape.bindingId,
  sku: PurchaseRequestSchema.shape.sku,
  quantity: PurchaseRequestSchema.shape.quantity,
  total: MoneySchema,
  wallet: WalletIdSchema,
  /** When the purchase was confirmed here (ms since the epoch): bounds a re-send on resume. */
  createdAt: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** True once the relay acknowledged it (it answered with the purchase). */
  acknowledged: z.boolean(),
  state: PurchaseStateSchema,
});
/** What is persisted for a purchase without a final result (see PendingIntentSchema). */
export type PendingIntent = Readonly<z.output<typeof PendingIntentSchema>>;

/**
 * The record of an unfinished purchase known only from the relay (its pay request went out
 * before the record on disk landed, and main died in between). The wallet it paid with is the
 * one wallet of its currency; null when the currency names none or several.
 */
export function intentFromRelay(wire: RelayPurchase, now: number): PendingIntent | null {
  const wallets = walletsFor({ currency: wire.total.currency });
  const wallet = wallets.length === 1 ? wallets[0] : undefined;
  if (!wallet) return null;
  return {
    purchaseIntentId: wire.purchaseIntentId,
    bindingId: wire.bindingId,
    sku: wire.sku,
    quantity: wire.quantity,
    total: wire.total,
    wallet: wallet.id,
    createdAt: now,
    acknowledged: true,
    state: 'SUBMITTED',
  };
}

/** The renderer's view of an intent in `state`. */
export function statusOf(intent: PendingIntent, state: PurchaseState, error: PurchaseStatus['error'], now: number, total?: Money): PurchaseStatus {
  return {
    purchaseIntentId: intent.purchaseIntentId,
    state,
    sku: intent.sku,
    quantity: intent.quantity,
    total: total ?? intent.total,
    wallet: intent.wallet,
    error,
    updatedAt: new Date(now).toISOString(),
  };
}

/** The purchase machine's event for a relay status. */
export function eventForWire(wire: RelayPurchase): PurchaseEvent {
  return wire.state === 'SUCCEEDED'
    ? 'PAY_SUCCEEDED'
    : wire.state === 'FAILED'
      ? 'PAY_FAILED'
      : wire.state === 'CANCELLED'
        ? 'CANCEL_CONFIRMED'
        : 'PAY_UNKNOWN';
}

/** The relay answered and refused (limits, binding, SKU…): nothing was charged. Otherwise the result is unknown. */
export function isRefusal(e: RelayError): boolean {
  return e.status !== null && e.status < 500 && e.status !== 408 && e.status !== 429 && e.code !== 'NOT_FOUND';
}

/** The relay calls the purchase service uses. */
export type PurchaseRelay = Pick<RelayApi, 'catalogue' | 'createPurchase' | 'getPurchase' | 'pendingPurchases'>;

/** What the purchase service needs. */
export interface PurchaseServiceDeps {
  readonly relay: PurchaseRelay;
  readonly binding: { active(): ActiveBinding };
  readonly pending: PendingIntentStore<PendingIntent>;
  readonly clock: Clock;
  readonly log: Logger;
  /** Mints a purchase intent id (crypto.randomUUID). */
  readonly newIntentId: () => string;
  /** A pending intent the relay never received is re-sent on restart only within this age. */
  readonly resubmitWindowMs?: number;
  /** Pace of inquiries while a result is unknown. */
  readonly followUp?: BackoffPolicy;
  /**
   * Kiosks: the current visit id, sent with each purchase; the relay refuses a purchase whose
   * binding belongs to another visit (a resumed intent of a visit that ended since fails).
   */
  readonly visit?: () => string | null;
}

/** A quote for `input` from the catalogue items of the linked wallet's currency, under a freshly minted intent id. */
export function priceQuote(
  binding: ActiveBinding,
  items: ReadonlyArray<{ sku: string; title: string; price: Money }>,
  input: { sku: string; quantity: number },
  purchaseIntentId: string,
): PurchaseQuote {
  const currency = walletInfo(binding.wallet).currency;
  const item = items.find((i) => i.sku === input.sku);
  if (!item || item.price.currency !== currency) throw new DomainError('UNKNOWN_SKU');
  const unitPrice = money(item.price.minor, currency);
  const total = multiply(unitPrice, input.quantity);
  const limits = checkWalletLimits(binding.wallet, total);
  return {
    purchaseIntentId,
    sku: item.sku,
    title: item.title.slice(0, 128),
    quantity: input.quantity,
    unitPrice,
    total,
    wallet: binding.wallet,
    maskedAccount: binding.maskedAccount,
    blockedBy: limits.ok ? null : limits.reason,
  };
}
