import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { RelayConfig } from './config.ts';
import type { EventHub, StatusEvent } from './events.ts';
import type { Store } from './store/db.ts';
import { NOTIFY_STATEMENT, notifyThroughPool } from './store/notify.ts';
import type { BindingsTable, PurchasesTable, RefundsTable } from './store/schema.ts';
import { BEAT_STATEMENT, PRUNE_BEATS_STATEMENT, TAKE_OVER_STATEMENT, TRY_LEAD_STATEMENT, WORKER_LOCK_KEY } from './store/worker-lead.ts';

/** The NOTIFY channel every relay process on one PostgreSQL database LISTENs on. */
export const CHANGE_CHANNEL = 'relay_changes';
/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more: changes are sent in chunks below this. */
const MAX_PAYLOAD_BYTES = 7_500;
/** Changes made within this many milliseconds share one notification (see `Announcer`). */
const ANNOUNCE_WINDOW_MS = 5;
/** The reconnect delay of a dropped LISTEN connection doubles up to this. */
const MAX_RETRY_MS = 30_000;
/** Successive polls overlap by this much: a row committed with a `touched_at` taken a little before the last poll read. */
const POLL_OVERLAP_MS = 2_000;
/** A process that does not hold the worker lock tries to take it this often (the holder may have gone, or hung). */
const LEAD_RETRY_MS = 2_000;
/** After ending a hung holder's session, the next try comes this soon (the server frees the lock as the session exits). */
const LEAD_TAKEOVER_RETRY_MS = 100;
/** The worker-lock holder's heartbeat: every fifth of the staleness, at most every second (store/worker-lead.ts). */
const beatEveryMs = (staleMs: number): number => Math.min(1_000, Math.floor(staleMs / 5));

type Kind = StatusEvent['kind'];
/** One announced change: kind, id, owner, version (the owner and version let a receiver skip what nobody here waits for). */
const Change = z.tuple([z.enum(['binding', 'purchase', 'refund']), z.string().min(1).max(200), z.string().min(1).max(300), z.number().int().nonnegative()]);
type Change = z.infer<typeof Change>;
/** A notification's payload: the announcing process (`o`) and its changes (`c`). */
const Payload = z.strictObject({ o: z.string().min(1).max(64), c: z.array(Change).min(1).max(500) });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** What the watcher needs of a repository: read a row by id, publish it, and (bindings, purchases) the polling query. */
export interface ChangeRepo<R> {
  get(id: string): Promise<R | undefined>;
  publish(row: R): void;
  touchedSince?(since: number): Promise<R[]>;
}

/** The watcher's view of one kind: publishes a row read by id, or every row touched since a time. */
interface Source {
  read(id: string): Promise<void>;
  poll(since: number): Promise<void>;
}

function sourceOf<R>(hub: EventHub, repo: ChangeRepo<R>): Source {
  return {
    async read(id) {
      const row = await repo.get(id);
      if (row) hub.replay(() => repo.publish(row));
    },
    async poll(since) {
      const rows = (await repo.touchedSince?.(since)) ?? [];
      hub.replay(() => {
        for (const row of rows) repo.publish(row);
      });
    },
  };
}

export interface ChangeWatcherDeps {
  hub: EventHub;
  /** Whether this process's worker runs timed passes (false with `manualWorker`): only such a process takes the worker lock. */
  leadWork: boolean;
  store: Store;
  databaseUrl: string | undefined;
  settings: RelayConfig['events'];
  /** `worker.leadStaleMs`: a worker-lock holder whose heartbeat is older is ended (store/worker-lead.ts). */
  leadStaleMs: number;
  repos: { binding: ChangeRepo<BindingsTable>; purchase: ChangeRepo<PurchasesTable>; refund: ChangeRepo<RefundsTable> };
  logger: Logger;
}

/** The running watcher. */
export interface ChangeWatcher {
  /** Whether the LISTEN connection is up (always false on SQLite, or with `events.crossProcessListen` off). */
  readonly listening: boolean;
  /** The backend pid of the LISTEN connection while it is up (operations and tests). */
  readonly listenPid: number | undefined;
  /**
   * Whether this process's worker should run its timed passes: true unless this one's LISTEN
   * connection is up and it does not hold the worker lock with a fresh heartbeat (see
   * `startChangeWatcher`). Always true on SQLite and with `events.crossProcessListen` off.
   */
  readonly leadsWork: boolean;
  /** What the notifications of other processes cost here (operations and tests). */
  readonly counts: Readonly<NotificationCounts>;
  close(): Promise<void>;
}

/** Notifications received on the LISTEN connection, and what became of them. */
export interface NotificationCounts {
  /** Every notification on the channel (this process's own come back too). */
  received: number;
  /** Dropped unread: nothing here waited for any change. */
  unread: number;
  /** Parsed and checked change by change against what waits here. */
  examined: number;
  /** Rows read by id because a stream or long-poll here waited for them. */
  reads: number;
}

/**
 * Carries status changes between relay processes sharing one database, so a device streaming
 * from one process hears of a change another made.
 *
 * PostgreSQL: the process that publishes a change to its own hub (after the commit) announces
 * it with `pg_notify` (changes of one event-loop turn batched, under 8000 bytes each), and every
 * process LISTENs on its own connection, outside the query pool, so a pool busy with pays never
 * delays a notification. A process with no stream or long-poll open drops every notification
 * unread (the common case for most processes of a fleet under pay load: only the devices' own
 * process streams to them); otherwise it skips its own (recognised by their prefix, before any
 * parse), checks each announced change against what waits here by kind, id, owner and version,
 * and reads a row by id only when one of its streams or long-polls waits for it, and publishes
 * it. Polling stays as the fallback: every
 * `crossProcessListenPollMs` while LISTEN is up (a notification lost in between), every
 * `crossProcessPollMs` while it is down; a dropped LISTEN connection reconnects after
 * `listenRetryMs`, doubling up to 30 s, and catches up with one poll when it is back.
 *
 * Worker passes: the worker's timed passes poll tables every process shares (due bindings,
 * payments, refunds, fulfilment; rows claimed by lease), so N processes polling would do N times
 * the fixed work for the same rows. The process holding the worker lock (a session advisory
 * lock, `WORKER_LOCK_KEY`, on its LISTEN connection) runs them; the others skip their timed passes
 * and try for the lock every `LEAD_RETRY_MS`, taking over when its holder's session ends (crash,
 * shutdown, lost connection) or when its heartbeat is older than `leadStaleMs` (a hung holder:
 * they end its session; store/worker-lead.ts owns that rule, and why the lock is for efficiency,
 * not correctness). Kicked passes (work this process just made) run wherever they
 * are kicked. A process whose LISTEN connection is down cannot tell whether anyone holds the
 * lock, so it runs its timed passes itself until the connection is back: the leases keep two
 * workers from doing one row twice.
 *
 * SQLite (one process): the polling alone, as before.
 */
export function startChangeWatcher(deps: ChangeWatcherDeps): ChangeWatcher {
  const { hub, settings, logger } = deps;
  const sources: Record<Kind, Source> = {
    binding: sourceOf(hub, deps.repos.binding),
    purchase: sourceOf(hub, deps.repos.purchase),
    refund: sourceOf(hub, deps.repos.refund),
  };
  let closed = false;
  let listener: Listener | undefined;
  const counts: NotificationCounts = { received: 0, unread: 0, examined: 0, reads: 0 };

  // The polling fallback (bindings and purchases: the tables with `touched_at`).
  let watchedSince = Date.now();
  let pollTimer: NodeJS.Timeout | undefined;
  const schedulePoll = (ms: number): void => {
    clearTimeout(pollTimer);
    if (closed) return;
    pollTimer = setTimeout(() => void pollOnce(), ms);
    pollTimer.unref();
  };
  const pollEvery = (): number => (listener?.up ? settings.crossProcessListenPollMs : settings.crossProcessPollMs);
  const pollOnce = async (): Promise<void> => {
    try {
      if (hub.listenerCount === 0) {
        watchedSince = Date.now();
        return;
      }
      const since = watchedSince - POLL_OVERLAP_MS;
      watchedSince = Date.now();
      await sources.binding.poll(since);
      await sources.purchase.poll(since);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'change watcher failed');
    } finally {
      schedulePoll(pollEvery());
    }
  };

  const url = deps.databaseUrl;
  if (deps.store.dialect === 'postgres' && settings.crossProcessListen && url) {
    const origin = randomUUID();
    const announcer = new Announcer(origin, async (payload) => listener?.notify(payload, deps.store, logger));
    const receive = (payload: string): void => {
      counts.received += 1;
      // Nothing here waits for any change, or this process's own announcement came back: no parse.
      if (hub.listenerCount === 0 || announcer.isOwn(payload)) {
        counts.unread += 1;
        return;
      }
      counts.examined += 1;
      const parsed = Payload.safeParse(parseJson(payload));
      if (!parsed.success) {
        logger.warn({ channel: CHANGE_CHANNEL }, 'malformed change notification ignored');
        return;
      }
      for (const [kind, id, owner, version] of parsed.data.c) {
        if (!hub.wants(kind, id, owner, version)) continue;
        counts.reads += 1;
        sources[kind].read(id).catch((err: Error) => logger.warn({ err: err.message, kind, id }, 'reading an announced change failed'));
      }
    };
    listener = new Listener(url, settings.listenRetryMs, deps.leadWork ? deps.leadStaleMs : undefined, receive, logger, (up) => {
      // Down: poll fast at once. Up again: one poll catches what LISTEN missed meanwhile; the
      // slower interval applies from the next one.
      schedulePoll(up ? 0 : settings.crossProcessPollMs);
    });
    hub.onLocalChange = (e) => announcer.add([e.kind, e.id, e.owner, e.version]);
    listener.start();
  }
  schedulePoll(pollEvery());

  return {
    get listening() {
      return listener?.up ?? false;
    },
    get listenPid() {
      return listener?.pid;
    },
    get leadsWork() {
      return !listener?.up || listener.leads;
    },
    counts,
    async close() {
      closed = true;
      clearTimeout(pollTimer);
      hub.onLocalChange = undefined;
      await listener?.close();
    },
  };
}

/**
 * Batches changes into as few notifications as fit under the payload limit: the changes of
 * `ANNOUNCE_WINDOW_MS` go out together, one statement in flight at a time (node-postgres queues
 * concurrent queries on one client, a use it deprecates). A pay makes two or three changes; a
 * statement for each would add as many to the pay path. The window bounds them to about 200 a
 * second whatever the load, for at most a few milliseconds of push latency.
 */
export class Announcer {
  #pending: Change[] = [];
  #scheduled = false;
  readonly #head: string;

  constructor(
    origin: string,
    private readonly send: (payload: string) => Promise<void>,
  ) {
    this.#head = `{"o":${JSON.stringify(origin)},"c":[`;
  }

  /** Whether a payload is one of this announcer's own (PostgreSQL delivers a session's notifications to itself too). */
  isOwn(payload: string): boolean {
    return payload.startsWith(this.#head);
  }

  /** Queues one change (kind, id, owner, version) for the next notification. */
  add(change: Change): void {
    this.#pending.push(change);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#pending.length === 0) return;
    this.#scheduled = true;
    setTimeout(() => void this.#flush(), ANNOUNCE_WINDOW_MS);
  }

  async #flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    // `send` logs its own failures (the fallback poll covers a lost announcement).
    for (const payload of this.#chunks(batch)) await this.send(payload).catch(() => undefined);
    this.#scheduled = false;
    this.#schedule();
  }

  *#chunks(batch: Change[]): Generator<string> {
    let items: string[] = [];
    let bytes = Buffer.byteLength(this.#head) + 2;
    for (const change of batch) {
      const item = JSON.stringify(change);
      const size = Buffer.byteLength(item) + 1;
      if (items.length > 0 && bytes + size > MAX_PAYLOAD_BYTES) {
        yield `${this.#head}${items.join(',')}]}`;
        items = [];
        bytes = Buffer.byteLength(this.#head) + 2;
      }
      items.push(item);
      bytes += size;
    }
    if (items.length > 0) yield `${this.#head}${items.join(',')}]}`;
  }
}

/**
 * The dedicated LISTEN connection (pg's Client, not a pool connection), reconnecting with backoff.
 * It also carries this process's announcements and, when `leadStaleMs` is set, contends for the
 * worker lock, holds it and beats (store/worker-lead.ts).
 * Its statements go one at a time (node-postgres deprecates concurrent queries on one client).
 */
class Listener {
  #client: pg.Client | undefined;
  #pid: number | undefined;
  #up = false;
  #leads = false;
  #closed = false;
  #retryMs: number;
  #timer: NodeJS.Timeout | undefined;
  #leadTimer: NodeJS.Timeout | undefined;
  #beatTimer: NodeJS.Timeout | undefined;
  /** When (this process's monotonic clock) the last beat the server acknowledged was sent. */
  #beatSentAt = Number.NEGATIVE_INFINITY;
  /** The tail of this connection's statements. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly firstRetryMs: number,
    private readonly leadStaleMs: number | undefined,
    private readonly receive: (payload: string) => void,
    private readonly logger: Logger,
    private readonly onState: (up: boolean) => void,
  ) {
    this.#retryMs = firstRetryMs;
  }

  get up(): boolean {
    return this.#up;
  }

  get pid(): number | undefined {
    return this.#up ? this.#pid : undefined;
  }

  /**
   * Whether this connection holds the worker lock (false while it is down: the session that held
   * it has ended) with a heartbeat that no contender can yet judge stale: the last acknowledged
   * beat was sent less than `leadStaleMs` ago (store/worker-lead.ts: a holder waking from a hang
   * runs no timed pass before it learns that its session was ended).
   */
  get leads(): boolean {
    return this.#up && this.#leads && performance.now() - this.#beatSentAt < (this.leadStaleMs ?? 0);
  }

  start(): void {
    void this.#connect();
  }

  /** Runs one statement on `client` after the ones before it. */
  #query<R extends pg.QueryResultRow>(client: pg.Client, text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    const run = this.#queue.then(() => client.query<R>(text, values));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.url, application_name: 'relay-listen' });
    this.#client = client;
    this.#queue = Promise.resolve();
    this.#leads = false;
    this.#beatSentAt = Number.NEGATIVE_INFINITY;
    // A server-side end (restart, failover, pg_terminate_backend) arrives as 'error' and/or 'end'.
    client.on('error', (err) => this.#down(client, err));
    client.on('end', () => this.#down(client));
    client.on('notification', (msg) => {
      if (msg.channel === CHANGE_CHANNEL && msg.payload !== undefined) this.receive(msg.payload);
    });
    try {
      await client.connect();
      await this.#query(client, `LISTEN ${CHANGE_CHANNEL}`);
      const pid = await this.#query<{ pid: number }>(client, 'select pg_backend_pid() as pid');
      this.#pid = pid.rows[0]?.pid;
    } catch (err) {
      this.#down(client, err as Error);
      return;
    }
    if (this.#client !== client) return;
    const wasRetrying = this.#retryMs !== this.firstRetryMs;
    this.#up = true;
    this.#retryMs = this.firstRetryMs;
    if (wasRetrying) this.logger.info({ channel: CHANGE_CHANNEL }, 'change LISTEN connection back');
    if (this.leadStaleMs !== undefined) await this.#tryLead(client, this.leadStaleMs);
    this.onState(true);
  }

  /**
   * Beats, then tries for the worker lock on `client`; when another session holds it with a
   * missing or stale beat, ends that session and tries again soon (store/worker-lead.ts); while a
   * live session holds it, tries again every `LEAD_RETRY_MS`. Holding it, beats every `beatEveryMs`.
   */
  async #tryLead(client: pg.Client, staleMs: number): Promise<void> {
    let retryMs = LEAD_RETRY_MS;
    try {
      await this.#beat(client);
      const r = await this.#query<{ locked: boolean }>(client, TRY_LEAD_STATEMENT, [WORKER_LOCK_KEY]);
      const locked = r.rows[0]?.locked === true;
      if (this.#client === client) this.#leads = locked;
      if (locked) {
        await this.#query(client, PRUNE_BEATS_STATEMENT);
      } else {
        const stale = (await this.#query<{ pid: number; ended: boolean }>(client, TAKE_OVER_STATEMENT, [WORKER_LOCK_KEY, staleMs])).rows[0];
        if (stale?.ended) {
          this.logger.warn({ holderPid: stale.pid, leadStaleMs: staleMs }, 'worker lock holder stopped beating: ended its session to take the lock');
          retryMs = LEAD_TAKEOVER_RETRY_MS;
        } else if (stale) {
          this.logger.error({ holderPid: stale.pid }, 'worker lock holder stopped beating and its session could not be ended (another database role?)');
        }
      }
    } catch (err) {
      // The connection dropped under the query (`#down` handles it), or a statement failed: try again later.
      if (this.#client === client) this.logger.warn({ err: (err as Error).message }, 'trying for the worker lock failed');
    }
    if (this.#client !== client || this.#closed) return;
    if (this.#leads) {
      this.#scheduleBeat(client, staleMs);
      return;
    }
    clearTimeout(this.#leadTimer);
    this.#leadTimer = setTimeout(() => void this.#tryLead(client, staleMs), retryMs);
    this.#leadTimer.unref();
  }

  /** Writes this session's heartbeat; on the server's answer, records when it was sent. */
  async #beat(client: pg.Client): Promise<void> {
    const sentAt = performance.now();
    await this.#query(client, BEAT_STATEMENT);
    if (this.#client === client) this.#beatSentAt = sentAt;
  }

  /** The holder's heartbeat, on a timer of its own: a slow pass does not delay it, a blocked event loop does. */
  #scheduleBeat(client: pg.Client, staleMs: number): void {
    clearTimeout(this.#beatTimer);
    this.#beatTimer = setTimeout(() => {
      this.#beat(client)
        .catch((err: Error) => {
          if (this.#client === client) this.logger.warn({ err: err.message }, 'worker lock heartbeat failed');
        })
        .finally(() => {
          if (this.#client === client && !this.#closed) this.#scheduleBeat(client, staleMs);
        });
    }, beatEveryMs(staleMs));
    this.#beatTimer.unref();
  }

  #down(client: pg.Client, err?: Error): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    const wasUp = this.#up;
    this.#up = false;
    this.#leads = false;
    clearTimeout(this.#leadTimer);
    clearTimeout(this.#beatTimer);
    void client.end().catch(() => undefined);
    if (this.#closed) return;
    const delay = this.#retryMs;
    this.#retryMs = Math.min(delay * 2, MAX_RETRY_MS);
    this.logger.warn({ err: err?.message, retryInMs: delay }, 'change LISTEN connection lost: polling fast until it is back');
    if (wasUp) this.onState(false);
    this.#timer = setTimeout(() => void this.#connect(), delay);
    this.#timer.unref();
  }

  /** Sends on the LISTEN connection while it is up, otherwise (or when that fails) through the pool. */
  async notify(payload: string, store: Store, logger: Logger): Promise<void> {
    const client = this.#up ? this.#client : undefined;
    try {
      if (client) {
        await this.#query(client, NOTIFY_STATEMENT, [CHANGE_CHANNEL, payload]);
        return;
      }
    } catch {
      // The connection dropped under the query: the pool takes it.
    }
    try {
      await notifyThroughPool(store, CHANGE_CHANNEL, payload);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'change announcement failed: the other processes poll it');
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#leadTimer);
    clearTimeout(this.#beatTimer);
    const client = this.#client;
    this.#client = undefined;
    this.#up = false;
    this.#leads = false;
    // Ending the session frees the worker lock for another process.
    await client?.end().catch(() => undefined);
  }
}
