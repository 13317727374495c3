import { readFileSync } from 'node:fs';
import type { DestinationStream, Logger } from 'pino';
import { AntomClient } from './antom/client.ts';
import { parsePrivateKey, parsePublicKey } from './antom/signature.ts';
import { AuthorizationNotifications } from './bindings/authorization-notifications.ts';
import { BindingRepo } from './bindings/binding-repo.ts';
import { BindingService } from './bindings/binding-service.ts';
import { BindingWorker } from './bindings/binding-worker.ts';
import { type Clock, systemClock } from './clock.ts';
import { type RelayConfig, type RelayConfigInput, parseConfig } from './config.ts';
import { DeviceService } from './devices/device-service.ts';
import { PlayerAssertionVerifier, type StudioKeySource } from './devices/player-assertion.ts';
import { EventHub } from './events.ts';
import { NOTIFY_PATHS, registerAntomRoutes } from './http/antom-routes.ts';
import { registerClientRoutes } from './http/client-routes.ts';
import { createServer } from './http/server.ts';
import { createLogger } from './logger.ts';
import { Catalogue } from './payments/catalogue.ts';
import { PaymentNotifications } from './payments/payment-notifications.ts';
import { PaymentWorker } from './payments/payment-worker.ts';
import { PurchaseRepo } from './payments/purchase-repo.ts';
import { PurchaseService } from './payments/purchase-service.ts';
import { openStore, type Store } from './store/db.ts';
import { SecretBox } from './store/secret-box.ts';
import { Worker } from './worker.ts';

/** Test and embedding hooks. */
export interface StartOptions {
  clock?: Clock;
  /** Where JSON logs go (default stdout). */
  logDestination?: DestinationStream;
  /** Do not start the background worker (tests drive `relay.worker.tick()` themselves). */
  manualWorker?: boolean;
}

/** A running relay. */
export interface Relay {
  url: string;
  config: RelayConfig;
  store: Store;
  devices: DeviceService;
  worker: Worker;
  hub: EventHub;
  logger: Logger;
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
  const catalogue = config.catalogue
    ? new Catalogue(config.catalogue)
    : config.catalogueFile
      ? Catalogue.fromFile(config.catalogueFile)
      : undefined;
  if (!catalogue) throw new Error('catalogue or catalogueFile is required');
  const players = config.players
    ? new PlayerAssertionVerifier({
        issuer: config.players.issuer,
        audience: config.players.audience,
        maxLifetimeSeconds: config.players.maxLifetimeSeconds,
        source: studioKeySource(config.players),
        clock,
      })
    : undefined;

  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const hub = new EventHub();
  const antom = new AntomClient({
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
  const devices = new DeviceService({ store, box, clock, players });
  const bindingRepo = new BindingRepo(store, clock, hub);
  const purchaseRepo = new PurchaseRepo(store, clock, hub, logger.child({ component: 'payments' }));
  let worker: Worker | undefined;
  const kick = (): void => worker?.kick();
  const bindings = new BindingService({
    repo: bindingRepo,
    box,
    antom,
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
  const purchases = new PurchaseService({
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
  const bindingWorker = new BindingWorker(bindingRepo, bindings, box, antom, logger.child({ component: 'bindings' }), config.bindings);
  const paymentWorker = new PaymentWorker(purchaseRepo, bindingRepo, antom, logger.child({ component: 'payments' }), config.payments);
  let lastPrune = 0;
  worker = new Worker(
    [
      () => bindingWorker.tick(),
      () => paymentWorker.tick(),
      async () => {
        if (clock.now() - lastPrune < 60_000) return;
        lastPrune = clock.now();
        await devices.pruneNonces();
      },
    ],
    config.worker.tickMs,
    logger.child({ component: 'worker' }),
  );

  const app = createServer(logger);
  registerClientRoutes(app, { devices, bindings, purchases, catalogue, hub, longPollTimeoutMs: config.events.longPollTimeoutMs });
  registerAntomRoutes(app, {
    antomPublicKey,
    clientId: config.antom.clientId,
    publicPathPrefix: () => new URL(urls.public).pathname.replace(/\/+$/u, ''),
    authorization: new AuthorizationNotifications(bindingRepo, box, logger.child({ component: 'notify' }), kick),
    payment: new PaymentNotifications(purchaseRepo, bindingRepo, logger.child({ component: 'notify' })),
    store,
    clock,
  });
  const address = await app.listen({ host: config.host, port: config.port });
  const url = address.replace('[::1]', 'localhost');
  if (!urls.public) urls.public = url;

  // Changes written by other relay processes reach this process's streams within a poll.
  let watchedSince = Date.now();
  const watcher = setInterval(() => {
    if (hub.listenerCount === 0) {
      watchedSince = Date.now();
      return;
    }
    const since = watchedSince - 2_000;
    watchedSince = Date.now();
    void (async () => {
      for (const row of await store.db.selectFrom('bindings').selectAll().where('touched_at', '>', since).execute()) bindingRepo.publish(row);
      for (const row of await store.db.selectFrom('purchases').selectAll().where('touched_at', '>', since).execute()) purchaseRepo.publish(row);
    })().catch((err: Error) => logger.warn({ err: err.message }, 'change watcher failed'));
  }, config.events.crossProcessPollMs);
  watcher.unref();

  if (!options.manualWorker) worker.start();
  logger.info({ url, publicUrl: urls.public, database: store.dialect }, 'relay started');

  return {
    url,
    config,
    store,
    devices,
    worker,
    hub,
    logger,
    async close() {
      clearInterval(watcher);
      await worker?.stop();
      await app.close();
      await store.close();
    },
  };
}
