import type { Kysely, Migration } from 'kysely';

/**
 * Drops `spend_locks` (issue 16 §6): spending checks are serialised by PostgreSQL advisory
 * locks (relay_pay_begin, migration 0007) and SQLite's single writer; nothing has read or
 * written the table since. `ifExists`, so a database created without it migrates too.
 */
export const dropSpendLocks: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropTable('spend_locks').ifExists().execute();
  },
};
