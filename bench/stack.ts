import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { RelayConfigInput } from '../relay/src/config.ts';
import { signClientRequest } from '../relay/src/devices/client-signature.ts';

/** A server role (sandbox or relay) in its own child process, driven over IPC. */
export class ServerChild {
  readonly #child: ChildProcess;
  #next = 1;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly up: Promise<unknown>;
  exited = false;

  constructor(role: 'sandbox' | 'relay') {
    this.#child = spawn(
      process.execPath,
      [
        ...(process.env['BENCH_CPU_PROF'] && role === 'relay' ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`] : []),
        // BENCH_RELAY_FLAGS: extra Node/V8 flags for the relay child (diagnostics: --perf-basic-prof, --trace-opt).
        ...(process.env['BENCH_RELAY_FLAGS'] && role === 'relay' ? process.env['BENCH_RELAY_FLAGS'].split(' ').filter(Boolean) : []),
        '--expose-gc',
        '--import',
        'tsx',
        'bench/servers.ts',
        role,
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    this.#child.on('exit', () => {
      this.exited = true;
      for (const w of this.#waiting.values()) w.reject(new Error(`${role} child exited`));
    });
    this.up = new Promise((resolve, reject) => this.#waiting.set(0, { resolve, reject }));
    this.#child.on('message', (m: { id: number; value?: unknown; error?: string }) => {
      const w = this.#waiting.get(m.id);
      this.#waiting.delete(m.id);
      if (m.error) w?.reject(new Error(m.error));
      else w?.resolve(m.value);
    });
  }

  get pid(): number {
    return this.#child.pid as number;
  }

  /** Sends one command; rejects after `timeoutMs`. */
  call<T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${cmd}: no answer in ${timeoutMs} ms`)), timeoutMs);
      this.#waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#child.send({ id, cmd, ...args });
    });
  }

  /** Asks it to close; kills it (by pid) if it does not within 10 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    await this.call('close', {}, 10_000).catch(() => undefined);
    if (!this.exited) this.#child.kill('SIGKILL');
  }
}

export interface Usage {
  cpu: NodeJS.CpuUsage;
  rss: number;
  heapUsed?: number;
  /** SQLite: durable commits (barriers asked for) and WAL flushes so far (Store.flushes). */
  flushes?: { requests: number; syncs: number };
}

/** CPU seconds between two usage readings. */
export const cpuSeconds = (a: Usage, b: Usage): number => (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1e6;

/** A device the bench signs requests for. */
export interface Device extends DeviceCredentials {
  bindingId: string;
}

/** Signed headers of one request (fresh nonce each time). */
export function signed(d: Device, method: string, path: string, body: string): Record<string, string> {
  const timestamp = String(Date.now());
  const nonce = randomBytes(16).toString('base64url');
  return {
    'x-device-id': d.deviceId,
    'x-timestamp': timestamp,
    'x-nonce': nonce,
    'x-signature': signClientRequest(d.deviceSecret, { method, pathWithQuery: path, timestamp, nonce, body }),
    ...(body ? { 'content-type': 'application/json' } : {}),
  };
}

async function json(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export const CLIENT_ID = 'SANDBOX_5YTEST0000000001';
/** Cheap item so that thousands of purchases fit under the wallet's yearly cap. */
export const BENCH_CATALOGUE = { items: [{ sku: 'bench-1', title: 'Bench item', prices: { HKD: '0.10', IDR: '300' } }] };
/** One sandbox AlipayHK account per device (created by the bench's sandbox role). */
const accountOf = (i: number): string => `852-7${String(i).padStart(3, '0')}-${String(1000 + i).slice(-4)}`;

export interface StackOptions {
  engine: 'sqlite' | 'postgres';
  paymentDelayMs: number;
  devices: number;
  /** Bench limits (rate limit lifted) or the relay's defaults. */
  limits: 'bench' | 'default';
  /** Relay processes on the one database (PostgreSQL only beyond 1; default 1): the scale figures. */
  relays?: number;
  /** Relay `events` settings (A/B runs of the cross-process watcher). */
  events?: RelayConfigInput['events'];
  /** With `limits: 'bench'`: the relay's event-loop lag gate (`limits.maxEventLoopLagMs`), when not the relay's default. */
  maxEventLoopLagMs?: number;
  /**
   * Relay config sections set over the bench's own (the browser rows run the relay of the
   * e2e tests: its catalogue, limits, players and timings); `admin` stays the bench's.
   */
  relayConfig?: Partial<RelayConfigInput>;
  /** Launcher devices to enrol besides the kiosks (no binding: their players bind themselves). */
  launchers?: number;
}

/** An enrolled device's credentials. */
export interface DeviceCredentials {
  deviceId: string;
  deviceSecret: string;
}

/** sandbox child + relay child + enrolled devices with ACTIVE bindings, on one fresh database. */
export interface BenchStack {
  sandbox: ServerChild;
  /** The first relay (every device is enrolled and bound through it). */
  relay: ServerChild;
  relayUrl: string;
  /** Every relay process, the first one included, and their public URLs in the same order. */
  relays: ServerChild[];
  relayUrls: string[];
  sandboxUrl: string;
  adminToken: string;
  devices: Device[];
  /** The enrolled launchers (`StackOptions.launchers`). */
  launchers: DeviceCredentials[];
  sandboxState(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

async function createPgDatabase(admin: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `relay_bench_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    },
  };
}

const NO_ENROLL_LIMIT = { enrollPerMinute: 1_000_000, enrollBurst: 100_000 };

export async function startBenchStack(o: StackOptions): Promise<BenchStack> {
  const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const database = o.engine === 'postgres' ? await createPgDatabase(process.env['BENCH_DATABASE_URL'] as string) : undefined;
  const count = o.relays ?? 1;
  if (count > 1 && o.engine !== 'postgres') throw new Error('several relay processes need PostgreSQL');
  const sandbox = new ServerChild('sandbox');
  const relays = Array.from({ length: count }, () => new ServerChild('relay'));
  const relay = relays[0] as ServerChild;
  const stopAll = async (): Promise<void> => {
    await Promise.all(relays.map((r) => r.stop()));
    await sandbox.stop();
    await database?.drop();
  };
  try {
    await Promise.all([sandbox.up, ...relays.map((r) => r.up)]);
    const sbx = await sandbox.call<{ url: string; publicKeyPem: string; adminToken: string }>('start', {
      clientId: CLIENT_ID,
      merchantPublicKeyPem: merchant.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      paymentDelayMs: o.paymentDelayMs,
      accounts: Array.from({ length: o.devices }, (_, i) => accountOf(i)),
    });
    const config: RelayConfigInput = {
      host: '127.0.0.1',
      port: 0,
      dataDir: '.',
      ...(database ? { databaseUrl: database.url } : {}),
      logLevel: 'info',
      antom: {
        baseUrl: sbx.url,
        clientId: CLIENT_ID,
        merchantPrivateKey: merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        antomPublicKey: sbx.publicKeyPem,
      },
      encryption: { activeKeyId: 'b1', keys: { b1: randomBytes(32).toString('base64') } },
      catalogue: BENCH_CATALOGUE,
      ...(o.events ? { events: o.events } : {}),
      // The enrolment bucket is lifted in both modes: every bench device enrols from 127.0.0.1 in
      // the set-up, which is not what is measured.
      limits:
        o.limits === 'bench'
          ? {
              perDevicePerMinute: 100_000_000,
              perDeviceBurst: 1_000_000,
              perDevicePaysPerMinute: 100_000_000,
              perDevicePayBurst: 100_000,
              payTurnBudgetMs: 0,
              maxInFlight: 256,
              maxStartingPays: 100_000,
              shutdownGraceMs: 5_000,
              ...(o.maxEventLoopLagMs === undefined ? {} : { maxEventLoopLagMs: o.maxEventLoopLagMs }),
              ...NO_ENROLL_LIMIT,
            }
          : NO_ENROLL_LIMIT,
      ...o.relayConfig,
      // The admin and operations listener on an ephemeral loopback port.
      admin: { port: 0 },
    };
    const relayUrls: string[] = [];
    // One after the other: the first migrates the fresh database, the others find it done.
    for (const r of relays) relayUrls.push((await r.call<{ url: string }>('start', { config })).url);
    const relayUrl = relayUrls[0] as string;
    const admin = (path: string, body?: unknown) =>
      json(`${sbx.url}/__admin${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${sbx.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    for (let i = 0; i < o.devices; i++) {
      const topped = await admin('/accounts/balance', { loginId: accountOf(i), balance: { currency: 'HKD', value: '9000000000000' } });
      if (topped.status !== 200) throw new Error(`top-up ${accountOf(i)}: ${topped.status} ${JSON.stringify(topped.body)}`);
    }
    const enroll = async (code: string): Promise<DeviceCredentials> => {
      const enrolled = await json(`${relayUrl}/v1/devices/enroll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
      });
      if (enrolled.status !== 201) throw new Error(`enroll: ${enrolled.status} ${JSON.stringify(enrolled.body)}`);
      return { deviceId: enrolled.body['deviceId'] as string, deviceSecret: enrolled.body['deviceSecret'] as string };
    };
    const launchers: DeviceCredentials[] = [];
    for (const code of await relay.call<string[]>('enroll', { count: o.launchers ?? 0, kind: 'launcher' })) launchers.push(await enroll(code));
    const codes = await relay.call<string[]>('enroll', { count: o.devices, kind: 'kiosk' });
    const devices: Device[] = [];
    for (const [i, code] of codes.entries()) {
      const d: Device = { ...(await enroll(code)), bindingId: '' };
      const body = JSON.stringify({ wallet: 'ALIPAY_HK' });
      const started = await json(`${relayUrl}/v1/bindings`, { method: 'POST', headers: signed(d, 'POST', '/v1/bindings', body), body });
      if (started.status !== 201) throw new Error(`bind: ${started.status} ${JSON.stringify(started.body)}`);
      d.bindingId = started.body['bindingId'] as string;
      const approved = await json(`${started.body['codeValue'] as string}/authorize`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify({ account: accountOf(i) }),
      });
      if (approved.status >= 300) throw new Error(`authorize: ${approved.status}`);
      // Long-poll until ACTIVE (one or two requests, inside the default burst).
      let version = started.body['version'] as number;
      for (let tries = 0; ; tries++) {
        const path = `/v1/bindings/${d.bindingId}?waitForChange=${version}`;
        const s = await json(`${relayUrl}${path}`, { headers: signed(d, 'GET', path, '') });
        if (s.body['state'] === 'ACTIVE') break;
        version = s.body['version'] as number;
        if (tries > 10) throw new Error(`binding not ACTIVE: ${JSON.stringify(s.body)}`);
      }
      devices.push(d);
    }
    return {
      sandbox,
      relay,
      relayUrl,
      relays,
      relayUrls,
      sandboxUrl: sbx.url,
      adminToken: sbx.adminToken,
      devices,
      launchers,
      sandboxState: async () => (await admin('/state')).body,
      close: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
