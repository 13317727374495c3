import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { systemClock } from './clock.ts';
import { adminListenerUrl, readAdminToken } from './admin/admin-config.ts';
import { loadConfig, type RelayConfig } from './config.ts';
import { DeviceService } from './devices/device-service.ts';
import { type AssertionAlg, signPlayerAssertion } from './devices/player-assertion.ts';
import { type AdminTarget, ADMIN_VERBS, adminUsage, runAdminVerb } from './admin/admin-cli.ts';
import { startRelay } from './index.ts';
import { runReconcile } from './reports/reconcile-command.ts';
import { openStore } from './store/db.ts';
import { reencryptAll } from './store/rotate-keys.ts';
import { SecretBox } from './store/secret-box.ts';

const USAGE = `Usage (from the repository root):
  npm run relay -- --config relay.json                 start the relay
  npm run relay -- enroll --label "Kiosk 12" [--kind kiosk|launcher] [--config relay.json]
  npm run relay -- player-assertion --player demo-1 --device <deviceId> [--ttl 600] [--config relay.json]
  npm run relay -- rotate-keys [--config relay.json]   re-encrypt secrets at rest with the active key
  npm run relay -- dev-setup --dir .data/dev [--antom-url http://127.0.0.1:8081]
  npm run relay -- reconcile <report files…> [--out report.json] [--config relay.json]
Every setting can also come from the environment (see relay/README.md).`;

function parseArgs(argv: string[]): { command: string; args: string[]; flags: Map<string, string> } {
  const flags = new Map<string, string>();
  const args: string[] = [];
  let command = 'start';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.startsWith('--')) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) flags.set(arg.slice(2), 'true');
      else {
        flags.set(arg.slice(2), next);
        i++;
      }
    } else if (i === 0) command = arg;
    else args.push(arg);
  }
  return { command, args, flags };
}

function config(flags: Map<string, string>): RelayConfig {
  const file = flags.get('config') ?? process.env['RELAY_CONFIG'];
  return loadConfig(file ? { file } : {});
}

/**
 * The admin API the CLI's admin verbs call: --url / RELAY_ADMIN_URL, else the config's admin
 * listener (`admin.host`:`admin.port`, loopback 8788 by default; the public URL does not serve
 * it); token from the environment or config.
 */
function adminTarget(flags: Map<string, string>): AdminTarget {
  const envToken = process.env['RELAY_ADMIN_TOKEN'];
  const envUrl = flags.get('url') ?? process.env['RELAY_ADMIN_URL'];
  if (envToken && envUrl) return { url: envUrl, token: envToken };
  const c = config(flags);
  const token = envToken ?? readAdminToken(c.admin);
  if (!token) throw new Error('no admin token: set RELAY_ADMIN_TOKEN or admin.token / admin.tokenFile in the config');
  return { url: envUrl ?? adminListenerUrl(c.admin), token };
}

async function main(): Promise<void> {
  const { command, args, flags } = parseArgs(process.argv.slice(2));
  if (command === 'help' || flags.has('help')) {
    console.log(`${USAGE}\n${adminUsage()}`);
    return;
  }
  if ((ADMIN_VERBS as readonly string[]).includes(command)) {
    process.exitCode = await runAdminVerb(command, args, flags, adminTarget(flags), (line) => console.log(line));
    return;
  }
  if (command === 'reconcile') {
    const c = config(flags);
    const store = await openStore({ databaseUrl: c.databaseUrl, dataDir: c.dataDir, poolSize: c.databasePoolSize });
    try {
      process.exitCode = await runReconcile(store, args, flags.get('out') ?? `reconciliation-${new Date().toISOString().slice(0, 10)}.json`, (line) =>
        console.log(line),
      );
    } finally {
      await store.close();
    }
    return;
  }
  if (args.length > 0) throw new Error(`unexpected argument ${args[0]}`);
  if (command === 'start') {
    const relay = await startRelay(config(flags));
    const stop = (): void => {
      void relay.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return;
  }
  if (command === 'enroll') {
    const c = config(flags);
    const label = flags.get('label');
    const kind = flags.get('kind') ?? 'kiosk';
    if (!label || (kind !== 'kiosk' && kind !== 'launcher')) throw new Error('enroll needs --label and --kind kiosk|launcher');
    const store = await openStore({ databaseUrl: c.databaseUrl, dataDir: c.dataDir, poolSize: c.databasePoolSize });
    const devices = new DeviceService({ store, box: new SecretBox(c.encryption.keys, c.encryption.activeKeyId), clock: systemClock });
    const { code, expiresAt } = await devices.createEnrollmentCode({ label, kind, lifetimeMs: c.enrollment.codeLifetimeMs });
    await store.close();
    const url = c.publicUrl ?? `http://${c.host}:${c.port}`;
    console.log(`Enrolment code for "${label}" (${kind}): ${code}`);
    console.log(`Relay URL: ${url}`);
    console.log(`Valid until ${new Date(expiresAt).toISOString()}; it works once.`);
    return;
  }
  if (command === 'player-assertion') {
    const c = config(flags);
    const player = flags.get('player');
    const file = c.players?.devIssuerPrivateKeyFile;
    if (!player || !c.players || !file) throw new Error('player-assertion needs --player and players.devIssuerPrivateKeyFile in the config');
    const key = createPrivateKey(readFileSync(file, 'utf8'));
    const alg: AssertionAlg = key.asymmetricKeyType === 'rsa' ? 'RS256' : key.asymmetricKeyType === 'ec' ? 'ES256' : 'EdDSA';
    // The relay refuses a token without `did` (players.requireDeviceId) or longer-lived than
    // players.maxLifetimeSeconds, so the demo token is pinned and short like a real one.
    const device = flags.get('device');
    if (!device && c.players.requireDeviceId) throw new Error('player-assertion needs --device <deviceId> (players.requireDeviceId is on)');
    const ttl = flags.get('ttl') ?? String(Math.min(600, c.players.maxLifetimeSeconds));
    if (!/^\d{1,9}$/u.test(ttl) || Number(ttl) < 1 || Number(ttl) > c.players.maxLifetimeSeconds) {
      throw new Error(`--ttl must be 1 to ${c.players.maxLifetimeSeconds} seconds (players.maxLifetimeSeconds)`);
    }
    console.log(
      signPlayerAssertion(
        key,
        { iss: c.players.issuer, aud: c.players.audience, sub: player, ttlSeconds: Number(ttl), ...(device ? { did: device } : {}) },
        { alg },
      ),
    );
    return;
  }
  if (command === 'rotate-keys') {
    const c = config(flags);
    const store = await openStore({ databaseUrl: c.databaseUrl, dataDir: c.dataDir, poolSize: c.databasePoolSize });
    const count = await reencryptAll(store, new SecretBox(c.encryption.keys, c.encryption.activeKeyId));
    await store.close();
    console.log(`re-encrypted ${count} rows with key ${c.encryption.activeKeyId}`);
    return;
  }
  if (command === 'dev-setup') {
    const dir = resolve(flags.get('dir') ?? '.data/dev');
    mkdirSync(dir, { recursive: true });
    const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const studio = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'merchant-private.pem'), merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(dir, 'merchant-public.pem'), merchant.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'studio-private.pem'), studio.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(dir, 'studio-public.pem'), studio.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(
      join(dir, 'catalogue.json'),
      `${JSON.stringify(
        {
          items: [
            { sku: 'gems-100', title: '100 Gems', prices: { HKD: '12.00', IDR: '15000' } },
            { sku: 'gems-1000', title: '1000 Gems', prices: { HKD: '98.00', IDR: '150000' } },
          ],
        },
        null,
        2,
      )}\n`,
    );
    const relayConfig = {
      host: '127.0.0.1',
      port: 8787,
      dataDir: 'relay-data',
      antom: {
        baseUrl: flags.get('antom-url') ?? 'http://127.0.0.1:8081',
        clientId: 'SANDBOX_5YTEST0000000001',
        merchantPrivateKeyFile: 'merchant-private.pem',
        antomPublicKeyFile: 'antom-public.pem',
      },
      encryption: { activeKeyId: 'dev1', keys: { dev1: randomBytes(32).toString('base64') } },
      players: {
        issuer: 'https://studio.example',
        audience: 'scan-to-bind-relay',
        publicKeyFile: 'studio-public.pem',
        devIssuerPrivateKeyFile: 'studio-private.pem',
      },
      catalogueFile: 'catalogue.json',
      spendingCaps: { HKD: { daily: '500.00', monthly: '2000.00' }, IDR: { daily: '1000000', monthly: '5000000' } },
    };
    writeFileSync(join(dir, 'relay.json'), `${JSON.stringify(relayConfig, null, 2)}\n`, { mode: 0o600 });
    console.log(
      `Wrote ${dir}/relay.json and keys. Register merchant-public.pem with the sandbox and save the sandbox's public key as ${dir}/antom-public.pem.`,
    );
    return;
  }
  throw new Error(`unknown command ${command}\n${USAGE}`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
