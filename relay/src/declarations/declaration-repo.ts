import type { Store } from '../store/db.ts';
import { lockPurchase, type PurchaseRow } from '../payments/purchase-repo.ts';
import type { DeclarationsTable } from '../store/schema.ts';

/** A customs declaration row. */
export type DeclarationRow = DeclarationsTable;

/** The customs declarations' table (`declarations`). */
export class DeclarationRepo {
  constructor(readonly store: Store) {}

  /** One declaration by its declarationRequestId. */
  get(id: string): Promise<DeclarationRow | undefined> {
    return this.store.db.selectFrom('declarations').selectAll().where('declaration_request_id', '=', id).executeTakeFirst();
  }

  /** The declarations of `ids` that exist. */
  some(ids: string[]): Promise<DeclarationRow[]> {
    return this.store.db.selectFrom('declarations').selectAll().where('declaration_request_id', 'in', ids).execute();
  }

  /** The newest declarations, optionally of one purchase (admin API). */
  list(filter: { intentId?: string | undefined }, limit: number): Promise<DeclarationRow[]> {
    let q = this.store.db.selectFrom('declarations').selectAll();
    if (filter.intentId) q = q.where('intent_id', '=', filter.intentId);
    return q.orderBy('created_at', 'desc').limit(limit).execute();
  }

  /** The declarations of one purchase. */
  ofPurchase(intentId: string): Promise<DeclarationRow[]> {
    return this.store.db.selectFrom('declarations').selectAll().where('intent_id', '=', intentId).execute();
  }

  /**
   * Writes a new declaration under the purchase's lock (`lockPurchase`): `decide` gets the
   * purchase and the sum already declared (every declaration but failed ones) and returns the
   * row to insert, or throws to refuse; so the declared total never passes the payment.
   */
  create(intentId: string, decide: (purchase: PurchaseRow | undefined, alreadyDeclared: number) => DeclarationRow): Promise<DeclarationRow> {
    return this.store.db.transaction().execute(async (trx) => {
      const p = await lockPurchase(trx, this.store.dialect, intentId);
      let already = 0;
      if (p) {
        const sum = await trx
          .selectFrom('declarations')
          .select((eb) => eb.fn.sum<string | number | null>('amount_minor').as('total'))
          .where('intent_id', '=', p.intent_id)
          .where('state', '!=', 'FAILED')
          .executeTakeFirst();
        already = Number(sum?.total ?? 0);
      }
      const values = decide(p, already);
      await trx.insertInto('declarations').values(values).execute();
      return values;
    });
  }

  /** Writes `patch` to one declaration (and its update time). */
  async update(id: string, patch: Partial<Omit<DeclarationRow, 'declaration_request_id'>>): Promise<void> {
    await this.store.db.updateTable('declarations').set(patch).where('declaration_request_id', '=', id).execute();
  }
}
