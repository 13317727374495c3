import {
  type CurrencyCode,
  type ErrorCode,
  errorMessage,
  type Money,
  type PurchaseEvent,
  type PurchaseState,
  purchaseTransition,
  type WalletId,
  walletInfo,
} from '@scan-to-bind/shared/domain';
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { EventHub } from '../events.ts';
import type { Store } from '../store/db.ts';
import type { Database, PurchasesTable } from '../store/schema.ts';

/** A purchase row. */
export type PurchaseRow = PurchasesTable;

/** What a device sees of a purchase. */
export interface PurchaseStatus {
  purchaseIntentId: string;
  state: PurchaseState;
  version: number;
  bindingId: string;
  sku: string;
  quantity: number;
  total: Money;
  error?: { code: ErrorCode; message: string };
}

/** Device-facing status; PROCESSING says "checking" so the UI never invites a second charge. */
export function purchaseStatus(row: PurchaseRow): PurchaseStatus {
  const state = row.state as PurchaseState;
  const status: PurchaseStatus = {
    purchaseIntentId: row.intent_id,
    state,
    version: row.version,
    bindingId: row.binding_id,
    sku: row.sku,
    quantity: row.quantity,
    total: { currency: row.currency as CurrencyCode, minor: row.amount_minor },
  };
  const code: ErrorCode | undefined =
    state === 'PROCESSING' || state === 'SUBMITTED'
      ? 'PAYMENT_PENDING'
      : state === 'CANCELLED'
        ? 'PAYMENT_CANCELLED'
        : state === 'FAILED'
          ? ((row.error_code as ErrorCode | null) ?? 'PAYMENT_FAILED')
          : undefined;
  if (code) {
    status.error = { code, message: errorMessage(code, 'en', { wallet: walletInfo(row.wallet as WalletId).displayName }) };
  }
  return status;
}

/** Purchase state changes, always through `purchaseTransition`, with the row locked. */
export class PurchaseRepo {
  /** Runs inside the transaction that makes a purchase SUCCEEDED (the fulfilment outbox). */
  onSucceeded: ((trx: Transaction<Database>, row: PurchaseRow) => Promise<void>) | undefined;

  constructor(
    readonly store: Store,
    readonly clock: Clock,
    readonly hub: EventHub,
    readonly logger: Logger,
  ) {}

  /** Reads one purchase by intent id. */
  get(intentId: string): Promise<PurchaseRow | undefined> {
    return this.store.db.selectFrom('purchases').selectAll().where('intent_id', '=', intentId).executeTakeFirst();
  }

  /**
   * Applies an Antom outcome or a local step. Duplicates are no-ops; a contradicting outcome
   * (S after F, F after S) is refused by the machine and logged as an alarm, never applied.
   */
  async apply(
    intentId: string,
    event: PurchaseEvent,
    patch: Partial<PurchaseRow> = {},
  ): Promise<{ row: PurchaseRow; changed: boolean } | undefined> {
    const result = await this.store.db.transaction().execute(async (trx) => {
      let q = trx.selectFrom('purchases').selectAll().where('intent_id', '=', intentId);
      if (this.store.dialect === 'postgres') q = q.forUpdate();
      const row = await q.executeTakeFirst();
      if (!row) return undefined;
      const t = purchaseTransition(row.state as PurchaseState, event);
      if (!t.ok) {
        this.logger.error({ intentId, from: row.state, event }, 'payment outcome contradicts the recorded state: needs a look');
        return undefined;
      }
      if (!t.changed) return { row, changed: false };
      const now = this.clock.now();
      const final = t.state === 'SUCCEEDED' || t.state === 'FAILED' || t.state === 'CANCELLED';
      const next: PurchaseRow = {
        ...row,
        ...patch,
        state: t.state,
        version: row.version + 1,
        updated_at: now,
        touched_at: Date.now(),
        ...(final ? { finished_at: now, next_check_at: null, lease_until: null } : {}),
      };
      const { intent_id: _id, ...values } = next;
      await trx.updateTable('purchases').set(values).where('intent_id', '=', intentId).execute();
      if (t.state === 'SUCCEEDED' && this.onSucceeded) await this.onSucceeded(trx, next);
      return { row: next, changed: true };
    });
    if (result?.changed) this.publish(result.row);
    return result;
  }

  /** Pushes a purchase's status to its owner's streams. */
  publish(row: PurchaseRow): void {
    this.hub.publish({ kind: 'purchase', owner: row.owner, id: row.intent_id, version: row.version, status: { ...purchaseStatus(row) } });
  }

  /** Takes the worker lease of a purchase. */
  async claim(intentId: string, leaseMs: number): Promise<boolean> {
    const now = this.clock.now();
    const res = await this.store.db
      .updateTable('purchases')
      .set({ lease_until: now + leaseMs })
      .where('intent_id', '=', intentId)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Releases the lease and schedules the next check (only while the purchase is unsettled). */
  async release(intentId: string, patch: Partial<PurchaseRow>): Promise<void> {
    await this.store.db
      .updateTable('purchases')
      .set({ ...patch, lease_until: null })
      .where('intent_id', '=', intentId)
      .where('state', 'in', ['SUBMITTED', 'PROCESSING'])
      .execute();
  }
}

/** Maps an Antom failure code (pay F, inquiry FAIL, notifyPayment F) to the product's error. */
export function paymentErrorCode(resultCode: string | undefined): ErrorCode {
  switch (resultCode) {
    case 'USER_BALANCE_NOT_ENOUGH':
      return 'INSUFFICIENT_BALANCE';
    case 'USER_AMOUNT_EXCEED_LIMIT':
    case 'PAYMENT_AMOUNT_EXCEED_LIMIT':
    case 'PAYMENT_COUNT_EXCEED_LIMIT':
      return 'WALLET_LIMIT_REACHED';
    case 'INVALID_ACCESS_TOKEN':
    case 'ACCESS_TOKEN_EXPIRED':
      return 'BINDING_EXPIRED';
    case 'RISK_REJECT':
    case 'FRAUD_REJECT':
    case 'USER_KYC_NOT_QUALIFIED':
    case 'USER_NOT_EXIST':
    case 'USER_STATUS_ABNORMAL':
    case 'USER_PAYMENT_VERIFICATION_FAILED':
    case 'VERIFY_TIMES_EXCEED_LIMIT':
    case 'PAYMENT_NOT_QUALIFIED':
      return 'PAYMENT_DECLINED';
    default:
      return 'PAYMENT_FAILED';
  }
}
