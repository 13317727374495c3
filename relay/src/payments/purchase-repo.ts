import {
  type CurrencyCode,
  type ErrorCode,
  errorMessage,
  type PurchaseEvent,
  type PurchaseState,
  purchaseTransition,
  type WalletId,
  walletInfo,
} from '@scan-to-bind/shared/domain';
import type { RelayPurchase } from '@scan-to-bind/shared/relay-api';
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { EventHub } from '../events.ts';
import type { Store } from '../store/db.ts';
import { Prepared } from '../store/prepared.ts';
import type { Database, PurchasesTable } from '../store/schema.ts';

/** A purchase row. */
export type PurchaseRow = PurchasesTable;

/**
 * Device-facing status (its shape: shared/relay-api RelayPurchase); PROCESSING says "checking"
 * so the UI never invites a second charge.
 */
export function purchaseStatus(row: PurchaseRow): RelayPurchase {
  const state = row.state as PurchaseState;
  const status: RelayPurchase = {
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

/** Every column of a purchase row (the shape of the prepared insert and update). */
const COLUMNS = [
  'intent_id', 'owner', 'device_id', 'player_id', 'binding_id', 'wallet', 'account_ref', 'sku', 'quantity', 'request_hash', 'currency',
  'amount_minor', 'state', 'version', 'payment_request_id', 'payment_id', 'result_code', 'error_code', 'created_at', 'updated_at',
  'submitted_at', 'expires_at', 'paid_at', 'finished_at', 'next_check_at', 'lease_until', 'inquiries', 'cancel_attempts',
  'unresolved_reported_at', 'touched_at',
] as const satisfies readonly (keyof PurchaseRow)[];
// Compile-time check that COLUMNS names every column (a new column must be added here).
type Missing = Exclude<keyof PurchaseRow, (typeof COLUMNS)[number]>;
const allColumns: Missing extends never ? true : Missing = true;
void allColumns;

const placeholders = <K extends keyof PurchaseRow>(cols: readonly K[], arg: (name: K) => unknown): Pick<PurchaseRow, K> =>
  Object.fromEntries(cols.map((c) => [c, arg(c)])) as Pick<PurchaseRow, K>;

/** The purchase path's statements, compiled once (store/prepared.ts). */
const byIntent = new Prepared<{ intent_id: string }, PurchaseRow>((db, arg) => db.selectFrom('purchases').selectAll().where('intent_id', '=', arg('intent_id')));
/** Inserts a whole purchase row. */
export const insertPurchase = new Prepared<PurchaseRow, never>((db, arg) => db.insertInto('purchases').values(placeholders(COLUMNS, arg)));
type UpdateArgs = Partial<PurchaseRow> & { intent_id: string; read_version: number };
const updates = new Map<string, Prepared<UpdateArgs, never>>();
/**
 * Writes the given columns of a row only if the stored row still has version `read_version`
 * (optimistic lock). One compiled statement per set of columns (a handful of call sites).
 */
function updateIfUnchanged(columns: (keyof PurchaseRow)[]): Prepared<UpdateArgs, never> {
  const key = columns.join(',');
  let q = updates.get(key);
  if (!q) {
    q = new Prepared<UpdateArgs, never>((db, arg) =>
      db
        .updateTable('purchases')
        .set(placeholders(columns, arg as (name: keyof PurchaseRow) => unknown))
        .where('intent_id', '=', arg('intent_id'))
        .where('version', '=', arg('read_version')),
    );
    updates.set(key, q);
  }
  return q;
}
/** How often apply() re-reads a row that changed under it before giving up (never seen in practice). */
const APPLY_ATTEMPTS = 20;
/** By Antom's paymentRequestId (notifications). */
export const purchaseByPaymentRequest = new Prepared<{ payment_request_id: string }, PurchaseRow>((db, arg) =>
  db.selectFrom('purchases').selectAll().where('payment_request_id', '=', arg('payment_request_id')),
);

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
    return byIntent.first(this.store.db, this.store.dialect, { intent_id: intentId });
  }

  /**
   * Applies an Antom outcome or a local step. Duplicates are no-ops; a contradicting outcome
   * (S after F, F after S) is refused by the machine and logged as an alarm, never applied.
   *
   * Optimistic concurrency: the row is read (or taken from `known`, a row the caller just read
   * or wrote), the transition computed, and the row written only if its version is still the
   * one read; otherwise it is read again and the transition recomputed. Each transition is
   * thus applied to exactly the state it was computed from, on both engines, without holding a
   * row lock across round trips. A SUCCEEDED transition and its fulfilment event commit
   * together (`onSucceeded`, in one transaction); any other is one statement.
   */
  async apply(
    intentId: string,
    event: PurchaseEvent,
    patch: Partial<PurchaseRow> = {},
    known?: PurchaseRow,
  ): Promise<{ row: PurchaseRow; changed: boolean } | undefined> {
    const { db, dialect } = this.store;
    for (let attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
      const row = attempt === 0 && known?.intent_id === intentId ? known : await byIntent.first(db, dialect, { intent_id: intentId });
      if (!row) return undefined;
      const t = purchaseTransition(row.state as PurchaseState, event);
      if (!t.ok) {
        this.logger.error({ intentId, from: row.state, event }, 'payment outcome contradicts the recorded state: needs a look');
        return undefined;
      }
      if (!t.changed) return { row, changed: false };
      const now = this.clock.now();
      const final = t.state === 'SUCCEEDED' || t.state === 'FAILED' || t.state === 'CANCELLED';
      // Only the columns this step sets are written: the worker's lease and schedule columns,
      // changed without a version bump, are never overwritten with what was read.
      const changes: Partial<PurchaseRow> = {
        ...patch,
        state: t.state,
        version: row.version + 1,
        updated_at: now,
        touched_at: Date.now(),
        ...(final ? { finished_at: now, next_check_at: null, lease_until: null } : {}),
      };
      delete changes.intent_id;
      const columns = (Object.keys(changes) as (keyof PurchaseRow)[]).filter((c) => changes[c] !== undefined).sort();
      const next: PurchaseRow = { ...row, ...changes };
      const update = updateIfUnchanged(columns);
      const args = { ...changes, intent_id: intentId, read_version: row.version };
      const hook = t.state === 'SUCCEEDED' ? this.onSucceeded : undefined;
      const written = hook
        ? await db.transaction().execute(async (trx) => {
            const res = await update.execute(trx, dialect, args);
            if (Number(res.numAffectedRows ?? 0) !== 1) return false;
            await hook(trx, next);
            return true;
          })
        : Number((await update.execute(db, dialect, args)).numAffectedRows ?? 0) === 1;
      if (written) {
        this.publish(next);
        return { row: next, changed: true };
      }
    }
    throw new Error(`purchase ${intentId} kept changing under apply(${event})`);
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
