import type SQLite from 'better-sqlite3';
import { type Store, sqliteFree } from '../store/db.ts';
import type { PayBeginAnswer, PayBeginBinding, PayBeginInput, PayBeginWallet, PurchaseRow } from './purchase-repo.ts';

/*
 * The pay's statements on SQLite (issue 17, "the pay path as one short, measured line"):
 * prepared once on the connection, run in one synchronous transaction, no Kysely. SQLite's
 * single writer stands in for PostgreSQL's spending locks: `BEGIN IMMEDIATE` takes the write
 * lock before the first read, so two pays sharing a player or a wallet account are checked one
 * after the other, and the event loop runs nothing else until the COMMIT. The commits here
 * are made durable by `Store.durable()`, which every caller awaits before acting on them: they
 * run at whatever `synchronous` level the connection has at that moment (today FULL, except
 * inside a `Store.relaxed` window of another request, whose awaits these statements may fall
 * into; with SQLite group commit, NORMAL, and `durable()` is the fsync barrier).
 */

/** Purchase states a sum counts, as a SQL list; `counted` is checked against it on every call. */
function sqlList(values: readonly string[]): string {
  return values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ');
}

/** Two sums of `amount_minor` in one indexed read: windows a and b of `column = ?` in a currency. */
function spentSql(column: 'account_ref' | 'owner', counted: readonly string[]): string {
  return `select coalesce(sum(case when created_at >= ? and created_at < ? then amount_minor else 0 end), 0),
    coalesce(sum(case when created_at >= ? and created_at < ? then amount_minor else 0 end), 0)
    from purchases where ${column} = ? and currency = ? and state in (${sqlList(counted)}) and created_at >= ? and created_at < ?`;
}

/** The column list of a purchase insert, by name (a row object binds them). */
function insertSql(columns: readonly string[]): string {
  return `insert into purchases (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`;
}

const NOT_ENROLLED: PayBeginAnswer = Object.freeze({ outcome: 'DEVICE_NOT_ENROLLED' });
const REPLAYED: PayBeginAnswer = Object.freeze({ outcome: 'REQUEST_REPLAYED' });
const NO_BINDING: PayBeginAnswer = Object.freeze({ outcome: 'BINDING_NOT_FOUND' });

type DeviceFacts = { revoked_at: number | null; visit_id: string | null };

/** A wallet gate that passed: every field the sums and the insert need. */
type OpenGate = Required<PayBeginWallet>;

function isOpen(w: PayBeginWallet | undefined): w is OpenGate {
  return (
    w !== undefined &&
    !w.refuse &&
    w.currency !== undefined &&
    w.amount_minor !== undefined &&
    w.day_from !== undefined &&
    w.day_to !== undefined &&
    w.year_from !== undefined &&
    w.year_to !== undefined &&
    w.month_from !== undefined &&
    w.month_to !== undefined
  );
}

/**
 * The SQLite half of PurchaseRepo's hot path: relay_pay_begin's decision (store/migrations-0010.ts)
 * with exactly its semantics and answer, the outcome's update, the read by intent id.
 */
export class SqlitePurchases {
  readonly #store: Store;
  readonly #db: SQLite.Database;
  readonly #counted: readonly string[];
  readonly #columns: readonly string[];
  readonly #begin: SQLite.Statement;
  readonly #commit: SQLite.Statement;
  readonly #rollback: SQLite.Statement;
  readonly #device: SQLite.Statement<[string], DeviceFacts>;
  readonly #nonce: SQLite.Statement<[string, string, number]>;
  readonly #purchase: SQLite.Statement<[string], PurchaseRow>;
  readonly #byPaymentRequest: SQLite.Statement<[string], PurchaseRow>;
  readonly #binding: SQLite.Statement<[string, string], PayBeginBinding>;
  readonly #accountSpent: SQLite.Statement<unknown[], [number, number]>;
  readonly #ownerSpent: SQLite.Statement<unknown[], [number, number]>;
  readonly #insert: SQLite.Statement<[PurchaseRow]>;
  readonly #updates = new Map<string, SQLite.Statement<[Record<string, unknown>]>>();

  /** `counted`: the purchase states whose amount counts as spent; `columns`: every purchase column. */
  constructor(store: Store, db: SQLite.Database, counted: readonly string[], columns: readonly string[]) {
    this.#store = store;
    this.#db = db;
    this.#counted = counted;
    this.#columns = columns;
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
    this.#device = db.prepare('select revoked_at, visit_id from devices where id = ?');
    this.#nonce = db.prepare('insert into nonces (device_id, nonce, seen_at) values (?, ?, ?) on conflict do nothing');
    this.#purchase = db.prepare('select * from purchases where intent_id = ?');
    this.#byPaymentRequest = db.prepare('select * from purchases where payment_request_id = ?');
    this.#binding = db.prepare(
      'select id, state, wallet, account_ref, key_id, access_token_enc, access_token_hash, visit_id from bindings where id = ? and owner = ?',
    );
    this.#accountSpent = db.prepare<unknown[], [number, number]>(spentSql('account_ref', counted)).raw();
    this.#ownerSpent = db.prepare<unknown[], [number, number]>(spentSql('owner', counted)).raw();
    this.#insert = db.prepare(insertSql(columns));
  }

  /**
   * True while a Kysely transaction is open on the connection: every caller of the synchronous
   * methods below awaits `free()` while this is true, then runs them without awaiting in
   * between (sqliteFree says why).
   */
  get busy(): boolean {
    return this.#db.inTransaction;
  }

  /** Resolves once no Kysely transaction is open (sqliteFree). */
  free(): Promise<void> {
    return sqliteFree(this.#store);
  }

  /**
   * relay_pay_begin on SQLite: one BEGIN IMMEDIATE … COMMIT, synchronous. In order: the device
   * is enrolled (else nothing is written); the nonce is recorded unless null (its primary key
   * refuses a replay); an existing purchase of the intent id is returned; the caller's binding is read;
   * then only when the gates pass, the windows are summed and, under the limits, the intent is
   * inserted. A refusal still commits the nonce. The caller awaits `free()` before and
   * `Store.durable()` after.
   */
  payBegin(p: PayBeginInput): PayBeginAnswer {
    if (p.counted !== this.#counted) throw new Error('pay begin on SQLite: counted states differ from the compiled ones');
    this.#begin.run();
    try {
      const answer = this.#decide(p);
      this.#commit.run();
      return answer;
    } catch (err) {
      if (this.#db.inTransaction) this.#rollback.run();
      throw err;
    }
  }

  #decide(p: PayBeginInput): PayBeginAnswer {
    const d = this.#device.get(p.device_id);
    if (!d || d.revoked_at !== null) return NOT_ENROLLED;
    if (p.nonce !== null && this.#nonce.run(p.device_id, p.nonce, p.seen_at).changes === 0) return REPLAYED;
    const existing = this.#purchase.get(p.intent_id);
    if (existing) return { outcome: 'EXISTING', purchase: existing };
    const binding = this.#binding.get(p.binding_id, p.owner);
    if (!binding) return NO_BINDING;
    const w = Object.hasOwn(p.wallets, binding.wallet) ? p.wallets[binding.wallet] : undefined;
    const visitRefused = p.kiosk ? p.visit_id !== binding.visit_id || (binding.visit_id !== null && d.visit_id !== binding.visit_id) : p.visit_id !== null;
    if (!p.payable.includes(binding.state) || visitRefused || !isOpen(w)) {
      return { outcome: 'CHECK', binding, device_visit: d.visit_id };
    }
    const account = binding.account_ref ?? binding.id;
    const amount = w.amount_minor;
    const [acctDay, acctYear] = this.#accountSpent.get(
      w.day_from,
      w.day_to,
      w.year_from,
      w.year_to,
      account,
      w.currency,
      Math.min(w.day_from, w.year_from),
      Math.max(w.day_to, w.year_to),
    ) as [number, number];
    let ownerDay = 0;
    let ownerMonth = 0;
    if (w.cap_daily !== null || w.cap_monthly !== null) {
      [ownerDay, ownerMonth] = this.#ownerSpent.get(
        w.day_from,
        w.day_to,
        w.month_from,
        w.month_to,
        p.owner,
        w.currency,
        Math.min(w.day_from, w.month_from),
        Math.max(w.day_to, w.month_to),
      ) as [number, number];
    }
    const spent = { acct_day: acctDay, acct_year: acctYear, owner_day: ownerDay, owner_month: ownerMonth };
    if (
      (w.max_day !== null && acctDay + amount > w.max_day) ||
      (w.max_year !== null && acctYear + amount > w.max_year) ||
      (w.cap_daily !== null && ownerDay + amount > w.cap_daily) ||
      (w.cap_monthly !== null && ownerMonth + amount > w.cap_monthly)
    ) {
      return { outcome: 'CHECK', binding, device_visit: d.visit_id, spent };
    }
    const row: PurchaseRow = {
      ...p.row,
      binding_id: binding.id,
      wallet: binding.wallet,
      account_ref: binding.account_ref,
      currency: w.currency,
      amount_minor: amount,
      access_token_hash: binding.access_token_hash,
    };
    // No unique race here: the intent id was read above under the write lock. (A clash on
    // payment_request_id, derived from the intent id, would throw and roll back.)
    this.#insert.run(row);
    return { outcome: 'INSERTED', binding, device_visit: d.visit_id, spent };
  }

  /** Inserts a whole purchase row (synchronous, autocommit); a unique violation is thrown. */
  insert(row: PurchaseRow): void {
    this.#insert.run(row);
  }

  /** One purchase by intent id (synchronous). */
  get(intentId: string): PurchaseRow | undefined {
    return this.#purchase.get(intentId);
  }

  /** One purchase by Antom's paymentRequestId (synchronous; notifications). */
  byPaymentRequest(paymentRequestId: string): PurchaseRow | undefined {
    return this.#byPaymentRequest.get(paymentRequestId);
  }

  /**
   * Writes `columns` of a purchase (values in `args` by column name) only if its version is
   * still `args.read_version` (PurchaseRepo.apply's optimistic lock); one autocommit statement,
   * compiled once per set of columns. Returns the rows changed (0 or 1).
   */
  update(columns: readonly string[], key: string, args: Record<string, unknown>): number {
    let st = this.#updates.get(key);
    if (!st) {
      if (!columns.every((c) => this.#columns.includes(c))) throw new Error(`purchase update: unknown column in ${key}`);
      st = this.#db.prepare(`update purchases set ${columns.map((c) => `"${c}" = @${c}`).join(', ')} where intent_id = @intent_id and version = @read_version`);
      this.#updates.set(key, st);
    }
    return st.run(args).changes;
  }
}
