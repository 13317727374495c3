/**
 * The worker lock of a relay fleet on one PostgreSQL database, and its heartbeat (issue 17,
 * "Horizontal scale"). change-watcher.ts runs these statements on its LISTEN connection, the
 * session that holds the lock; this module owns the rule and the SQL.
 *
 * Why a lock, and what it is for: efficiency, not correctness. Every timed worker pass (due
 * bindings, payments, refunds, fulfilment, the revocation outbox) claims each row with a lease
 * (`lease_until`, a conditional update) before it acts on it, and kicked passes already run in
 * any process; so two processes running passes at once each do only the rows they claimed. The
 * lock only keeps N processes from polling the same tables N times. It may therefore err on the
 * side of two leaders for a moment (a holder that wakes after being replaced), never on the side
 * of none for long.
 *
 * The fault this closes: a holder that hangs (event loop blocked, process stopped) while its
 * session stays open kept the lock, so no process ran the timed passes for as long as it hung.
 *
 * The heartbeat: every session that contends writes its own `worker_beats` row (its backend pid,
 * the database's `clock_timestamp()`) before it tries for the lock, and the holder rewrites it
 * every beat (change-watcher.ts: `beatEveryMs`, on a timer of its own, so a pass slower than the
 * staleness does not stop it; only a blocked event loop or a stopped process does). A contender
 * that fails to take the lock looks up the holder's pid in `pg_locks` (the session that really
 * holds it, not a recorded pid that may be stale or reused) and ends that session with
 * `pg_terminate_backend` when the holder has no beat row, or its beat is older than the
 * staleness (`worker.leadStaleMs`); the server then frees the lock and the contender takes it.
 * Because each session beats before it tries, a holder never lacks a row when it wins: the
 * "no row" case is a session that took the lock without beating (not a relay, or an older one),
 * which is as good as hung. Both times are the database's clock, in one statement: relays' clock
 * skew plays no part. The holder, for its part, counts itself the leader only while its last
 * acknowledged beat was *sent* less than the staleness ago, by its own monotonic clock (no wall
 * clock either): the server stamped that beat after it was sent, so the holder stops leading no
 * later than any contender can judge it stale, and a holder that wakes from a hang runs no
 * timed pass before it learns its session is gone.
 *
 * Terminating another relay's session needs the same database role on every relay (or
 * `pg_signal_backend`); a refusal is logged and the contender keeps waiting as before.
 */

/** The session advisory lock ('relayw' in ASCII). PostgreSQL scopes advisory locks to one database and frees a session's locks when it ends. */
export const WORKER_LOCK_KEY = 0x72656c617977;

/** Takes the worker lock when free ($1: `WORKER_LOCK_KEY`). */
export const TRY_LEAD_STATEMENT = 'select pg_try_advisory_lock($1) as locked';

/** This session's heartbeat, on the database's clock. */
export const BEAT_STATEMENT =
  'insert into worker_beats (pid, beat_at) values (pg_backend_pid(), clock_timestamp()) on conflict (pid) do update set beat_at = excluded.beat_at';

/**
 * Ends the session holding the worker lock ($1: `WORKER_LOCK_KEY`) when its beat is missing or
 * older than $2 milliseconds; returns its pid and whether it was ended (no row: none is held,
 * or its holder beats). A bigint advisory key shows in `pg_locks` as classid (high 32 bits),
 * objid (low 32 bits) and objsubid 1.
 */
export const TAKE_OVER_STATEMENT = `select l.pid, pg_terminate_backend(l.pid) as ended
  from pg_locks l left join worker_beats b on b.pid = l.pid
  where l.locktype = 'advisory' and l.granted and l.objsubid = 1
    and l.database = (select oid from pg_database where datname = current_database())
    and l.classid = ($1::bigint >> 32)::oid and l.objid = ($1::bigint & 4294967295)::oid
    and l.pid <> pg_backend_pid()
    and (b.beat_at is null or b.beat_at < clock_timestamp() - make_interval(secs => $2::double precision / 1000))`;

/** Drops the beat rows of sessions that have ended (run by a new holder). */
export const PRUNE_BEATS_STATEMENT = 'delete from worker_beats where pid not in (select pid from pg_stat_activity)';
