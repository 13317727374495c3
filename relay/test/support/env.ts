import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { RelayConfigInput } from '../../src/config.ts';

/** The PostgreSQL server tests may use (CI always provides it). */
export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'];

/** The engines store and flow tests run on, with why PostgreSQL is skipped when it is. */
export function engines(): { name: 'sqlite' | 'postgres'; skip: string | undefined }[] {
  let pgSkip: string | undefined;
  if (!TEST_DATABASE_URL) {
    if (process.env['CI'] === 'true') throw new Error('CI=true but TEST_DATABASE_URL is not set: PostgreSQL tests must run in CI');
    pgSkip = 'TEST_DATABASE_URL is not set, so the PostgreSQL variant is skipped (set it to run them)';
  }
  return [
    { name: 'sqlite', skip: undefined },
    { name: 'postgres', skip: pgSkip },
  ];
}

/** A throw-away database: a fresh PostgreSQL database, or a temp dir for SQLite. */
export interface TestDatabase {
  databaseUrl: string | undefined;
  dataDir: string;
  drop(): Promise<void>;
}

/** Creates a fresh database for one test file (PG: CREATE DATABASE with a random name). */
export async function createTestDatabase(engine: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'relay-test-'));
  if (engine === 'sqlite') {
    return { databaseUrl: undefined, dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const admin = TEST_DATABASE_URL as string;
  const name = `relay_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    dataDir,
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An RSA key pair as PEM strings. */
export function rsaKeys(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** The catalogue tests use. */
export const TEST_CATALOGUE = {
  items: [
    { sku: 'gems-100', title: '100 Gems', prices: { HKD: '12.00', IDR: '15000' } },
    { sku: 'gems-1000', title: '1000 Gems', prices: { HKD: '98.00', IDR: '150000' } },
    { sku: 'vault', title: 'Dragon Vault', prices: { HKD: '30000.00', IDR: '9000000' } },
  ],
};

/** A complete relay config for tests; Antom keys and URL are supplied by the caller. */
export function testConfig(input: {
  db: TestDatabase;
  antomBaseUrl: string;
  clientId: string;
  merchantPrivateKeyPem: string;
  antomPublicKeyPem: string;
  studioPublicKeyPem?: string;
  /** The relay's Antom call timeout (default 2 s); every other antom setting stays as above. */
  antomTimeoutMs?: number;
  overrides?: Partial<RelayConfigInput>;
}): RelayConfigInput {
  return {
    host: '127.0.0.1',
    port: 0,
    dataDir: input.db.dataDir,
    ...(input.db.databaseUrl ? { databaseUrl: input.db.databaseUrl } : {}),
    logLevel: 'info',
    // Every answer and event must match its shared/relay-api schema: a mismatch is a 500 (an
    // event: not sent) and an error line, which the stack's close() also reports.
    strictResponses: true,
    antom: {
      baseUrl: input.antomBaseUrl,
      clientId: input.clientId,
      merchantPrivateKey: input.merchantPrivateKeyPem,
      antomPublicKey: input.antomPublicKeyPem,
      timeoutMs: input.antomTimeoutMs ?? 2_000,
    },
    encryption: { activeKeyId: 'k1', keys: { k1: randomBytes(32).toString('base64') } },
    ...(input.studioPublicKeyPem ? { players: { issuer: 'https://studio.example', audience: 'scan-to-bind-relay', publicKey: input.studioPublicKeyPem } } : {}),
    catalogue: TEST_CATALOGUE,
    payments: { inquiryIntervalMs: 100, expiryMs: 60_000, unresolvedInquiryIntervalMs: 300, leaseMs: 5_000 },
    worker: { tickMs: 50 },
    events: { longPollTimeoutMs: 5_000, crossProcessPollMs: 200 },
    // Tests poll statuses far faster than a real client (which listens to the event stream), so
    // the per-device rate limit is lifted here, and so is the per-address enrolment limit (every
    // test device enrols from 127.0.0.1); flow-ops and flow-enroll tests set their own limits.
    // Admission by event-loop lag is off too: on a loaded CI machine (2 cores, test files in
    // parallel) it refused setup enrolments and fuzz requests with 503; the gate itself is tested
    // on its own (flow-ops), and the overload rows of the chaos matrix run with it on.
    limits: TEST_LIMITS,
    ...input.overrides,
    // The admin and operations listener on an ephemeral loopback port (files run in parallel),
    // whatever else an override sets for admin (its token).
    admin: { port: 0, ...input.overrides?.admin },
  };
}

/**
 * The tests' lifted limits: a per-device rate, a pay rate and an enrolment rate no test reaches,
 * and no admission by event-loop lag or by the loop turn's work budget (testConfig explains why);
 * a test of one limit spreads these and sets it. The pay burst stays at the start gate's size.
 */
export const TEST_LIMITS = {
  perDevicePerMinute: 1_000_000,
  perDeviceBurst: 100_000,
  perDevicePaysPerMinute: 1_000_000,
  perDevicePayBurst: 8,
  payTurnBudgetMs: 0,
  maxInFlight: 256,
  maxEventLoopLagMs: 0,
  shutdownGraceMs: 5_000,
  enrollPerMinute: 1_000_000,
  enrollBurst: 100_000,
} as const;

/** A random UUID (purchase intent ids). */
export const uuid = (): string => randomUUID();
