import type { ErrorCode, WalletId } from '@scan-to-bind/shared/domain';
import type { BindingStatus } from '../services/binding-status.ts';
import type { PurchaseStatus } from '../services/purchase-service.ts';

/** The one status vocabulary of the embedding API; values never change meaning. */
export const EMBED_STATUSES = ['linked', 'unlinked', 'pending', 'succeeded', 'failed', 'cancelled'] as const;
/** A status of the embedding API. */
export type EmbedStatus = (typeof EMBED_STATUSES)[number];

/** `bound`: the player's wallet is linked and can pay. */
export interface BoundEvent {
  readonly status: 'linked';
  readonly wallet: WalletId;
  readonly maskedAccount: string | null;
}
/** `unbound`: the link ended (unlinked, revoked, expired) or linking failed. */
export interface UnboundEvent {
  readonly status: 'unlinked';
  readonly wallet: WalletId | null;
  readonly error: ErrorCode | null;
}
/** `purchase-result`: a purchase reached a result, or is still being checked (`pending`). */
export interface PurchaseResultEvent {
  readonly status: 'pending' | 'succeeded' | 'failed' | 'cancelled';
  readonly purchaseIntentId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly total: { readonly currency: 'HKD' | 'IDR'; readonly minor: number };
  readonly error: ErrorCode | null;
}
/** Every event the embedding API emits. */
export interface EmbedEvents {
  bound: BoundEvent;
  unbound: UnboundEvent;
  'purchase-result': PurchaseResultEvent;
}

const USABLE = new Set(['ACTIVE', 'REFRESHING']);

/** The embedding event a binding change means, if any (pure). */
export function bindingEvent(next: BindingStatus, previous: BindingStatus): ['bound', BoundEvent] | ['unbound', UnboundEvent] | null {
  const was = USABLE.has(previous.state);
  const is = USABLE.has(next.state);
  if (is && !was && next.wallet) return ['bound', { status: 'linked', wallet: next.wallet, maskedAccount: next.maskedAccount }];
  if (was && !is) return ['unbound', { status: 'unlinked', wallet: previous.wallet, error: next.error }];
  return null;
}

/** The purchase-result event of a purchase change, if any (pure). */
export function purchaseEvent(p: PurchaseStatus): PurchaseResultEvent | null {
  const status =
    p.state === 'SUCCEEDED'
      ? 'succeeded'
      : p.state === 'FAILED'
        ? 'failed'
        : p.state === 'CANCELLED'
          ? 'cancelled'
          : p.state === 'PROCESSING'
            ? 'pending'
            : null;
  if (!status) return null;
  return { status, purchaseIntentId: p.purchaseIntentId, sku: p.sku, quantity: p.quantity, total: p.total, error: p.error };
}
