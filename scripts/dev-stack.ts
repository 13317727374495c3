import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { signPlayerAssertion } from '../relay/src/devices/player-assertion.ts';
import { type Relay, startRelay } from '../relay/src/index.ts';
import { type RunningSandbox, startSandbox } from '../sandbox/src/index.ts';

/**
 * The embedded development setup behind `npm start`, the end-to-end tests and demos: the Antom
 * sandbox and the merchant relay, wired to each other with keys made on first start and kept
 * in the data dir, plus a one-time enrolment code for this PC.
 */
export interface DevStackOptions {
  /** Where keys, the sandbox state, the relay's SQLite file and the app's data live. */
  dataDir: string;
  /** Listen on every interface and put the LAN address into QR codes, so a real phone can scan. */
  lan?: boolean;
  sandboxPort?: number;
  relayPort?: number;
  /** The kind of device the enrolment code is for. */
  deviceKind?: 'launcher' | 'kiosk';
  /** Compress the sandbox's notification retry schedule (tests). */
  notifyTimeScale?: number;
  logLevel?: 'info' | 'warn' | 'error' | 'silent';
}

export interface DevStack {
  sandbox: RunningSandbox;
  relay: Relay;
  relayUrl: string;
  /** The relay URL for the app on this PC: loopback even with --lan (plain http is loopback-only in development). */
  appRelayUrl: string;
  enrollCode: string;
  deviceKind: 'launcher' | 'kiosk';
  /** A demo player assertion signed with the dev studio key, pinned to `deviceId` (launchers only). */
  playerAssertion(playerId: string, deviceId: string): string;
  /**
   * The demo studio (a stand-in for a studio's game server) on loopback: `POST url` with
   * `Authorization: Bearer <token>` and `{"deviceId": …}` answers `{"assertion": …}`, a fresh
   * 10-minute token for the demo player pinned to that device. `npm start` hands it to the app.
   */
  devStudio: { url: string; token: string; playerId: string };
  close(): Promise<void>;
}

const CLIENT_ID = 'SANDBOX_5YTEST0000000001';
const STUDIO = { issuer: 'https://studio.example', audience: 'scan-to-bind-relay' };
/** Demo tokens live 10 minutes: under the relay's 15-minute default players.maxLifetimeSeconds. */
const DEMO_ASSERTION_TTL_S = 600;
const DEMO_PLAYER = 'demo-player-1';

/** Starts the demo studio endpoint (see DevStack.devStudio) on 127.0.0.1, any free port. */
async function startDemoStudio(mint: (deviceId: string) => string): Promise<{ server: Server; url: string; token: string }> {
  const token = randomBytes(24).toString('base64url');
  const expected = Buffer.from(`Bearer ${token}`);
  const server = createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const auth = Buffer.from(req.headers.authorization ?? '');
    if (req.method !== 'POST' || req.url !== '/player-assertion') return answer(404, { error: 'not found' });
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) return answer(401, { error: 'unauthorized' });
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 1024) req.destroy();
    });
    req.on('end', () => {
      let deviceId: unknown;
      try {
        deviceId = (JSON.parse(body) as { deviceId?: unknown }).deviceId;
      } catch {
        deviceId = undefined;
      }
      if (typeof deviceId !== 'string' || !/^[0-9a-f-]{36}$/u.test(deviceId)) return answer(400, { error: 'deviceId must be a device id' });
      answer(200, { assertion: mint(deviceId) });
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/player-assertion`, token };
}

function demoAssertion(key: KeyObject, playerId: string, deviceId: string): string {
  return signPlayerAssertion(
    key,
    { iss: STUDIO.issuer, aud: STUDIO.audience, sub: playerId, did: deviceId, ttlSeconds: DEMO_ASSERTION_TTL_S },
    { alg: 'ES256' },
  );
}

/** The first non-internal IPv4 address, for the LAN flag. */
export function lanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

interface DevSecrets {
  merchantPrivatePem: string;
  merchantPublicPem: string;
  studioPrivatePem: string;
  studioPublicPem: string;
  encryptionKey: string;
}

/** Keys for the dev setup: made once, kept (mode 0600) so tokens and bindings survive restarts. */
function devSecrets(dir: string): DevSecrets {
  const file = join(dir, 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const studio = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const secrets: DevSecrets = {
    merchantPrivatePem: merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    merchantPublicPem: merchant.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    studioPrivatePem: studio.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    studioPublicPem: studio.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    encryptionKey: randomBytes(32).toString('base64'),
  };
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

/** Starts the sandbox, then the relay pointed at it, and mints an enrolment code. */
export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secrets = devSecrets(dataDir);
  const lanIp = options.lan ? lanAddress() : undefined;
  if (options.lan && !lanIp) throw new Error('--lan: this machine has no LAN IPv4 address');
  const host = options.lan ? '0.0.0.0' : '127.0.0.1';
  const sandboxPort = options.sandboxPort ?? 8081;
  const sandbox = await startSandbox({
    host,
    port: sandboxPort,
    dataDir: join(dataDir, 'sandbox'),
    clientId: CLIENT_ID,
    merchantPublicKeyPem: secrets.merchantPublicPem,
    notifyTimeScale: options.notifyTimeScale ?? 1,
    ...(lanIp ? { publicBaseUrl: `http://${lanIp}:${sandboxPort}` } : {}),
  });
  const relayPort = options.relayPort ?? 8787;
  let relay: Relay;
  try {
    relay = await startRelay({
      host,
      port: relayPort,
      ...(lanIp ? { publicUrl: `http://${lanIp}:${relayPort}` } : {}),
      dataDir: join(dataDir, 'relay'),
      // Admin and operations stay on loopback even with --lan, on the port after the relay's
      // (8788 by default; ephemeral when the relay's is).
      admin: { host: '127.0.0.1', port: relayPort === 0 ? 0 : relayPort + 1 },
      logLevel: options.logLevel ?? 'info',
      antom: {
        baseUrl: sandbox.url,
        clientId: CLIENT_ID,
        merchantPrivateKey: secrets.merchantPrivatePem,
        antomPublicKey: sandbox.publicKeyPem,
      },
      encryption: { activeKeyId: 'dev1', keys: { dev1: secrets.encryptionKey } },
      players: { ...STUDIO, publicKey: secrets.studioPublicPem },
      catalogue: {
        items: [
          { sku: 'gems-100', title: '100 Gems', prices: { HKD: '12.00', IDR: '15000' } },
          { sku: 'gems-1000', title: '1000 Gems', prices: { HKD: '98.00', IDR: '150000' } },
          { sku: 'battle-pass', title: 'Season Battle Pass', prices: { HKD: '78.00', IDR: '120000' } },
        ],
      },
      spendingCaps: { HKD: { daily: '500.00', monthly: '2000.00' }, IDR: { daily: '1000000', monthly: '5000000' } },
    });
  } catch (err) {
    await sandbox.close();
    throw err;
  }
  // The relay's public URL is where notifications and devices reach it.
  const relayUrl = lanIp ? `http://${lanIp}:${relayPort}` : relay.url;
  const deviceKind = options.deviceKind ?? 'launcher';
  const { code } = await relay.devices.createEnrollmentCode({ label: 'This PC (npm start)', kind: deviceKind, lifetimeMs: 3_600_000 });
  const studioPrivate = createPrivateKey(secrets.studioPrivatePem);
  const studio = await startDemoStudio((deviceId) => demoAssertion(studioPrivate, DEMO_PLAYER, deviceId));
  return {
    sandbox,
    relay,
    relayUrl,
    appRelayUrl: `http://127.0.0.1:${new URL(relay.url).port}`,
    enrollCode: code,
    deviceKind,
    playerAssertion: (playerId, deviceId) => demoAssertion(studioPrivate, playerId, deviceId),
    devStudio: { url: studio.url, token: studio.token, playerId: DEMO_PLAYER },
    async close() {
      studio.server.closeAllConnections();
      await new Promise<void>((r) => studio.server.close(() => r()));
      await relay.close();
      await sandbox.close();
    },
  };
}
