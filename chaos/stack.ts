import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '@scan-to-bind/sandbox/src/index.ts';
import { type OffsetClock, offsetClock } from '../relay/src/clock.ts';
import type { RelayConfigInput } from '../relay/src/config.ts';
import { signPlayerAssertion } from '../relay/src/devices/player-assertion.ts';
import { startRelay } from '../relay/src/index.ts';
import { openStore, type Store } from '../relay/src/store/db.ts';
import { ADMIN_TOKEN, adminCall } from '../relay/test/support/admin.ts';
import { enroll, type JsonResponse, TestDevice } from '../relay/test/support/client.ts';
import { createTestDatabase, rsaKeys, testConfig } from '../relay/test/support/env.ts';

/*
 * The chaos stack: the sandbox (in-process, its data dir known so the matrix can sign forged
 * notifications with "Antom's" key and read the real tokens to scan for), a fulfilment webhook
 * receiver on 127.0.0.1, and one or more relays — in-process (controllable clock) or in child
 * processes (SIGKILL rows) started by chaos/relay-process.ts from a config file.
 */

export type Engine = 'sqlite' | 'postgres';

/** One fulfilment webhook delivery as the game server saw it. */
export interface Delivery {
  purchaseIntentId: string;
  body: string;
}

/** A relay the stack started. */
export interface RelayHandle {
  url: string;
  /** The admin and operations listener (admin API, /metrics, /readyz, /openapi.json). */
  adminUrl: string;
  /** In-process relays only. */
  inProcess?: Awaited<ReturnType<typeof startRelay>>;
  child?: ChildProcess;
  /** Resolves when a child exits (with its signal). */
  exited?: Promise<NodeJS.Signals | number | null>;
  close(): Promise<void>;
}

export interface ChaosStackOptions {
  /** Relay in child processes (kill/restart rows). */
  process?: boolean;
  /** A database URL to use instead of a fresh one (throwaway PG clusters). */
  databaseUrl?: string;
  overrides?: Partial<RelayConfigInput>;
  /** Webhook answers: a function of the attempt number for the intent (default 200). */
  webhookStatus?: (intentId: string, attempt: number) => number;
  /** Something between relay and sandbox (a man in the middle): gets the sandbox URL, returns the URL the relay calls as Antom. */
  interpose?: (sandboxUrl: string) => Promise<{ url: string; close(): Promise<void> }>;
}

export class ChaosStack {
  readonly logs: string[] = [];
  /** Every client-visible payload (HTTP answers, IPC results, pushed statuses), as text. */
  readonly payloads: string[] = [];
  readonly deliveries: Delivery[] = [];
  readonly relays: RelayHandle[] = [];
  relay!: RelayHandle;
  kiosk!: TestDevice;
  launcher!: TestDevice;
  store!: Store;
  clock: OffsetClock = offsetClock();
  sandboxUrl = '';
  sandboxDir = '';
  sandboxAdminToken = '';
  antomPrivateKey!: KeyObject;
  config!: RelayConfigInput;
  secrets: string[] = [];
  readonly clientId = 'SANDBOX_5YTEST0000000001';
  #closers: (() => Promise<void>)[] = [];
  #studio = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  #launcherId: string | null = null;
  #webhook: Server | undefined;
  #ownStore = false;

  constructor(
    readonly engine: Engine,
    readonly options: ChaosStackOptions = {},
  ) {}

  async start(): Promise<this> {
    const db = await createTestDatabase(this.engine === 'postgres' && this.options.databaseUrl ? 'sqlite' : this.engine);
    const databaseUrl = this.options.databaseUrl ?? db.databaseUrl;
    this.#closers.push(() => db.drop());
    const merchant = rsaKeys();
    this.sandboxDir = mkdtempSync(join(tmpdir(), 'chaos-sbx-'));
    this.sandboxAdminToken = `sbx-${randomBytes(12).toString('hex')}`;
    const sandbox = await startSandbox({
      port: 0,
      dataDir: this.sandboxDir,
      clientId: this.clientId,
      merchantPublicKeyPem: merchant.publicKeyPem,
      notifyTimeScale: 0.001,
      adminToken: this.sandboxAdminToken,
    });
    this.#closers.push(async () => {
      await sandbox.close();
      rmSync(this.sandboxDir, { recursive: true, force: true });
    });
    this.sandboxUrl = sandbox.url;
    const between = this.options.interpose ? await this.options.interpose(sandbox.url) : undefined;
    if (between) this.#closers.push(() => between.close());
    this.antomPrivateKey = (await import('node:crypto')).createPrivateKey(readFileSync(join(this.sandboxDir, 'antom-private-key.pem'), 'utf8'));
    const webhookUrl = await this.#startWebhook();
    const port = await freePort();
    const fulfilmentSecret = `fulfil-${randomBytes(16).toString('hex')}`;
    this.config = testConfig({
      db: { ...db, databaseUrl },
      antomBaseUrl: between?.url ?? sandbox.url,
      clientId: this.clientId,
      merchantPrivateKeyPem: merchant.privateKeyPem,
      antomPublicKeyPem: sandbox.publicKeyPem,
      studioPublicKeyPem: this.#studio.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      overrides: {
        port,
        publicUrl: `http://127.0.0.1:${port}`,
        admin: { token: ADMIN_TOKEN },
        fulfilment: { webhookUrl, secret: fulfilmentSecret, baseDelayMs: 50, maxDelayMs: 400, timeoutMs: 2_000 },
        ...this.options.overrides,
      },
    });
    const enc = (this.config.encryption as { keys: Record<string, string> }).keys['k1'] ?? '';
    const pemBody = merchant.privateKeyPem.split('\n').slice(2, 3).join('');
    this.secrets.push(enc, pemBody, ADMIN_TOKEN, fulfilmentSecret, this.sandboxAdminToken);
    this.relay = await this.startRelay();
    if (this.options.process || this.options.databaseUrl) {
      this.store = await openStore({ databaseUrl, dataDir: db.dataDir });
      this.#ownStore = true;
    } else {
      this.store = this.relay.inProcess?.store as Store;
    }
    const kioskCreds = await this.enrolDevice('kiosk');
    const launcherCreds = await this.enrolDevice('launcher');
    this.kiosk = new TestDevice(this.relay.url, kioskCreds, undefined, () => this.clock.now());
    this.#launcherId = launcherCreds.deviceId;
    // A fresh device-pinned token per request, as a launcher asks its studio: rows that move
    // the clock past the assertion lifetime keep their player.
    this.launcher = new TestDevice(
      this.relay.url,
      launcherCreds,
      () => this.assertion('demo-1'),
      () => this.clock.now(),
    );
    return this;
  }

  /** Enrols a device through the admin API; its secret joins the scanned secrets. */
  async enrolDevice(kind: 'kiosk' | 'launcher'): Promise<{ deviceId: string; deviceSecret: string }> {
    const code = await adminCall(this.relay.adminUrl, 'POST', '/admin/v1/devices', { label: `chaos ${kind}`, kind });
    if (code.status !== 201) throw new Error(`enrol: ${code.status} ${JSON.stringify(code.body)}`);
    const creds = await enroll(this.relay.url, code.body['code'] as string);
    this.secrets.push(creds.deviceSecret);
    return creds;
  }

  /**
   * A studio assertion for `player` minted on the stack clock: pinned (`did`) to the stack's
   * launcher unless another device id is given, or to none with `null`; 10 minutes by default
   * (the relay accepts 15 at most).
   */
  assertion(player: string, deviceId: string | null = this.#launcherId, ttlSeconds = 600): string {
    return signPlayerAssertion(
      this.#studio.privateKey,
      { iss: 'https://studio.example', aud: 'scan-to-bind-relay', sub: player, ttlSeconds, ...(deviceId ? { did: deviceId } : {}) },
      { alg: 'ES256', now: this.clock.now() },
    );
  }

  /** Starts one more relay on the same database (same port unless `port` is given). */
  async startRelay(extra: { env?: Record<string, string>; port?: number } = {}): Promise<RelayHandle> {
    const config = { ...this.config, ...(extra.port !== undefined ? { port: extra.port, publicUrl: `http://127.0.0.1:${extra.port}` } : {}) };
    const handle = this.options.process ? await this.#startChild(config, extra.env ?? {}) : await this.#startInProcess(config);
    this.relays.push(handle);
    return handle;
  }

  async #startInProcess(config: RelayConfigInput): Promise<RelayHandle> {
    const logs = this.logs;
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const relay = await startRelay(config, { clock: this.clock, logDestination: destination });
    return { url: relay.url, adminUrl: relay.adminUrl, inProcess: relay, close: () => relay.close() };
  }

  async #startChild(config: RelayConfigInput, env: Record<string, string>): Promise<RelayHandle> {
    const dir = mkdtempSync(join(tmpdir(), 'chaos-relay-'));
    const file = join(dir, 'relay.json');
    writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
    const script = fileURLToPath(new URL('./relay-process.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, file], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    let buffer = '';
    const ready = new Promise<{ url: string; adminUrl: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('relay child did not start within 30 s')), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let at = buffer.indexOf('\n');
        while (at >= 0) {
          const line = buffer.slice(0, at);
          buffer = buffer.slice(at + 1);
          if (line.trim()) this.logs.push(line);
          const m = /^CHAOS_RELAY_READY (\S+) (\S+)$/u.exec(line);
          if (m) {
            clearTimeout(timer);
            resolve({ url: m[1] as string, adminUrl: m[2] as string });
          }
          at = buffer.indexOf('\n');
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => this.logs.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
      void exited.then((how) => {
        clearTimeout(timer);
        reject(new Error(`relay child exited before it was ready (${String(how)})`));
      });
    });
    const { url, adminUrl } = await ready;
    return {
      url,
      adminUrl,
      child,
      exited,
      close: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 8_000);
          await exited;
          clearTimeout(t);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  async #startWebhook(): Promise<string> {
    const attempts = new Map<string, number>();
    this.#webhook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let intent = '';
        try {
          intent = String((JSON.parse(body) as { purchaseIntentId?: unknown }).purchaseIntentId ?? '');
        } catch {
          intent = '';
        }
        const n = (attempts.get(intent) ?? 0) + 1;
        attempts.set(intent, n);
        const status = this.options.webhookStatus?.(intent, n) ?? 200;
        if (status >= 200 && status < 300) this.deliveries.push({ purchaseIntentId: intent, body });
        res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.#webhook?.listen(0, '127.0.0.1', resolve));
    const { port } = this.#webhook.address() as AddressInfo;
    return `http://127.0.0.1:${port}/fulfil`;
  }

  /** Sandbox admin API. */
  async admin(method: string, path: string, body?: unknown): Promise<JsonResponse> {
    const res = await fetch(`${this.sandboxUrl}/__admin${path}`, {
      method,
      headers: { authorization: `Bearer ${this.sandboxAdminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  /** The sandbox's unmasked state file (real tokens, to scan logs for). */
  sandboxRawState(): Record<string, unknown> {
    try {
      return JSON.parse(readFileSync(join(this.sandboxDir, 'state.json'), 'utf8')) as Record<string, unknown>;
    } catch {
      return {};
    }
  }

  async close(): Promise<void> {
    for (const r of this.relays.splice(0).reverse()) await r.close().catch(() => undefined);
    if (this.#ownStore) await this.store.close().catch(() => undefined);
    await new Promise<void>((resolve) => (this.#webhook ? this.#webhook.close(() => resolve()) : resolve()));
    this.#webhook?.closeAllConnections();
    for (const c of this.#closers.splice(0).reverse()) await c().catch(() => undefined);
  }
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
