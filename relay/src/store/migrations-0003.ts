import type { Kysely, Migration } from 'kysely';

/**
 * Covering index for the wallet-limit check of every pay (issue 9, bench #1/#2): the sum filters
 * on (account, currency, created_at window, state) and adds amount_minor; with this index both
 * engines answer it from the index alone (the current window's entries only, no row lookups).
 * The studio caps (optional, per owner) keep purchases_owner (owner, created_at): an extra index
 * would cost every insert for a check that is off by default.
 */
export const spendingIndexes: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('purchases_account_spend')
      .on('purchases')
      .columns(['account_ref', 'currency', 'created_at', 'state', 'amount_minor'])
      .execute();
    // Served by purchases_account_spend (same leading column); nothing else filters on it.
    await db.schema.dropIndex('purchases_account').execute();
  },
};
