import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ItemTitleSchema, RelayBindingSchema, SkuSchema } from '@scan-to-bind/shared/relay-api';
import { z } from 'zod';
import { antomBaseUrlProblem } from './antom/base-url.ts';
import { DEFAULT_PAY_BATCH_MAX, DEFAULT_PAY_IN_FLIGHT } from './payments/pay-batch-repo.ts';

const positiveMs = z.number().int().positive();
/** The most refreshes a binding may report (the client API's `refreshesLeft` bound). */
const MAX_REFRESHES = RelayBindingSchema.shape.refreshesLeft.maxValue ?? 10;
const majorAmount = z.string().regex(/^\d{1,16}(?:\.\d{1,2})?$/u, 'a plain decimal amount such as "500.00"');

const capsSchema = z.strictObject({ daily: majorAmount.optional(), monthly: majorAmount.optional() });

/** The catalogue: every item a device can buy, priced per currency in major units ("12.00"). */
export const catalogueFileSchema = z.strictObject({
  items: z
    .array(
      z.strictObject({
        sku: SkuSchema,
        title: ItemTitleSchema,
        prices: z.strictObject({ HKD: majorAmount.optional(), IDR: majorAmount.optional() }),
      }),
    )
    .min(1),
});
/** The catalogue as written in its file. */
export type CatalogueFile = z.infer<typeof catalogueFileSchema>;

/** Every setting of the relay. Each one can also come from the environment (see ENV_SETTINGS). */
/** Default event-loop lag beyond which new requests are refused (docs/benchmarks.md, #3). */
export const DEFAULT_MAX_LAG_MS = 100;
/** Default number of pays in their CPU-bound starting part at once (docs/benchmarks.md, #3). */
export const DEFAULT_MAX_STARTING_PAYS = 8;
/**
 * Default pays one device may start at once (its pay bucket's burst): a kiosk visitor buying a
 * few items in a row. Half the start gate, so one device cannot fill it (bench #3: each of 16
 * devices sent its whole burst of 30 requests as pays at once, ~1 s of work ahead of every refusal).
 */
export const DEFAULT_PAY_BURST = 4;
/** Default refill of a device's pay bucket: one pay every 2 s after the burst. */
export const DEFAULT_PAYS_PER_MINUTE = 30;
/**
 * Default work budget of a loop turn (StartGate): a pay read after the current turn has run
 * this long gets 503 instead of adding its start (1.5-2.6 ms of CPU) to the wait of every request
 * behind it, so a refusal waits about this long, not for a whole burst (bench #3's ≤ 10 ms).
 */
export const DEFAULT_PAY_TURN_BUDGET_MS = 4;
/**
 * Default listen backlog: connections the kernel queues before the relay accepts them. Node's
 * default (511) overflowed in bench #3 (TcpExtListenOverflows, SYN retransmits after 1 s) when a
 * load balancer or a burst opened hundreds at once; the kernel caps it at net.core.somaxconn.
 */
export const DEFAULT_LISTEN_BACKLOG = 2048;
/**
 * Default caps of held connections per process (relay/README.md, "Configuration"): each is one
 * socket (a file descriptor) and a few KB. 400 streams + 200 long-polls + maxInFlight 256 stay
 * under the common open-file limit of 1024 with room for the database pool; that is 200
 * devices at their maximum of 2 (or 400 with the one a client keeps), 20 devices use a tenth.
 */
export const DEFAULT_MAX_STREAMS = 400;
/** See DEFAULT_MAX_STREAMS: long-polls are the fallback of clients without a stream. */
export const DEFAULT_MAX_LONG_POLLS = 200;
/** Default stream lifetime: 15 min (4 reconnects an hour per device). */
export const DEFAULT_STREAM_LIFETIME_MS = 15 * 60_000;
/**
 * Default enrolment attempts per source address: 10 a minute after a burst of 10. A site sets up
 * a handful of PCs at once; a guesser gets 14 400 tries a day instead of the network's speed.
 */
export const DEFAULT_ENROLL_PER_MINUTE = 10;
/** The admin and operations listener's default address: loopback, next to the public 8787. */
export const DEFAULT_ADMIN_HOST = '127.0.0.1';
export const DEFAULT_ADMIN_PORT = 8788;
export const DEFAULT_ENROLL_BURST = 10;

/**
 * Default kiosk visit: 10 minutes from activation. The client resets an idle kiosk after 90 s
 * plus a 20 s "Still there?" prompt (main/services/settings-service.ts), so a visitor who keeps
 * buying rebinds at most every 10 minutes, and a kiosk whose client cannot reset leaves a
 * linked wallet usable for at most this long (was 30 minutes).
 */
export const KIOSK_VISIT_MS = 10 * 60_000;

export const configSchema = z
  .strictObject({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787),
    /** The URL Antom and devices reach the relay at; its path prefixes the notification paths. */
    publicUrl: z.url().optional(),
    dataDir: z.string().default('.data/relay'),
    /** `postgres://…` runs on PostgreSQL; absent = SQLite file `relay.sqlite` in dataDir. */
    databaseUrl: z.string().optional(),
    /**
     * PostgreSQL connections the relay's pool may open (requests and background workers share it).
     * 10 left 94 % of checkouts queued (36 ms mean wait) under the pay bench; 25 and 50 gave the
     * same added latency there (p99 213 / 223 ms: the wait moves to the per-owner lock), so the
     * default is 25, which leaves room for three relays and an operator under PostgreSQL's default
     * max_connections of 100 (docs/benchmarks.md, third round). Keep instances × size below it.
     */
    databasePoolSize: z.number().int().min(1).max(1000).default(25),
    /**
     * PostgreSQL: the most pays whose begins (nonce, checks, intent row) share one statement and
     * commit (payments/pay-batch-repo.ts, group commit). Batches form only from pays that arrive
     * while the previous commit is in flight, so this bounds one commit's work under load. At most
     * 64: each pay of a batch is a subtransaction, and PostgreSQL caches 64 per backend
     * (store/migrations-0008.ts).
     */
    databasePayBatchMax: z.number().int().min(1).max(64).default(DEFAULT_PAY_BATCH_MAX),
    /**
     * PostgreSQL: the most pay-begin statements one relay runs at once (payments/pay-batch-repo.ts).
     * A begin goes at once while fewer are in flight, so one pay waiting at its account's lock
     * does not hold up the pays of other accounts; beyond it, pays wait and go as one batch when
     * a statement returns. Each holds a pool connection for its statement, so at most 16 and at
     * most databasePoolSize (checked below), leaving the rest of the pool to the other work.
     */
    databasePayInFlight: z.number().int().min(1).max(16).default(DEFAULT_PAY_IN_FLIGHT),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /**
     * An answer or event that does not match its shared/relay-api schema is a 500 (an event: not
     * sent), logged at error. The test stack turns it on; production leaves it off, where an
     * unnamed field is dropped with a warning instead (relay/src/http/response-contract.ts).
     */
    strictResponses: z.boolean().default(false),
    antom: z
      .strictObject({
        baseUrl: z.url(),
        clientId: z.string().min(1),
        keyVersion: z.string().regex(/^\d+$/u).default('1'),
        /** PEM (PKCS#8) or Antom's base64 PKCS#8 DER; or a file holding either. */
        merchantPrivateKey: z.string().optional(),
        merchantPrivateKeyFile: z.string().optional(),
        /** PEM (SPKI) or Antom's base64 X.509 SubjectPublicKeyInfo DER; or a file holding either. */
        antomPublicKey: z.string().optional(),
        antomPublicKeyFile: z.string().optional(),
        timeoutMs: positiveMs.default(15_000),
        authRedirectUrl: z.url().optional(),
      })
      .superRefine((antom, ctx) => {
        // https only, plain http only with a SANDBOX_ client id (issue 14 §5, antom/base-url.ts).
        const problem = antomBaseUrlProblem(antom.baseUrl, antom.clientId);
        if (problem) ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: problem });
      }),
    encryption: z.strictObject({
      activeKeyId: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/u),
      /** key id → base64 of 32 random bytes. Old ids stay until every row is re-encrypted. */
      keys: z.record(z.string(), z.string()),
    }),
    players: z
      .strictObject({
        issuer: z.string().min(1),
        audience: z.string().min(1),
        publicKey: z.string().optional(),
        publicKeyFile: z.string().optional(),
        jwksFile: z.string().optional(),
        jwksUrl: z.url().optional(),
        /**
         * Longest accepted `exp − iat`. 15 minutes: the launcher asks the studio's provider for
         * its token on every request (and again after a refusal), so a long lifetime buys
         * nothing but a longer window for a token that leaked; 15 minutes is still well above the
         * 5-minute request-timestamp window and any sane game-server clock skew.
         */
        maxLifetimeSeconds: z.number().int().positive().default(900),
        /** Refuse assertions without a `did` claim naming the calling device (on unless a studio cannot pin yet). */
        requireDeviceId: z.boolean().default(true),
        /** Development only: the private key `npm run relay -- player-assertion` signs demo players with. */
        devIssuerPrivateKeyFile: z.string().optional(),
      })
      .optional(),
    catalogueFile: z.string().optional(),
    catalogue: catalogueFileSchema.optional(),
    /** Studio per-player caps per currency (major units); absent = no studio cap. */
    spendingCaps: z.strictObject({ HKD: capsSchema.optional(), IDR: capsSchema.optional() }).default({}),
    payments: z
      .strictObject({
        inquiryIntervalMs: positiveMs.default(3_000),
        /** Antom's Scan to Link debit expiry: one minute after the request by default. */
        expiryMs: positiveMs.default(60_000),
        /** DANA cannot be cancelled: after expiry keep inquiring at this pace. */
        unresolvedInquiryIntervalMs: positiveMs.default(30_000),
        leaseMs: positiveMs.default(30_000),
        /**
         * The longest a pay waits for its binding's token refresh to end (payments/token-use.ts)
         * before it is refused with a retryable 503 OVERLOADED: one applyToken call, normally well
         * under a second.
         */
        refreshWaitMs: positiveMs.default(5_000),
      })
      .default({ inquiryIntervalMs: 3_000, expiryMs: 60_000, unresolvedInquiryIntervalMs: 30_000, leaseMs: 30_000, refreshWaitMs: 5_000 }),
    bindings: z
      .strictObject({
        qrLifetimeMs: positiveMs.default(15 * 60_000),
        maxCodeRefreshes: z.number().int().min(0).max(MAX_REFRESHES).default(3),
        tokenRefreshLeadMs: positiveMs.default(5 * 60_000),
        /**
         * How long a kiosk binding lives after activation, whatever the client does: the backstop
         * behind the client's idle reset and the visit-id check (README.md, "Kiosk visits").
         */
        kioskVisitMs: positiveMs.default(KIOSK_VISIT_MS),
      })
      .default({ qrLifetimeMs: 15 * 60_000, maxCodeRefreshes: 3, tokenRefreshLeadMs: 5 * 60_000, kioskVisitMs: KIOSK_VISIT_MS }),
    worker: z
      .strictObject({
        tickMs: positiveMs.default(500),
        /**
         * PostgreSQL fleet: a worker-lock holder whose heartbeat (database clock) is older than
         * this is taken as hung, and a contender ends its session and takes the lock
         * (store/worker-lead.ts). The holder beats every fifth of it (at most every second). At
         * least 1 s (a beat must get through a busy connection), at most 5 minutes (the timed
         * passes stall at most this long behind a hung holder).
         */
        leadStaleMs: z.number().int().min(1_000).max(300_000).default(10_000),
      })
      .default({ tickMs: 500, leadStaleMs: 10_000 }),
    events: z
      .strictObject({
        longPollTimeoutMs: positiveMs.default(25_000),
        /** How often changes made by other relay processes are polled when LISTEN/NOTIFY is not carrying them (SQLite, or the listen connection down). */
        crossProcessPollMs: positiveMs.default(1_000),
        /** PostgreSQL: changes reach the other relay processes by NOTIFY on a dedicated LISTEN connection (change-watcher.ts). */
        crossProcessListen: z.boolean().default(true),
        /** PostgreSQL, LISTEN connection up: the slower fallback poll (catches a notification lost in between). */
        crossProcessListenPollMs: positiveMs.default(15_000),
        /** PostgreSQL: the first reconnect delay of a dropped LISTEN connection; it doubles up to 30 s while reconnects fail. */
        listenRetryMs: positiveMs.default(500),
        /** An event stream ends after this long (less up to a tenth); the client reconnects with a new signed request. */
        streamMaxLifetimeMs: positiveMs.default(DEFAULT_STREAM_LIFETIME_MS),
        /** The streams' ping, and how often each process re-reads the devices of its held connections (disabled ones end). */
        heartbeatMs: positiveMs.default(15_000),
      })
      .default({
        longPollTimeoutMs: 25_000,
        crossProcessPollMs: 1_000,
        crossProcessListen: true,
        crossProcessListenPollMs: 15_000,
        listenRetryMs: 500,
        streamMaxLifetimeMs: DEFAULT_STREAM_LIFETIME_MS,
        heartbeatMs: 15_000,
      }),
    enrollment: z.strictObject({ codeLifetimeMs: positiveMs.default(86_400_000) }).default({ codeLifetimeMs: 86_400_000 }),
    /** Signed webhook to the game server on each successful payment (docs/fulfilment.md). */
    fulfilment: z
      .strictObject({
        webhookUrl: z.url().optional(),
        secret: z.string().min(16).optional(),
        kiosks: z.enum(['webhook', 'local']).default('webhook'),
        baseDelayMs: positiveMs.default(1_000),
        maxDelayMs: positiveMs.default(3_600_000),
        timeoutMs: positiveMs.default(10_000),
      })
      .default({ kiosks: 'webhook', baseDelayMs: 1_000, maxDelayMs: 3_600_000, timeoutMs: 10_000 }),
    /**
     * The admin and operations listener: the admin API, /metrics, /readyz and /openapi.json are
     * served only here, on a second address (loopback by default), never on the public one.
     * `token`: the admin API's bearer token (at least 32 characters); absent = admin API disabled.
     * `port` 0 takes an ephemeral port (tests); `Relay.adminUrl` tells which.
     */
    admin: z
      .strictObject({
        token: z.string().min(32).optional(),
        tokenFile: z.string().optional(),
        host: z.string().default(DEFAULT_ADMIN_HOST),
        port: z.number().int().min(0).max(65535).default(DEFAULT_ADMIN_PORT),
      })
      .default({ host: DEFAULT_ADMIN_HOST, port: DEFAULT_ADMIN_PORT }),
    /** Overload protection: per-device rate limit and admission control. */
    limits: z
      .strictObject({
        perDevicePerMinute: z.number().int().positive().default(120),
        perDeviceBurst: z.number().int().positive().default(30),
        maxInFlight: z.number().int().positive().default(256),
        /** New requests get 503 while the event loop is more than this far behind (0: off). */
        maxEventLoopLagMs: z.number().int().min(0).max(10_000).default(DEFAULT_MAX_LAG_MS),
        /** Valid pays between their validation and their Antom call at once; one more gets 503 at once. */
        maxStartingPays: z.number().int().positive().default(DEFAULT_MAX_STARTING_PAYS),
        /** Pays per device: a second token bucket, beside the per-device one every request spends from. */
        perDevicePaysPerMinute: z.number().int().positive().default(DEFAULT_PAYS_PER_MINUTE),
        /** At most `maxStartingPays` (checked below): one device alone cannot fill the start gate beyond its burst. */
        perDevicePayBurst: z.number().int().positive().default(DEFAULT_PAY_BURST),
        /** A pay read once the current event-loop turn has run this long gets 503 (0: off; StartGate). */
        payTurnBudgetMs: z.number().min(0).max(1_000).default(DEFAULT_PAY_TURN_BUDGET_MS),
        /** The public listener's backlog (the kernel caps it at net.core.somaxconn; the relay warns). */
        listenBacklog: z.number().int().min(1).max(65_535).default(DEFAULT_LISTEN_BACKLOG),
        shutdownGraceMs: positiveMs.default(30_000),
        /** Event streams per device; one more ends the device's oldest (relay/README.md, "Push"). */
        maxStreamsPerDevice: z.number().int().positive().max(100).default(2),
        /** Event streams in this process; one more is refused with 503. */
        maxStreams: z.number().int().positive().default(DEFAULT_MAX_STREAMS),
        /** Waiting long-polls per device; one more answers the device's oldest at once. */
        maxLongPollsPerDevice: z.number().int().positive().max(100).default(2),
        /** Waiting long-polls in this process; one more is refused with 503. */
        maxLongPolls: z.number().int().positive().default(DEFAULT_MAX_LONG_POLLS),
        /**
         * Enrolment attempts per source address (token bucket, before any database work): a
         * refill rate per minute and a burst. The address is the socket's peer unless
         * `trustProxy` names the proxy in front (then X-Forwarded-For's first untrusted hop).
         */
        enrollPerMinute: z.number().int().positive().default(DEFAULT_ENROLL_PER_MINUTE),
        enrollBurst: z.number().int().positive().default(DEFAULT_ENROLL_BURST),
        /**
         * Proxies whose X-Forwarded-For is believed: comma-separated addresses or CIDRs (Fastify
         * `trustProxy`). Empty (default): the header is ignored, since any client can write it.
         */
        trustProxy: z.string().default(''),
      })
      .superRefine((limits, ctx) => {
        // A pay is also a request: its burst fits in both buckets, and in the start gate, so one
        // device's burst is at most the gate's size (relay/README.md, "Overload").
        const cap = Math.min(limits.maxStartingPays, limits.perDeviceBurst);
        if (limits.perDevicePayBurst > cap)
          ctx.addIssue({ code: 'custom', path: ['perDevicePayBurst'], message: `must be at most maxStartingPays and perDeviceBurst (${cap})` });
      })
      .default({
        perDevicePerMinute: 120,
        perDeviceBurst: 30,
        maxInFlight: 256,
        maxEventLoopLagMs: DEFAULT_MAX_LAG_MS,
        maxStartingPays: DEFAULT_MAX_STARTING_PAYS,
        perDevicePaysPerMinute: DEFAULT_PAYS_PER_MINUTE,
        perDevicePayBurst: DEFAULT_PAY_BURST,
        payTurnBudgetMs: DEFAULT_PAY_TURN_BUDGET_MS,
        listenBacklog: DEFAULT_LISTEN_BACKLOG,
        shutdownGraceMs: 30_000,
        maxStreamsPerDevice: 2,
        maxStreams: DEFAULT_MAX_STREAMS,
        maxLongPollsPerDevice: 2,
        maxLongPolls: DEFAULT_MAX_LONG_POLLS,
        enrollPerMinute: DEFAULT_ENROLL_PER_MINUTE,
        enrollBurst: DEFAULT_ENROLL_BURST,
        trustProxy: '',
      }),
  })
  .superRefine((config, ctx) => {
    // Each pay-begin statement in flight holds a pool connection (databasePayInFlight).
    if (config.databasePayInFlight > config.databasePoolSize)
      ctx.addIssue({ code: 'custom', path: ['databasePayInFlight'], message: `must be at most databasePoolSize (${config.databasePoolSize})` });
  });

/** The relay configuration as accepted by `startRelay`. */
export type RelayConfig = z.infer<typeof configSchema>;
/** The configuration before defaults are applied (what a file or a test writes). */
export type RelayConfigInput = z.input<typeof configSchema>;

type EnvKind = 'string' | 'int' | 'json';

/** Environment variables and the setting each one sets; the environment wins over the file. */
export const ENV_SETTINGS: readonly (readonly [string, readonly string[], EnvKind])[] = [
  ['RELAY_HOST', ['host'], 'string'],
  ['RELAY_PORT', ['port'], 'int'],
  ['RELAY_PUBLIC_URL', ['publicUrl'], 'string'],
  ['RELAY_DATA_DIR', ['dataDir'], 'string'],
  ['DATABASE_URL', ['databaseUrl'], 'string'],
  ['DATABASE_POOL_SIZE', ['databasePoolSize'], 'int'],
  ['DATABASE_PAY_BATCH_MAX', ['databasePayBatchMax'], 'int'],
  ['DATABASE_PAY_IN_FLIGHT', ['databasePayInFlight'], 'int'],
  ['RELAY_LOG_LEVEL', ['logLevel'], 'string'],
  ['RELAY_STRICT_RESPONSES', ['strictResponses'], 'json'],
  ['ANTOM_BASE_URL', ['antom', 'baseUrl'], 'string'],
  ['ANTOM_CLIENT_ID', ['antom', 'clientId'], 'string'],
  ['ANTOM_KEY_VERSION', ['antom', 'keyVersion'], 'string'],
  ['ANTOM_MERCHANT_PRIVATE_KEY', ['antom', 'merchantPrivateKey'], 'string'],
  ['ANTOM_MERCHANT_PRIVATE_KEY_FILE', ['antom', 'merchantPrivateKeyFile'], 'string'],
  ['ANTOM_PUBLIC_KEY', ['antom', 'antomPublicKey'], 'string'],
  ['ANTOM_PUBLIC_KEY_FILE', ['antom', 'antomPublicKeyFile'], 'string'],
  ['ANTOM_TIMEOUT_MS', ['antom', 'timeoutMs'], 'int'],
  ['ANTOM_AUTH_REDIRECT_URL', ['antom', 'authRedirectUrl'], 'string'],
  ['RELAY_ENCRYPTION_ACTIVE_KEY', ['encryption', 'activeKeyId'], 'string'],
  ['RELAY_ENCRYPTION_KEYS', ['encryption', 'keys'], 'json'],
  ['PLAYER_ISSUER', ['players', 'issuer'], 'string'],
  ['PLAYER_AUDIENCE', ['players', 'audience'], 'string'],
  ['PLAYER_PUBLIC_KEY', ['players', 'publicKey'], 'string'],
  ['PLAYER_PUBLIC_KEY_FILE', ['players', 'publicKeyFile'], 'string'],
  ['PLAYER_JWKS_FILE', ['players', 'jwksFile'], 'string'],
  ['PLAYER_JWKS_URL', ['players', 'jwksUrl'], 'string'],
  ['PLAYER_MAX_LIFETIME_SECONDS', ['players', 'maxLifetimeSeconds'], 'int'],
  ['PLAYER_REQUIRE_DEVICE_ID', ['players', 'requireDeviceId'], 'json'],
  ['PLAYER_DEV_ISSUER_PRIVATE_KEY_FILE', ['players', 'devIssuerPrivateKeyFile'], 'string'],
  ['RELAY_CATALOGUE_FILE', ['catalogueFile'], 'string'],
  ['RELAY_SPENDING_CAPS', ['spendingCaps'], 'json'],
  ['RELAY_INQUIRY_INTERVAL_MS', ['payments', 'inquiryIntervalMs'], 'int'],
  ['RELAY_PAYMENT_EXPIRY_MS', ['payments', 'expiryMs'], 'int'],
  ['RELAY_UNRESOLVED_INQUIRY_INTERVAL_MS', ['payments', 'unresolvedInquiryIntervalMs'], 'int'],
  ['RELAY_PAYMENT_LEASE_MS', ['payments', 'leaseMs'], 'int'],
  ['RELAY_PAYMENT_REFRESH_WAIT_MS', ['payments', 'refreshWaitMs'], 'int'],
  ['RELAY_QR_LIFETIME_MS', ['bindings', 'qrLifetimeMs'], 'int'],
  ['RELAY_MAX_CODE_REFRESHES', ['bindings', 'maxCodeRefreshes'], 'int'],
  ['RELAY_TOKEN_REFRESH_LEAD_MS', ['bindings', 'tokenRefreshLeadMs'], 'int'],
  ['RELAY_KIOSK_VISIT_MS', ['bindings', 'kioskVisitMs'], 'int'],
  ['RELAY_WORKER_TICK_MS', ['worker', 'tickMs'], 'int'],
  ['RELAY_WORKER_LEAD_STALE_MS', ['worker', 'leadStaleMs'], 'int'],
  ['RELAY_LONG_POLL_TIMEOUT_MS', ['events', 'longPollTimeoutMs'], 'int'],
  ['RELAY_CROSS_PROCESS_POLL_MS', ['events', 'crossProcessPollMs'], 'int'],
  ['RELAY_CROSS_PROCESS_LISTEN', ['events', 'crossProcessListen'], 'json'],
  ['RELAY_CROSS_PROCESS_LISTEN_POLL_MS', ['events', 'crossProcessListenPollMs'], 'int'],
  ['RELAY_LISTEN_RETRY_MS', ['events', 'listenRetryMs'], 'int'],
  ['RELAY_STREAM_MAX_LIFETIME_MS', ['events', 'streamMaxLifetimeMs'], 'int'],
  ['RELAY_HEARTBEAT_MS', ['events', 'heartbeatMs'], 'int'],
  ['RELAY_ENROLL_CODE_LIFETIME_MS', ['enrollment', 'codeLifetimeMs'], 'int'],
  ['RELAY_FULFILMENT_URL', ['fulfilment', 'webhookUrl'], 'string'],
  ['RELAY_FULFILMENT_SECRET', ['fulfilment', 'secret'], 'string'],
  ['RELAY_FULFILMENT_KIOSKS', ['fulfilment', 'kiosks'], 'string'],
  ['RELAY_ADMIN_TOKEN', ['admin', 'token'], 'string'],
  ['RELAY_ADMIN_TOKEN_FILE', ['admin', 'tokenFile'], 'string'],
  ['RELAY_ADMIN_HOST', ['admin', 'host'], 'string'],
  ['RELAY_ADMIN_PORT', ['admin', 'port'], 'int'],
  ['RELAY_RATE_PER_MINUTE', ['limits', 'perDevicePerMinute'], 'int'],
  ['RELAY_RATE_BURST', ['limits', 'perDeviceBurst'], 'int'],
  ['RELAY_MAX_IN_FLIGHT', ['limits', 'maxInFlight'], 'int'],
  ['RELAY_MAX_EVENT_LOOP_LAG_MS', ['limits', 'maxEventLoopLagMs'], 'int'],
  ['RELAY_MAX_STARTING_PAYS', ['limits', 'maxStartingPays'], 'int'],
  ['RELAY_PAYS_PER_MINUTE', ['limits', 'perDevicePaysPerMinute'], 'int'],
  ['RELAY_PAY_BURST', ['limits', 'perDevicePayBurst'], 'int'],
  ['RELAY_PAY_TURN_BUDGET_MS', ['limits', 'payTurnBudgetMs'], 'json'],
  ['RELAY_LISTEN_BACKLOG', ['limits', 'listenBacklog'], 'int'],
  ['RELAY_SHUTDOWN_GRACE_MS', ['limits', 'shutdownGraceMs'], 'int'],
  ['RELAY_MAX_STREAMS_PER_DEVICE', ['limits', 'maxStreamsPerDevice'], 'int'],
  ['RELAY_MAX_STREAMS', ['limits', 'maxStreams'], 'int'],
  ['RELAY_MAX_LONG_POLLS_PER_DEVICE', ['limits', 'maxLongPollsPerDevice'], 'int'],
  ['RELAY_MAX_LONG_POLLS', ['limits', 'maxLongPolls'], 'int'],
  ['RELAY_ENROLL_PER_MINUTE', ['limits', 'enrollPerMinute'], 'int'],
  ['RELAY_ENROLL_BURST', ['limits', 'enrollBurst'], 'int'],
  ['RELAY_TRUST_PROXY', ['limits', 'trustProxy'], 'string'],
];

/** Thrown for a configuration that cannot start the relay. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

function parseEnvValue(name: string, raw: string, kind: EnvKind): unknown {
  if (kind === 'string') return raw;
  if (kind === 'int') {
    if (!/^\d+$/u.test(raw)) throw new ConfigError(`${name} must be a whole number`);
    return Number(raw);
  }
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new ConfigError(`${name} must be JSON`);
  }
}

/** Resolves a path of the config file relative to the file's folder. */
function resolveFrom(base: string | undefined, p: string | undefined): string | undefined {
  return p === undefined ? undefined : base ? resolve(base, p) : resolve(p);
}

/**
 * Reads the config file (JSON, optional), overlays the environment, validates, and makes the
 * file paths inside absolute. The result is plain data; keys are parsed once by `startRelay`.
 */
export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): RelayConfig {
  const env = options.env ?? process.env;
  let raw: Record<string, unknown> = {};
  const base = options.file ? dirname(resolve(options.file)) : undefined;
  if (options.file) {
    try {
      raw = JSON.parse(readFileSync(options.file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`cannot read config ${options.file}: ${(err as Error).message}`);
    }
  }
  for (const [name, path, kind] of ENV_SETTINGS) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, path, parseEnvValue(name, value, kind));
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`invalid config: ${z.prettifyError(parsed.error)}`);
  }
  const c = parsed.data;
  const fromEnv = (name: string): boolean => Boolean(env[name]);
  const rel = (name: string, p: string | undefined): string | undefined => (fromEnv(name) ? resolveFrom(undefined, p) : resolveFrom(base, p));
  return {
    ...c,
    dataDir: rel('RELAY_DATA_DIR', c.dataDir) as string,
    catalogueFile: rel('RELAY_CATALOGUE_FILE', c.catalogueFile),
    admin: { ...c.admin, tokenFile: rel('RELAY_ADMIN_TOKEN_FILE', c.admin.tokenFile) },
    antom: {
      ...c.antom,
      merchantPrivateKeyFile: rel('ANTOM_MERCHANT_PRIVATE_KEY_FILE', c.antom.merchantPrivateKeyFile),
      antomPublicKeyFile: rel('ANTOM_PUBLIC_KEY_FILE', c.antom.antomPublicKeyFile),
    },
    players: c.players && {
      ...c.players,
      publicKeyFile: rel('PLAYER_PUBLIC_KEY_FILE', c.players.publicKeyFile),
      jwksFile: rel('PLAYER_JWKS_FILE', c.players.jwksFile),
      devIssuerPrivateKeyFile: rel('PLAYER_DEV_ISSUER_PRIVATE_KEY_FILE', c.players.devIssuerPrivateKeyFile),
    },
  };
}

/** Validates a config object built in code (tests, embedding) and applies defaults. */
export function parseConfig(input: RelayConfigInput): RelayConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`invalid config: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
