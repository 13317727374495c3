import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
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
  enrollCode: string;
  deviceKind: 'launcher' | 'kiosk';
  /** A demo player assertion signed with the dev studio key (launchers only). */
  playerAssertion(playerId: string): string;
  close(): Promise<void>;
}

const CLIENT_ID = 'SANDBOX_5YTEST0000000001';
const STUDIO = { issuer: 'https://studio.example', audience: 'scan-to-bind-relay' };

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
  return {
    sandbox,
    relay,
    relayUrl,
    enrollCode: code,
    deviceKind,
    playerAssertion: (playerId) =>
      signPlayerAssertion(studioPrivate, { iss: STUDIO.issuer, aud: STUDIO.audience, sub: playerId, ttlSeconds: 12 * 3600 }, { alg: 'ES256' }),
    async close() {
      await relay.close();
      await sandbox.close();
    },
  };
}
