import { CompiledQuery } from 'kysely';
import type { Store } from '../store/db.ts';
import type { PayBeginAnswer, PayBeginInput } from './purchase-repo.ts';

const ONE_SQL = 'select relay_pay_begin($1::jsonb) as r';
const MANY_SQL = 'select relay_pay_begin_many($1::jsonb) as r';

/** The default of config databasePayBatchMax: the most pay begins one commit carries. */
export const DEFAULT_PAY_BATCH_MAX = 32;
/** The default of config databasePayInFlight: the most pay-begin statements one relay has in flight. */
export const DEFAULT_PAY_IN_FLIGHT = 4;

interface Waiting {
  input: PayBeginInput;
  resolve(answer: PayBeginAnswer): void;
  reject(err: unknown): void;
}

/** One item of relay_pay_begin_many that failed alone (its sub-block rolled back). */
type ItemError = { outcome: 'ERROR'; sqlstate: string; message: string };

/**
 * Group commit of pay begins on PostgreSQL (issue 17, "Group commit of durable writes"): up to
 * `maxInFlight` begin statements run at once, each on its own pool connection; a begin that
 * arrives while fewer are in flight goes at once, alone, as today's single relay_pay_begin.
 * Otherwise it waits here, and when any statement returns, all the waiting begins (up to
 * `maxBatch`) go as one relay_pay_begin_many call (store/migrations-0008.ts), one round trip and
 * one commit. Batching is natural: no timer, so a pay at low load goes at once, and a batch
 * grows only with the pays that arrive while every slot is busy. Each pay's promise settles
 * only when the statement holding its intent has returned, i.e. after its commit, so no answer
 * and no Antom call precede it.
 *
 * Why more than one in flight: a statement waits at its account's and owner's locks (held by
 * another statement, of this relay or another, or a slow commit). With one slot every later pay of
 * the relay, of any account, would wait behind it (head-of-line blocking). Concurrent statements
 * of one relay are no different from those of two relays: each takes all its locks up front in the
 * one global order (relay_pay_begin_many, relay_pay_begin), so they cannot deadlock, and two pays
 * of one account in different statements serialise on that account's lock, the later one summing
 * the spending windows after the earlier one's commit. The bound keeps a burst from taking the
 * whole pool (config databasePayInFlight ≤ databasePoolSize).
 *
 * A failed statement (connection lost, server gone) fails every pay it carried and commits
 * none of them; one item failing inside the batch (its ERROR answer) fails that pay alone.
 */
export class PayBeginBatcher {
  readonly #store: Store;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  #queue: Waiting[] = [];
  #inFlight = 0;

  constructor(store: Store, maxBatch: number, maxInFlight: number) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`pay batch size must be a positive integer, got ${maxBatch}`);
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new Error(`pay statements in flight must be a positive integer, got ${maxInFlight}`);
    this.#store = store;
    this.#maxBatch = maxBatch;
    this.#maxInFlight = maxInFlight;
  }

  /** Pays waiting for a free slot (tests observe a batch forming). */
  get queued(): number {
    return this.#queue.length;
  }

  /** Begin statements running now, at most `maxInFlight`. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Runs one pay's begin in the next commit; resolves with its answer after that commit. */
  begin(input: PayBeginInput): Promise<PayBeginAnswer> {
    return new Promise<PayBeginAnswer>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#dispatch();
    });
  }

  /** Sends the waiting pays while a slot is free: one statement per slot, each up to `maxBatch` pays. */
  #dispatch(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.#inFlight += 1;
      void this.#send(batch).finally(() => {
        this.#inFlight -= 1;
        this.#dispatch();
      });
    }
  }

  /**
   * One statement for `batch`. One pay alone stays on relay_pay_begin rather than a batch of one
   * through relay_pay_begin_many: the batch function would add, to the pay that has the database
   * to itself (every pay at low load), a subtransaction (its per-item exception sub-block), the
   * batch's lock pre-pass (a join over the items re-taking the locks relay_pay_begin takes
   * anyway), an array around its input and its answer, and its error would come back as an
   * ERROR item instead of the driver's error with its SQLSTATE. The two paths share the
   * statement's execution (`#call`); the SQL rules of a pay have one owner, relay_pay_begin,
   * which relay_pay_begin_many calls per item.
   */
  async #send(batch: Waiting[]): Promise<void> {
    try {
      if (batch.length === 1) {
        const w = batch[0] as Waiting;
        w.resolve(await this.#call<PayBeginAnswer>(ONE_SQL, JSON.stringify(w.input)));
        return;
      }
      const answers = await this.#call<(PayBeginAnswer | ItemError)[]>(MANY_SQL, `[${batch.map((w) => JSON.stringify(w.input)).join(',')}]`);
      if (!Array.isArray(answers) || answers.length !== batch.length) throw new Error('relay_pay_begin_many did not answer every pay');
      batch.forEach((w, i) => {
        const answer = answers[i] as PayBeginAnswer | ItemError;
        if (answer.outcome === 'ERROR') w.reject(new Error(`relay_pay_begin failed (SQLSTATE ${answer.sqlstate}): ${answer.message}`));
        else w.resolve(answer);
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }

  /** Runs one pay-begin statement (`sql`, its one JSON parameter) and returns its one value. */
  async #call<T>(sql: string, json: string): Promise<T> {
    const res = await this.#store.db.executeQuery<{ r: T | null }>(CompiledQuery.raw(sql, [json]));
    const value = res.rows[0]?.r;
    if (value === undefined || value === null) throw new Error(`${sql} returned nothing`);
    return value;
  }
}
