import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Metrics } from '../ops/metrics.ts';
import type { Admission } from '../ops/overload.ts';
import { pingStore, type Store } from '../store/db.ts';

/** What the operations endpoints need. */
export interface OpsDeps {
  metrics: Metrics;
  admission: Admission;
  store: Store;
  keysLoaded: () => boolean;
  isClosing: () => boolean;
  backlog: () => Promise<{ fulfilment: number; refunds: number; payments: number }>;
  /** Held connections of this process (event streams, long-polls). */
  held: () => { streams: number; longPolls: number };
}

/** Paths never counted by admission control (probes, scrapes). */
const UNADMITTED = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json']);
/** Antom's notification routes: counted, never refused (issue 14: money state becomes final through them). */
const ALWAYS_ADMITTED = '/antom/notify/';

/** Each admitted request's release (once), so a held connection can give its slot back early. */
const releases = new WeakMap<FastifyRequest['raw'], () => void>();

/**
 * Gives a request's admission slot back before it ends. A long-poll or event stream is admitted
 * like any request while it authenticates and reads; once it only waits it is counted by the
 * HeldRegistry's caps instead (ops/streams.ts), so held connections never fill `maxInFlight`.
 */
export function releaseAdmission(req: FastifyRequest): void {
  releases.get(req.raw)?.();
}

/**
 * Request accounting and admission control on the public listener (liveness: the public
 * context, public-routes.ts; readiness and metrics: `registerOpsEndpoints`). Root hooks, so every
 * context of the listener runs them, and runs them first: past `maxInFlight` the relay answers
 * 503 OVERLOADED with Retry-After instead of queueing without bound, before a device's rate
 * limit or signature is looked at.
 */
export function registerOps(app: FastifyInstance, deps: OpsDeps): void {
  const started = new WeakMap<FastifyRequest, number>();

  // Callback hooks, not async ones: nothing here waits, and an async hook costs a promise and a
  // microtask turn on every request (issue 17, the pay path).
  app.addHook('onRequest', function admission(req, reply, done) {
    started.set(req, performance.now());
    const path = req.url.split('?', 1)[0] ?? '';
    if (UNADMITTED.has(path)) return done();
    let release: () => void;
    try {
      release = deps.admission.enter(path.startsWith(ALWAYS_ADMITTED));
    } catch (err) {
      return done(err as Error);
    }
    releases.set(req.raw, release);
    // 'close' fires once the answer is sent or the client went away, so a slot is never leaked.
    reply.raw.once('close', release);
    done();
  });
  app.addHook('onResponse', function requestMetrics(req, reply, done) {
    const t0 = started.get(req);
    countRequest(
      deps.metrics,
      req.method,
      req.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      t0 === undefined ? undefined : (performance.now() - t0) / 1000,
    );
    done();
  });
}

/** Counts one answered request of the public listener (its hook above, and the front door's refusals: server.ts answerEarly). */
export function countRequest(metrics: Metrics, method: string, route: string, status: number, seconds: number | undefined): void {
  metrics.inc('relay_http_requests_total', { method, route, status: String(status) });
  if (status === 429 || status === 503) metrics.inc('relay_rejected_total', { status: String(status) });
  if (seconds !== undefined) metrics.observe('relay_http_request_duration_seconds', { method, route }, seconds);
}

/**
 * Readiness and Prometheus metrics, registered on the admin and operations listener (never the
 * public one, so scrapes and probes are not exposed to the internet and are not refused by the
 * public listener's admission control).
 */
export function registerOpsEndpoints(app: FastifyInstance, deps: OpsDeps): void {
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, boolean> = { keys: deps.keysLoaded(), accepting: !deps.isClosing(), database: false };
    try {
      await pingStore(deps.store);
      checks['database'] = true;
    } catch {
      checks['database'] = false;
    }
    const ready = Object.values(checks).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', checks });
  });

  app.get('/metrics', async (_req, reply) => {
    let backlog = { fulfilment: -1, refunds: -1, payments: -1 };
    try {
      backlog = await deps.backlog();
    } catch {
      // database unreachable: report -1 rather than fail the scrape
    }
    const text = deps.metrics.render([
      { name: 'relay_fulfilment_outbox_backlog', help: 'Fulfilment webhook events not yet delivered.', value: backlog.fulfilment },
      { name: 'relay_refunds_unsettled', help: 'Refunds waiting for an outcome from Antom.', value: backlog.refunds },
      { name: 'relay_payments_unsettled', help: 'Payments waiting for an outcome from Antom.', value: backlog.payments },
      { name: 'relay_requests_in_flight', help: 'Requests being handled by this process.', value: deps.admission.inFlight },
      { name: 'relay_streams_open', help: 'Event streams (GET /v1/events) held open by this process.', value: deps.held().streams },
      { name: 'relay_long_polls_open', help: 'Long-polls (GET /v1/bindings/:id?waitForChange) waiting in this process.', value: deps.held().longPolls },
      {
        name: 'relay_event_loop_lag_seconds',
        help: 'How late the event loop runs (smaller of the last two 10 ms samples; admission refuses past limits.maxEventLoopLagMs).',
        value: deps.admission.lagMs / 1000,
      },
      ...checkpointGauges(deps.store),
    ]);
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });
}

/**
 * SQLite: what the checkpoint worker did (Checkpointer), read at scrape time; none on PostgreSQL.
 * `running` 0 means the worker stopped and SQLite's automatic checkpoints run on the event loop
 * again (warned once in the log); `on_loop` counts the relay connection's own catch-up checkpoints.
 */
function checkpointGauges(store: Store): { name: string; help: string; value: number }[] {
  const c = store.checkpoints;
  if (!c) return [];
  return [
    {
      name: 'relay_sqlite_checkpoint_worker_running',
      help: 'SQLite: 1 while the checkpoint worker thread checkpoints, 0 after its fallback.',
      value: c.running ? 1 : 0,
    },
    { name: 'relay_sqlite_checkpoints_worker', help: 'SQLite: checkpoints the worker thread ran since the relay started.', value: c.runs },
    {
      name: 'relay_sqlite_checkpoints_on_loop',
      help: "SQLite: checkpoints the relay's own connection ran since it started (the WAL outgrew its bound).",
      value: c.onLoop,
    },
    { name: 'relay_sqlite_wal_frames', help: "SQLite: frames in the WAL at the worker's last checkpoint.", value: c.log },
  ];
}
