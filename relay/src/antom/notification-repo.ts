import type { Store } from '../store/db.ts';
import { Prepared } from '../store/prepared.ts';
import type { NotificationDedupeTable, NotificationsTable } from '../store/schema.ts';

const findKey = new Prepared<{ kind: string; notification_key: string }, { outcome: string }>((db, arg) =>
  db.selectFrom('notification_dedupe').select('outcome').where('kind', '=', arg('kind')).where('notification_key', '=', arg('notification_key')),
);

const insertKey = new Prepared<NotificationDedupeTable, never>((db, arg) =>
  db
    .insertInto('notification_dedupe')
    .values({ kind: arg('kind'), notification_key: arg('notification_key'), outcome: arg('outcome'), received_at: arg('received_at') })
    .onConflict((oc) => oc.columns(['kind', 'notification_key']).doNothing()),
);

const insertAudit = new Prepared<NotificationsTable, never>((db, arg) =>
  db.insertInto('notifications').values({ id: arg('id'), kind: arg('kind'), ref: arg('ref'), outcome: arg('outcome'), received_at: arg('received_at') }),
);

/**
 * The records of Antom notifications: the identities of handled ones (deduplication, the rule
 * in notification-dedupe.ts) and the audit trail of every accepted delivery. Neither is money
 * state, so both are written with relaxed commits (Store.relaxed).
 */
export class NotificationRepo {
  constructor(private readonly store: Store) {}

  /** True when a notification identity was recorded. */
  async hasKey(kind: string, key: string): Promise<boolean> {
    return (await findKey.first(this.store.db, this.store.dialect, { kind, notification_key: key })) !== undefined;
  }

  /** Records a notification identity; a concurrent copy's row wins silently. */
  async addKey(row: NotificationDedupeTable): Promise<void> {
    await this.store.relaxed((db) => insertKey.execute(db, this.store.dialect, row));
  }

  /** Records one accepted delivery for audit (no secrets: kind, outcome and time). */
  async audit(row: NotificationsTable): Promise<void> {
    await this.store.relaxed((db) => insertAudit.execute(db, this.store.dialect, row));
  }
}
