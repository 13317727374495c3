import { CompiledQuery } from 'kysely';
import type { Store } from '../store/db.ts';
import type { PayBeginAnswer, PayBeginInput } from './purchase-repo.ts';

const ONE_SQL = 'select relay_pay_begin($1::jsonb) as r';
const MANY_SQL = 'select relay_pay_begin_many($1::jsonb) as r';

/** The default of config databasePayBatchMax: the most pay begins one commit carries. */
export const DEFAULT_PAY_BATCH_MAX = 32;

interface Waiting {
  input: PayBeginInput;
  resolve(answer: PayBeginAnswer): void;
  reject(err: unknown): void;
}

/** One item of relay_pay_begin_many that failed alone (its sub-block rolled back). */
type ItemError = { outcome: 'ERROR'; sqlstate: string; message: string };

/**
 * Group commit of pay begins on PostgreSQL (issue 17, "Group commit of durable writes"):
 * while one begin statement is in flight, further begins wait here; when it returns, all of
 * them (up to `maxBatch`) go as one relay_pay_begin_many call (store/migrations-0008.ts), one
 * round trip and one commit. Batching is natural: no timer, so a pay at low load goes at once
 * as today's single relay_pay_begin, and a batch grows only with the pays that arrive during
 * the previous commit. Each pay's promise settles only when the statement holding its intent
 * has returned, i.e. after its commit, so no answer and no Antom call precede it.
 *
 * A failed statement (connection lost, server gone) fails every pay it carried and commits
 * none of them; one item failing inside the batch (its ERROR answer) fails that pay alone.
 */
export class PayBeginBatcher {
  readonly #store: Store;
  readonly #maxBatch: number;
  #queue: Waiting[] = [];
  #busy = false;

  constructor(store: Store, maxBatch: number) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`pay batch size must be a positive integer, got ${maxBatch}`);
    this.#store = store;
    this.#maxBatch = maxBatch;
  }

  /** Pays waiting for the statement in flight (tests observe a batch forming). */
  get queued(): number {
    return this.#queue.length;
  }

  /** Runs one pay's begin in the next commit; resolves with its answer after that commit. */
  begin(input: PayBeginInput): Promise<PayBeginAnswer> {
    return new Promise<PayBeginAnswer>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      if (!this.#busy) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        try {
          await (batch.length === 1 ? this.#one(batch[0] as Waiting) : this.#many(batch));
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  async #one(w: Waiting): Promise<void> {
    const res = await this.#store.db.executeQuery<{ r: PayBeginAnswer }>(CompiledQuery.raw(ONE_SQL, [JSON.stringify(w.input)]));
    const answer = res.rows[0]?.r;
    if (!answer) throw new Error('relay_pay_begin returned nothing');
    w.resolve(answer);
  }

  async #many(batch: Waiting[]): Promise<void> {
    const json = `[${batch.map((w) => JSON.stringify(w.input)).join(',')}]`;
    const res = await this.#store.db.executeQuery<{ r: (PayBeginAnswer | ItemError)[] }>(CompiledQuery.raw(MANY_SQL, [json]));
    const answers = res.rows[0]?.r;
    if (!Array.isArray(answers) || answers.length !== batch.length) throw new Error('relay_pay_begin_many did not answer every pay');
    batch.forEach((w, i) => {
      const answer = answers[i] as PayBeginAnswer | ItemError;
      if (answer.outcome === 'ERROR') w.reject(new Error(`relay_pay_begin failed (SQLSTATE ${answer.sqlstate}): ${answer.message}`));
      else w.resolve(answer);
    });
  }
}
