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
import { createHash } from 'node:crypto';
import type { RelayPurchase } from '@scan-to-bind/shared/relay-api';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { EventHub } from '../events.ts';
import type { Dialect, Store } from '../store/db.ts';
import { countWhere } from '../store/counts.ts';
import { Prepared } from '../store/prepared.ts';
import { DEFAULT_PAY_BATCH_MAX, DEFAULT_PAY_IN_FLIGHT, PayBeginBatcher } from './pay-batch-repo.ts';
import type { BindingsTable, Database, PurchasesTable } from '../store/schema.ts';
import { SqlitePurchases } from './purchase-sqlite-repo.ts';
import { tokenLockKey } from './token-use.ts';

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
  'intent_id',
  'owner',
  'device_id',
  'player_id',
  'binding_id',
  'wallet',
  'account_ref',
  'sku',
  'quantity',
  'request_hash',
  'currency',
  'amount_minor',
  'state',
  'version',
  'payment_request_id',
  'payment_id',
  'result_code',
  'error_code',
  'created_at',
  'updated_at',
  'submitted_at',
  'expires_at',
  'paid_at',
  'finished_at',
  'next_check_at',
  'lease_until',
  'inquiries',
  'cancel_attempts',
  'unresolved_reported_at',
  'touched_at',
  'access_token_hash',
] as const satisfies readonly (keyof PurchaseRow)[];
// Compile-time check that COLUMNS names every column (a new column must be added here).
type Missing = Exclude<keyof PurchaseRow, (typeof COLUMNS)[number]>;
const allColumns: Missing extends never ? true : Missing = true;
void allColumns;

const placeholders = <K extends keyof PurchaseRow>(cols: readonly K[], arg: (name: K) => unknown): Pick<PurchaseRow, K> =>
  Object.fromEntries(cols.map((c) => [c, arg(c)])) as Pick<PurchaseRow, K>;

/** The purchase path's statements, compiled once (store/prepared.ts). */
const byIntent = new Prepared<{ intent_id: string }, PurchaseRow>((db, arg) =>
  db.selectFrom('purchases').selectAll().where('intent_id', '=', arg('intent_id')),
);
/** Inserts a whole purchase row. */
export const insertPurchase = new Prepared<PurchaseRow, never>((db, arg) => db.insertInto('purchases').values(placeholders(COLUMNS, arg)));
type UpdateArgs = Partial<PurchaseRow> & { intent_id: string; read_version: number };
const updates = new Map<string, Prepared<UpdateArgs, never>>();
/**
 * Writes the given columns of a row only if the stored row still has version `read_version`
 * (optimistic lock). One compiled statement per set of columns (a handful of call sites).
 */
function updateIfUnchanged(columns: (keyof PurchaseRow)[], key: string): Prepared<UpdateArgs, never> {
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

/** Purchase states whose amount counts as spent (wallet limits, studio caps). */
export const COUNTED = ['SUBMITTED', 'PROCESSING', 'SUCCEEDED'];

/** What relay_pay_begin needs to decide and insert for one wallet the binding may turn out to have. */
export interface PayBeginWallet {
  /** True when the price or a per-transaction limit already refuses this wallet (the rules name the code). */
  refuse: boolean;
  currency?: string;
  amount_minor?: number;
  day_from?: number;
  day_to?: number;
  year_from?: number;
  year_to?: number;
  month_from?: number;
  month_to?: number;
  max_day?: number | null;
  max_year?: number | null;
  cap_daily?: number | null;
  cap_monthly?: number | null;
}

/** The input of relay_pay_begin (store/migrations-0010.ts). */
export interface PayBeginInput {
  device_id: string;
  /** The request's nonce, recorded by the pay; null on the second begin of a pay that waited for a refresh (the first recorded it). */
  nonce: string | null;
  seen_at: number;
  intent_id: string;
  owner: string;
  binding_id: string;
  kiosk: boolean;
  visit_id: string | null;
  /** Binding states a payment may use. */
  payable: string[];
  /** Purchase states whose amount counts as spent. */
  counted: string[];
  /** The row to insert; binding_id, wallet, account_ref, currency and amount_minor come from the binding. */
  row: PurchaseRow;
  wallets: Record<string, PayBeginWallet>;
}

/** The binding facts relay_pay_begin returns for the rules to check. */
export type PayBeginBinding = Pick<BindingsTable, 'id' | 'state' | 'wallet' | 'account_ref' | 'key_id' | 'access_token_enc' | 'access_token_hash' | 'visit_id'>;

/** The answer of relay_pay_begin. */
export type PayBeginAnswer =
  | { outcome: 'DEVICE_NOT_ENROLLED' | 'REQUEST_REPLAYED' | 'BINDING_NOT_FOUND' }
  | { outcome: 'EXISTING'; purchase: PurchaseRow }
  | {
      outcome: 'CHECK' | 'INSERTED';
      binding: PayBeginBinding;
      device_visit: string | null;
      /** Sums under the spending locks (absent when a gate before them refused). */
      spent?: { acct_day: number; acct_year: number; owner_day: number; owner_month: number };
    };

/** A time window [start, end). */
export interface Window {
  start: Date;
  end: Date;
}

/** What `column = value` spent in `currency` in windows a and b, read under the spending locks. */
export type SpentReader = (column: 'owner' | 'account_ref', value: string, currency: string, a: Window, b: Window) => Promise<[number, number]>;

/**
 * A signed 64-bit advisory lock id for a spending key (decimal string, for a ::bigint cast): the
 * first 8 bytes of SHA-256 of the key, as relay_pay_begin computes it in SQL (two keys colliding
 * only serialise more than needed). Tests hold a pay's lock from outside with it.
 */
export function lockId(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest().readBigInt64BE(0).toString();
}

/**
 * In a refresh's transaction, before REFRESH_STARTED: true while a pay of the binding may still
 * be sending the current access token. That is a purchase SUBMITTED whose lease has not run out:
 * the pay holds it from its intent insert to its answer (SUCCEEDED/FAILED end it, PROCESSING
 * releases it), and a pay whose process died stops holding it once the lease expires (the
 * payment worker then inquires; it never pays again). On PostgreSQL it first takes the
 * binding's token lock exclusively, held until the commit (the rule: payments/token-use.ts).
 */
export async function tokenInUse(trx: Transaction<Database>, dialect: Dialect, binding: { id: string; owner: string }, now: number): Promise<boolean> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${lockId(tokenLockKey(binding.id))}::bigint)`.execute(trx);
  // By owner first: the purchases_owner index finds the player's few rows (no index on binding_id).
  const inFlight = await trx
    .selectFrom('purchases')
    .select('intent_id')
    .where('owner', '=', binding.owner)
    .where('binding_id', '=', binding.id)
    .where('state', '=', 'SUBMITTED')
    .where('lease_until', '>', now)
    .limit(1)
    .executeTakeFirst();
  return inFlight !== undefined;
}

/**
 * Reads a purchase inside `trx` with the row locked until the commit (PostgreSQL `FOR UPDATE`;
 * on SQLite a no-op write takes the database's write lock at once), so the refunds or
 * declarations of one payment are checked and written one at a time.
 */
export async function lockPurchase(trx: Transaction<Database>, dialect: Dialect, intentId: string): Promise<PurchaseRow | undefined> {
  let q = trx.selectFrom('purchases').selectAll().where('intent_id', '=', intentId);
  if (dialect === 'postgres') q = q.forUpdate();
  else
    await trx
      .updateTable('purchases')
      .set((eb) => ({ version: eb.ref('version') }))
      .where('intent_id', '=', intentId)
      .execute();
  return q.executeTakeFirst();
}

/** Purchase state changes, always through `purchaseTransition`, with the row locked. */
export class PurchaseRepo {
  /** Runs inside the transaction that makes a purchase SUCCEEDED (the fulfilment outbox). */
  onSucceeded: ((trx: Transaction<Database>, row: PurchaseRow) => Promise<void>) | undefined;

  /** PostgreSQL: the group commit of pay begins (`begin`); at most `payBatchMax` pays per commit, `payInFlight` statements at once. */
  readonly payBegins: PayBeginBatcher | undefined;
  /** The hot path's prepared statements on SQLite (undefined on PostgreSQL). */
  readonly #lite: SqlitePurchases | undefined;

  constructor(
    readonly store: Store,
    readonly clock: Clock,
    readonly hub: EventHub,
    readonly logger: Logger,
    payBatchMax = DEFAULT_PAY_BATCH_MAX,
    payInFlight = DEFAULT_PAY_IN_FLIGHT,
  ) {
    this.#lite = store.sqlite ? new SqlitePurchases(store, store.sqlite, COUNTED, COLUMNS) : undefined;
    this.payBegins = store.dialect === 'postgres' ? new PayBeginBatcher(store, payBatchMax, payInFlight) : undefined;
  }

  /**
   * A pay's whole first part in one transaction (nonce, enrolment, idempotency, binding,
   * spending windows, intent insert), decided by one owner per engine: on PostgreSQL
   * relay_pay_begin (store/migrations-0010.ts), group-committed with concurrent pays
   * (PayBeginBatcher, relay_pay_begin_many); on SQLite one synchronous transaction of prepared
   * statements (purchase-sqlite-repo.ts) with the same semantics and answer. The caller computes
   * `input` and reads the answer. Resolves only once the commit is durable.
   */
  async begin(input: PayBeginInput): Promise<PayBeginAnswer> {
    const lite = this.#lite;
    if (lite) {
      if (lite.busy) await lite.free();
      const answer = lite.payBegin(input);
      await this.store.durable();
      return answer;
    }
    if (!this.payBegins) throw new Error('PurchaseRepo.begin: no engine');
    return this.payBegins.begin(input);
  }

  /** Inserts a whole purchase row (a refused pay's FAILED row); a unique violation is thrown. */
  async insert(row: PurchaseRow): Promise<void> {
    const lite = this.#lite;
    if (lite) {
      if (lite.busy) await lite.free();
      lite.insert(row);
      await this.store.durable();
    } else {
      await insertPurchase.execute(this.store.db, this.store.dialect, row);
    }
  }

  /** Reads one purchase by Antom's paymentRequestId (notifications). */
  async byPaymentRequest(paymentRequestId: string): Promise<PurchaseRow | undefined> {
    const lite = this.#lite;
    if (lite) {
      if (lite.busy) await lite.free();
      return lite.byPaymentRequest(paymentRequestId);
    }
    return purchaseByPaymentRequest.first(this.store.db, this.store.dialect, { payment_request_id: paymentRequestId });
  }

  /** An owner's purchases, newest first: the unsettled ones only with `pendingOnly`. */
  listOwned(owner: string, pendingOnly: boolean, limit: number): Promise<PurchaseRow[]> {
    let q = this.store.db.selectFrom('purchases').selectAll().where('owner', '=', owner);
    if (pendingOnly) q = q.where('state', 'in', ['CREATED', 'SUBMITTED', 'PROCESSING']);
    return q.orderBy('created_at', 'desc').limit(limit).execute();
  }

  /** The newest purchases matching an operator's filter (admin API); `term` matches any id, the SKU or the player. */
  search(filter: { state?: string | undefined; owner?: string | undefined; term?: string | undefined }, limit: number): Promise<PurchaseRow[]> {
    let q = this.store.db.selectFrom('purchases').selectAll();
    if (filter.state) q = q.where('state', '=', filter.state);
    if (filter.owner) q = q.where('owner', '=', filter.owner);
    const term = filter.term;
    if (term) {
      q = q.where((eb) =>
        eb.or([
          eb('intent_id', '=', term),
          eb('payment_request_id', '=', term),
          eb('payment_id', '=', term),
          eb('device_id', '=', term),
          eb('binding_id', '=', term),
          eb('player_id', '=', term),
          eb('sku', '=', term),
        ]),
      );
    }
    return q.orderBy('created_at', 'desc').limit(limit).execute();
  }

  /** Unsettled purchases whose next check is due and whose lease (if any) ran out, earliest first. */
  due(now: number, limit: number): Promise<PurchaseRow[]> {
    return this.store.db
      .selectFrom('purchases')
      .selectAll()
      .where('state', 'in', ['SUBMITTED', 'PROCESSING'])
      .where('next_check_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('next_check_at')
      .limit(limit)
      .execute();
  }

  /** Purchases changed (by any relay process) after `since` (wall-clock ms): the cross-process change watcher. */
  touchedSince(since: number): Promise<PurchaseRow[]> {
    return this.store.db.selectFrom('purchases').selectAll().where('touched_at', '>', since).execute();
  }

  /** Payments sent and not yet settled (the `relay_payments_backlog` metric). */
  backlog(): Promise<number> {
    return countWhere(this.store, 'purchases', ['SUBMITTED', 'PROCESSING']);
  }

  /** Reads one purchase by intent id. */
  get(intentId: string): Promise<PurchaseRow | undefined> {
    return byIntent.first(this.store.db, this.store.dialect, { intent_id: intentId });
  }

  /** `get` for apply(): on SQLite the prepared statement, once no Kysely transaction is open. */
  async #read(intentId: string): Promise<PurchaseRow | undefined> {
    const lite = this.#lite;
    if (!lite) return this.get(intentId);
    if (lite.busy) await lite.free();
    return lite.get(intentId);
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
   *
   * `commit`: 'durable' (default) resolves once the write is on disk; 'relaxed' once it is
   * committed (Store.relaxed: it survives a crash of the relay, and only a power cut or a crash
   * of the database server before its flush can lose it). Relaxed is for a record Antom also
   * holds: the answer to our own pay call (issue 17: one durable commit per pay on the latency
   * path, the intent's). Losing it leaves the intent as it was before the call (SUBMITTED, its
   * lease and first inquiry scheduled, both durable), which the payment worker settles by
   * inquiry exactly as after a crash between the call and its answer. Nothing outside acts on a
   * relaxed outcome before it is durable: the fulfilment outbox and the workers lease a row by a
   * durable commit, whose flush covers every commit before it.
   */
  async apply(
    intentId: string,
    event: PurchaseEvent,
    patch: Partial<PurchaseRow> = {},
    known?: PurchaseRow,
    commit: 'durable' | 'relaxed' = 'durable',
  ): Promise<{ row: PurchaseRow; changed: boolean } | undefined> {
    const { dialect } = this.store;
    const relaxed = commit === 'relaxed';
    const lite = this.#lite;
    for (let attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
      const row = attempt === 0 && known?.intent_id === intentId ? known : await this.#read(intentId);
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
      const key = columns.join(',');
      const args = { ...changes, intent_id: intentId, read_version: row.version };
      const hook = t.state === 'SUCCEEDED' ? this.onSucceeded : undefined;
      let written: boolean;
      if (hook) {
        const update = updateIfUnchanged(columns, key);
        const run = (db: Kysely<Database>): Promise<boolean> =>
          db.transaction().execute(async (trx) => {
            const res = await update.execute(trx, dialect, args);
            if (Number(res.numAffectedRows ?? 0) !== 1) return false;
            await hook(trx, next);
            return true;
          });
        written = relaxed ? await this.store.relaxed(run) : await run(this.store.db);
      } else if (lite) {
        // SQLite: one prepared autocommit statement, durable (unless relaxed) before anyone acts on it.
        if (lite.busy) await lite.free();
        written = lite.update(columns, key, args) === 1;
        if (written && !relaxed) await this.store.durable();
      } else {
        const update = updateIfUnchanged(columns, key);
        const run = async (db: Kysely<Database>): Promise<boolean> => Number((await update.execute(db, dialect, args)).numAffectedRows ?? 0) === 1;
        written = relaxed ? await this.store.relaxed(run) : await run(this.store.db);
      }
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
