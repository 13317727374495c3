import type { Kysely, Migration } from 'kysely';

/**
 * The identities of Antom notifications already handled, one row per (kind, key), so a repeat
 * (Antom's retries, a replay inside the 25 h request-time window, a copy reaching another relay
 * process) is acknowledged without being handled again (issue 14). `notification_key` is a
 * SHA-256 of the identity, so an access token in it is never stored.
 */
export const notificationDedupe: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('notification_dedupe')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('notification_key', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('notification_dedupe_pk', ['kind', 'notification_key'])
      .execute();
  },
};
