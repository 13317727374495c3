import { type Kysely, type Migration, PostgresAdapter, sql } from 'kysely';

/**
 * `worker_beats`, PostgreSQL only (issue 17, "Horizontal scale"): the heartbeat of each relay
 * session that holds or contends for the worker lock (store/worker-lead.ts owns the rule and the
 * statements). `pid` is the backend pid of the session's LISTEN connection, `beat_at` the
 * database's clock (`clock_timestamp()`) at its last beat: staleness is judged on the database's
 * clock alone, never a relay's. SQLite runs one process and has no worker lock: nothing there.
 */
export const workerBeats: Migration = {
  async up(db: Kysely<unknown>) {
    if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
    await sql`create table worker_beats (pid integer primary key, beat_at timestamptz not null)`.execute(db);
  },
};
