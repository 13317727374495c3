import type SQLite from 'better-sqlite3';
import { type Store, sqliteFree } from '../store/db.ts';
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

/** The key's columns under names of their own, beside the audit row's (one statement binds both). */
type KeyAndAudit = NotificationsTable & { key_kind: string; notification_key: string; key_outcome: string; key_received_at: number };

/** PostgreSQL: the key and the audit row in one statement (a data-modifying CTE), so one round trip and one commit. */
const insertKeyAndAudit = new Prepared<KeyAndAudit, never>((db, arg) =>
  db
    .with('key', (q) =>
      q
        .insertInto('notification_dedupe')
        .values({ kind: arg('key_kind'), notification_key: arg('notification_key'), outcome: arg('key_outcome'), received_at: arg('key_received_at') })
        .onConflict((oc) => oc.columns(['kind', 'notification_key']).doNothing()),
    )
    .insertInto('notifications')
    .values({ id: arg('id'), kind: arg('kind'), ref: arg('ref'), outcome: arg('outcome'), received_at: arg('received_at') }),
);

/** SQLite: the same reads and writes as prepared better-sqlite3 statements (no Kysely on a pay's notification). */
class SqliteRecords {
  readonly #findKey: SQLite.Statement<[string, string], { outcome: string }>;
  readonly #insertKey: SQLite.Statement<[NotificationDedupeTable]>;
  readonly #insertAudit: SQLite.Statement<[NotificationsTable]>;
  readonly #begin: SQLite.Statement;
  readonly #commit: SQLite.Statement;
  readonly #rollback: SQLite.Statement;

  constructor(readonly db: SQLite.Database) {
    this.#findKey = db.prepare('select outcome from notification_dedupe where kind = ? and notification_key = ?');
    this.#insertKey = db.prepare(
      'insert into notification_dedupe (kind, notification_key, outcome, received_at) values (@kind, @notification_key, @outcome, @received_at) on conflict do nothing',
    );
    this.#insertAudit = db.prepare('insert into notifications (id, kind, ref, outcome, received_at) values (@id, @kind, @ref, @outcome, @received_at)');
    this.#begin = db.prepare('BEGIN');
    this.#commit = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
  }

  hasKey(kind: string, key: string): boolean {
    return this.#findKey.get(kind, key) !== undefined;
  }

  /** Both rows in one synchronous transaction; no WAL flush asked for (relaxed, see NotificationRepo). */
  record(key: NotificationDedupeTable | undefined, audit: NotificationsTable | undefined): void {
    this.#begin.run();
    try {
      if (key) this.#insertKey.run(key);
      if (audit) this.#insertAudit.run(audit);
      this.#commit.run();
    } catch (err) {
      if (this.db.inTransaction) this.#rollback.run();
      throw err;
    }
  }
}

/**
 * The records of Antom notifications: the identities of handled ones (deduplication, the rule
 * in notification-dedupe.ts) and the audit trail of every accepted delivery. Neither is money
 * state, so both are written with relaxed commits (Store.relaxed on PostgreSQL; on SQLite a
 * commit on `Store.sqlite` that asks the WAL barrier for no flush, which the next durable
 * commit's flush covers). A delivery's two rows are one commit (issue 17: a pay's notification
 * cost two commits and four statements through Kysely).
 */
export class NotificationRepo {
  readonly #lite: SqliteRecords | undefined;

  constructor(private readonly store: Store) {
    this.#lite = store.sqlite ? new SqliteRecords(store.sqlite) : undefined;
  }

  /** True when a notification identity was recorded. */
  async hasKey(kind: string, key: string): Promise<boolean> {
    const lite = this.#lite;
    if (lite) {
      if (lite.db.inTransaction) await sqliteFree(this.store);
      return lite.hasKey(kind, key);
    }
    return (await findKey.first(this.store.db, this.store.dialect, { kind, notification_key: key })) !== undefined;
  }

  /**
   * Records a notification identity (`key`; a concurrent copy's row wins silently) and one
   * accepted delivery for audit (`audit`: no secrets, kind, outcome and time), in one commit.
   */
  async record(key: NotificationDedupeTable | undefined, audit: NotificationsTable | undefined): Promise<void> {
    const lite = this.#lite;
    if (lite) {
      if (lite.db.inTransaction) await sqliteFree(this.store);
      lite.record(key, audit);
      return;
    }
    const dialect = this.store.dialect;
    await this.store.relaxed(async (db) => {
      if (key && audit) {
        const { kind, notification_key, outcome, received_at } = key;
        await insertKeyAndAudit.execute(db, dialect, { ...audit, key_kind: kind, notification_key, key_outcome: outcome, key_received_at: received_at });
      } else if (key) await insertKey.execute(db, dialect, key);
      else if (audit) await insertAudit.execute(db, dialect, audit);
    });
  }
}
