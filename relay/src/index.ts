import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { AntomClient } from './antom/client.ts';
import { parsePrivateKey, parsePublicKey } from './antom/signature.ts';
import { AuthorizationNotifications } from './bindings/authorization-notifications.ts';
import { BindingRepo } from './bindings/binding-repo.ts';
import { RelayBindingService } from './bindings/binding-service.ts';
import { BindingWorker } from './bindings/binding-worker.ts';
import { RevocationOutbox } from './bindings/revocation-outbox.ts';
import { RevocationRepo } from './bindings/revocation-repo.ts';
import { type ChangeWatcher, startChangeWatcher } from './change-watcher.ts';
import { type Clock, systemClock } from './clock.ts';
import { readAdminToken } from './admin/admin-config.ts';
import { parseConfig, type RelayConfig, type RelayConfigInput } from './config.ts';
import { DeviceService } from './devices/device-service.ts';
import { PlayerAssertionVerifier, type StudioKeySource } from './devices/player-assertion.ts';
import { EventHub } from './events.ts';
import { NOTIFY_PATHS } from './http/antom-routes.ts';
import { PAY_ROUTE, payEarlyRefusal, registerClientRoutes } from './http/client-routes.ts';
import { registerPublicRoutes } from './http/public-routes.ts';
import { answerEarly, closeWithin, createServer } from './http/server.ts';
import { createLogger } from './logger.ts';
import { Catalogue } from './payments/catalogue.ts';
import { PaymentNotifications } from './payments/payment-notifications.ts';
import { PaymentWorker } from './payments/payment-worker.ts';
import { PurchaseRepo } from './payments/purchase-repo.ts';
import { RelayPurchaseService } from './payments/purchase-service.ts';
import { openStore, type Store } from './store/db.ts';
import type { SyncFile } from './store/wal-barrier.ts';
import { SecretBox } from './store/secret-box.ts';
import { Worker } from './worker.ts';
import { registerAdminRoutes } from './admin/admin-routes.ts';
import { DeclarationRepo } from './declarations/declaration-repo.ts';
import { DeclarationService } from './declarations/declaration-service.ts';
import { Fulfilment } from './fulfilment/fulfilment.ts';
import { FulfilmentRepo } from './fulfilment/fulfilment-repo.ts';
import { buildOpenApi } from './http/openapi.ts';
import { countRequest, registerOps, registerOpsEndpoints } from './http/ops-routes.ts';
import { Metrics } from './ops/metrics.ts';
import { Admission, kernelBacklogCap, LoopTurn, RateLimiter, StartGate } from './ops/overload.ts';
import { HeldRegistry } from './ops/streams.ts';
import { RefundNotifications } from './refunds/refund-notifications.ts';
import { RefundRepo } from './refunds/refund-repo.ts';
import { RefundService } from './refunds/refund-service.ts';

/** Test and embedding hooks. */
export interface StartOptions {
  clock?: Clock;
  /** Where JSON logs go (default stdout). */
  logDestination?: DestinationStream;
  /** Do not start the background worker (tests drive `relay.worker.tick()` themselves). */
  manualWorker?: boolean;
  /** SQLite: how the WAL is flushed (openStore's `walSync`); tests inject one to count, hold or fail flushes. */
  walSync?: SyncFile;
}

/** A running relay. */
export interface Relay {
  /** The public listener: client API, Antom notifications, /healthz. */
  url: string;
  /** The admin and operations listener (`admin.host`/`admin.port`): admin API, /metrics, /readyz, /openapi.json. */
  adminUrl: string;
  config: RelayConfig;
  store: Store;
  devices: DeviceService;
  worker: Worker;
  hub: EventHub;
  /** Carries changes between relay processes on one database (LISTEN/NOTIFY on PostgreSQL, polling). */
  changes: ChangeWatcher;
  logger: Logger;
  metrics: Metrics;
  /** Every route registered in Fastify (method, path), for the OpenAPI check. */
  routes: readonly { method: string; url: string }[];
  /** The two Fastify instances, for route-table checks (which hooks each route runs: `printRoutes`). */
  servers: { public: FastifyInstance; admin: FastifyInstance };
  fulfilment: Fulfilment;
  refunds: RefundService;
  /** Purchase rows and their writes (its `payBegins` batches PostgreSQL pay begins: tests watch a batch form). */
  purchaseRepo: PurchaseRepo;
  /** Stops taking requests, lets in-flight ones (and their money calls) finish, then closes. */
  close(): Promise<void>;
}

function readKey(inline: string | undefined, file: string | undefined, what: string): string {
  if (inline) return inline;
  if (file) return readFileSync(file, 'utf8');
  throw new Error(`${what} is not configured`);
}

function studioKeySource(players: NonNullable<RelayConfig['players']>): StudioKeySource {
  if (players.publicKey) return { kind: 'pem', pem: players.publicKey };
  if (players.publicKeyFile) return { kind: 'pem', pem: readFileSync(players.publicKeyFile, 'utf8') };
  if (players.jwksFile) return { kind: 'jwks-file', path: players.jwksFile };
  if (players.jwksUrl) return { kind: 'jwks-url', url: players.jwksUrl };
  throw new Error('players: set publicKey, publicKeyFile, jwksFile or jwksUrl');
}

/** Parses keys once, opens and migrates the store, and builds every service. */
export async function startRelay(input: RelayConfig | RelayConfigInput, options: StartOptions = {}): Promise<Relay> {
  const config = parseConfig(input as RelayConfigInput);
  const clock = options.clock ?? systemClock;
  const logger = createLogger(config.logLevel, options.logDestination);
  const merchantPrivateKey = parsePrivateKey(readKey(config.antom.merchantPrivateKey, config.antom.merchantPrivateKeyFile, 'antom.merchantPrivateKey'));
  const antomPublicKey = parsePublicKey(readKey(config.antom.antomPublicKey, config.antom.antomPublicKeyFile, 'antom.antomPublicKey'));
  const box = new SecretBox(config.encryption.keys, config.encryption.activeKeyId);
  const catalogue = config.catalogue ? new Catalogue(config.catalogue) : config.catalogueFile ? Catalogue.fromFile(config.catalogueFile) : undefined;
  if (!catalogue) throw new Error('catalogue or catalogueFile is required');
  const players = config.players
    ? new PlayerAssertionVerifier({
        issuer: config.players.issuer,
        audience: config.players.audience,
        maxLifetimeSeconds: config.players.maxLifetimeSeconds,
        requireDeviceId: config.players.requireDeviceId,
        source: studioKeySource(config.players),
        clock,
      })
    : undefined;

  const adminToken = readAdminToken(config.admin);
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    walSync: options.walSync,
    logger: logger.child({ component: 'store' }),
  });
  const hub = new EventHub();
  const metrics = new Metrics();
  const antom = new AntomClient({
    onCall: (endpoint, result, ms) => {
      metrics.inc('relay_antom_calls_total', { endpoint, result });
      metrics.observe('relay_antom_call_duration_seconds', { endpoint }, ms / 1000);
    },
    baseUrl: config.antom.baseUrl,
    clientId: config.antom.clientId,
    keyVersion: config.antom.keyVersion,
    merchantPrivateKey,
    antomPublicKey,
    timeoutMs: config.antom.timeoutMs,
    clock,
    logger: logger.child({ component: 'antom' }),
  });
  const urls = { public: config.publicUrl?.replace(/\/+$/u, '') ?? '' };
  // A pay's nonce and enrolment check go into its one transaction (PurchaseRepo.begin:
  // relay_pay_begin on PostgreSQL, prepared statements on SQLite): issue 17, the pay in one trip.
  const deferToPay = (method: string, path: string) => method === 'POST' && path === '/v1/purchases';
  const devices = new DeviceService({ store, box, clock, players, deferToPay });
  const bindingRepo = new BindingRepo(store, clock, hub);
  const purchaseRepo = new PurchaseRepo(store, clock, hub, logger.child({ component: 'payments' }), config.databasePayBatchMax, config.databasePayInFlight);
  const fulfilmentRepo = new FulfilmentRepo(store);
  const fulfilment = new Fulfilment(
    fulfilmentRepo,
    clock,
    { ...config.fulfilment, leaseMs: config.payments.leaseMs },
    logger.child({ component: 'fulfilment' }),
  );
  // Only when events are written: otherwise a success is one UPDATE, not a transaction.
  if (fulfilment.enabled) purchaseRepo.onSucceeded = (trx, row) => fulfilment.enqueue(trx, row);
  const refundRepo = new RefundRepo(store, clock, hub, logger.child({ component: 'refunds' }));
  const refunds = new RefundService({
    repo: refundRepo,
    antom,
    logger: logger.child({ component: 'refunds' }),
    get refundNotifyUrl() {
      return `${urls.public}${NOTIFY_PATHS.refund}`;
    },
    inquiryIntervalMs: config.payments.inquiryIntervalMs,
    leaseMs: config.payments.leaseMs,
  });
  const declarationRepo = new DeclarationRepo(store);
  const declarations = new DeclarationService(declarationRepo, clock, antom);
  let worker: Worker | undefined;
  /** Whether the worker's timed passes run here: set from the change watcher, started below. */
  let workerTimed = (): boolean => true;
  const kick = (): void => worker?.kick();
  const outbox = new RevocationOutbox(new RevocationRepo(store, clock), box, antom, logger.child({ component: 'revocations' }));
  const bindings = new RelayBindingService({
    repo: bindingRepo,
    box,
    antom,
    outbox,
    logger: logger.child({ component: 'bindings' }),
    settings: config.bindings,
    get authNotifyUrl() {
      return `${urls.public}${NOTIFY_PATHS.authorization}`;
    },
    get authRedirectUrl() {
      return config.antom.authRedirectUrl ?? `${urls.public}/antom/auth/done`;
    },
    kick,
  });
  const purchases = new RelayPurchaseService({
    repo: purchaseRepo,
    bindings: bindingRepo,
    box,
    antom,
    catalogue,
    logger: logger.child({ component: 'payments' }),
    payments: config.payments,
    spendingCaps: config.spendingCaps,
    get paymentNotifyUrl() {
      return `${urls.public}${NOTIFY_PATHS.payment}`;
    },
  });
  const bindingWorker = new BindingWorker(bindingRepo, bindings, box, antom, outbox, logger.child({ component: 'bindings' }), config.bindings);
  const paymentWorker = new PaymentWorker(purchaseRepo, bindingRepo, antom, logger.child({ component: 'payments' }), config.payments);
  let lastPrune = 0;
  worker = new Worker(
    [
      () => bindingWorker.tick(),
      () => paymentWorker.tick(),
      () => refunds.tick(),
      () => fulfilment.tick(),
      async () => {
        if (clock.now() - lastPrune < 60_000) return;
        lastPrune = clock.now();
        await devices.pruneNonces();
      },
    ],
    config.worker.tickMs,
    logger.child({ component: 'worker' }),
    // Timed passes only in the process holding the worker lock (change-watcher.ts).
    () => workerTimed(),
  );

  const app = createServer(logger, { trustProxy: config.limits.trustProxy, strictResponses: config.strictResponses });
  // Admin and operations live on their own listener (loopback by default): the public one
  // answers 404 for them, so neither the admin API nor metrics and readiness face the internet.
  const adminApp = createServer(logger, { strictResponses: config.strictResponses });
  const routes: { method: string; url: string }[] = [];
  for (const a of [app, adminApp]) {
    a.addHook('onRoute', (r) => {
      for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url });
    });
  }
  const admission = new Admission(config.limits.maxInFlight, config.limits.maxEventLoopLagMs);
  // Event streams and long-polls: own caps, outside admission control's in-flight count.
  const registry = new HeldRegistry(config.limits);
  let closing = false;
  let closed: Promise<void> | undefined;
  const opsDeps = {
    metrics,
    admission,
    store,
    keysLoaded: () => Boolean(merchantPrivateKey && antomPublicKey),
    isClosing: () => closing,
    backlog: async () => ({ fulfilment: await fulfilment.backlog(), refunds: await refundRepo.backlog(), payments: await purchaseRepo.backlog() }),
    held: () => ({ streams: registry.count('stream'), longPolls: registry.count('longPoll') }),
  };
  // The public listener: admission and request metrics as root hooks (every context runs them
  // first), then two encapsulated contexts: the public one (enrolment, /healthz, Antom's
  // notifications) and the signed-device one, whose hooks authenticate every route in it.
  registerOps(app, opsDeps);
  registerPublicRoutes(app, {
    devices,
    enrollLimiter: new RateLimiter(config.limits.enrollPerMinute, config.limits.enrollBurst),
    antom: {
      antomPublicKey,
      clientId: config.antom.clientId,
      publicPathPrefix: () => new URL(urls.public).pathname.replace(/\/+$/u, ''),
      authorization: new AuthorizationNotifications(bindingRepo, box, outbox, logger.child({ component: 'notify' }), kick),
      payment: new PaymentNotifications(purchaseRepo, bindingRepo, logger.child({ component: 'notify' })),
      refund: new RefundNotifications(refundRepo),
      store,
      clock,
    },
  });
  const limiter = new RateLimiter(config.limits.perDevicePerMinute, config.limits.perDeviceBurst);
  const payLimiter = new RateLimiter(config.limits.perDevicePaysPerMinute, config.limits.perDevicePayBurst);
  const startGate = new StartGate(config.limits.maxStartingPays, new LoopTurn(), config.limits.payTurnBudgetMs);
  registerClientRoutes(app, {
    devices,
    bindings,
    purchases,
    catalogue,
    hub,
    longPollTimeoutMs: config.events.longPollTimeoutMs,
    refunds,
    limiter,
    payLimiter,
    startGate,
    registry,
    clock,
    streamMaxLifetimeMs: config.events.streamMaxLifetimeMs,
    heartbeatMs: config.events.heartbeatMs,
    strictResponses: config.strictResponses,
  });
  // A pay refused under load is answered before Fastify reads it (server.ts answerEarly): the
  // same rules as its hooks, at a fraction of the cost (bench #3).
  answerEarly(app, PAY_ROUTE, payEarlyRefusal({ admission, limiter, payLimiter, startGate }), (status, seconds) =>
    countRequest(metrics, PAY_ROUTE.method, PAY_ROUTE.url, status, seconds),
  );
  // The admin listener: readiness, metrics and the OpenAPI document unauthenticated (loopback),
  // the admin API in the admin context, whose hook checks the admin token on every route in it.
  registerOpsEndpoints(adminApp, opsDeps);
  const openApi = JSON.stringify(buildOpenApi('0.1.0'));
  adminApp.get('/openapi.json', async (_req, reply) => reply.type('application/json').send(openApi));
  registerAdminRoutes(adminApp, {
    token: adminToken,
    clock,
    purchaseRepo,
    bindingRepo,
    refundRepo,
    fulfilmentRepo,
    declarationRepo,
    devices,
    bindings,
    refunds,
    declarations,
    enrollmentCodeLifetimeMs: config.enrollment.codeLifetimeMs,
    onDeviceDisabled: (id) => registry.endDevice(id, 'disabled'),
  });
  // The backlog is set, not left to Node's 511 (bench #3 overflowed it); the kernel cuts it to somaxconn.
  const backlog = config.limits.listenBacklog;
  const somaxconn = kernelBacklogCap();
  if (somaxconn !== undefined && somaxconn < backlog)
    logger.warn({ listenBacklog: backlog, somaxconn }, 'the kernel caps the listen backlog at net.core.somaxconn: raise it or lower limits.listenBacklog');
  const address = await app.listen({ host: config.host, port: config.port, backlog });
  const url = address.replace('[::1]', 'localhost');
  let adminUrl: string;
  try {
    adminUrl = (await adminApp.listen({ host: config.admin.host, port: config.admin.port })).replace('[::1]', 'localhost');
  } catch (err) {
    await app.close();
    await store.close();
    throw err;
  }
  if (!urls.public) urls.public = url;

  // Changes written by other relay processes reach this process's streams: NOTIFY on PostgreSQL, polling as the fallback.
  const changes = startChangeWatcher({
    hub,
    leadWork: !options.manualWorker,
    store,
    databaseUrl: config.databaseUrl,
    settings: config.events,
    leadStaleMs: config.worker.leadStaleMs,
    repos: { binding: bindingRepo, purchase: purchaseRepo, refund: refundRepo },
    logger: logger.child({ component: 'changes' }),
  });
  workerTimed = () => changes.leadsWork;

  // A device disabled through another relay process: its held connections here end within one
  // heartbeat (one query for every device holding one).
  let checking = false;
  const disabledCheck = setInterval(() => {
    const ids = registry.devices();
    if (ids.length === 0 || checking) return;
    checking = true;
    devices
      .disabledAmong(ids)
      .then((disabled) => {
        for (const id of disabled) registry.endDevice(id, 'disabled');
      })
      .catch((err: Error) => logger.warn({ err: err.message }, 'disabled-device check failed'))
      .finally(() => {
        checking = false;
      });
  }, config.events.heartbeatMs);
  disabledCheck.unref();

  if (!options.manualWorker) worker.start();
  logger.info({ url, adminUrl, publicUrl: urls.public, database: store.dialect }, 'relay started');

  /** Stops accepting, lets in-flight requests (and their money calls) finish, then closes. */
  const shutdown = async (): Promise<void> => {
    closing = true;
    clearInterval(disabledCheck);
    admission.stop();
    // Streams end with `event: end` (reason shutdown); long-polls answer their current status.
    registry.endAll('shutdown');
    // New requests get 503; in-flight ones (pay, refund, declare) run to their recorded outcome.
    // One grace (limits.shutdownGraceMs) bounds both listeners' drains together, so a relay's stop
    // takes at most that long before the worker's pass (the bound the service manager's stop
    // timeout is set against, relay/README.md).
    const drainedBy = performance.now() + config.limits.shutdownGraceMs;
    await closeWithin(app, config.limits.shutdownGraceMs);
    // The admin listener closes after the public one, so /readyz answers 503 while requests
    // drain; its own in-flight requests (an admin refund, a probe) get what is left of the grace.
    await closeWithin(adminApp, drainedBy - performance.now());
    await worker?.stop();
    // After the in-flight requests and the worker: their last changes are still announced.
    await changes.close();
    antom.close();
    await store.close();
    logger.info('relay stopped');
  };
  const relay: Relay = {
    url,
    adminUrl,
    config,
    store,
    devices,
    worker,
    hub,
    changes,
    logger,
    metrics,
    routes,
    servers: { public: app, admin: adminApp },
    fulfilment,
    refunds,
    purchaseRepo,
    close() {
      closed ??= shutdown();
      return closed;
    },
  };
  return relay;
}
