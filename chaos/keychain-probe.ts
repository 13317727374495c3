/*
 * The client's main-process services (real keytar vault, got relay client, file pending store)
 * in a child process on its own D-Bus session, or none (libsecret binds to the bus of the
 * process on first use):
 *   node --import tsx chaos/keychain-probe.ts <lock|absent> <input.json>
 * input: {relayUrl, deviceId, deviceSecret, dir}. `lock` stores the device credential in the
 * unlocked keychain, locks it (python3-dbus, as test/integration/client/helpers/vault-probe.ts),
 * then runs the binding and purchase calls; `absent` runs them with no Secret Service at all.
 * Prints one JSON line: each call's answer (`ok` or its error code) and time.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFilePendingStore } from '../main/adapters/pending-store.file.ts';
import { createGotRelayHttp } from '../main/adapters/relay-client.got.ts';
import { createKeytarSecretStore } from '../main/adapters/secret-store.keytar.ts';
import { BindingService } from '../main/services/binding-service.ts';
import { systemClock } from '../main/services/ports.ts';
import { isPendingIntent, type PendingIntent, PurchaseService } from '../main/services/purchase-service.ts';
import { RelayApi } from '../main/services/relay/relay-api.ts';
import { Vault } from '../main/services/vault.ts';
import { MemoryLogger } from '../test/fakes/memory-stores.ts';
import { RecordingSecretStore } from '../test/integration/client/helpers/client-stack.ts';

const LOCK_PY = `
import dbus
bus = dbus.SessionBus()
svc = dbus.Interface(bus.get_object('org.freedesktop.secrets', '/org/freedesktop/secrets'), 'org.freedesktop.Secret.Service')
locked, prompt = svc.Lock([dbus.ObjectPath('/org/freedesktop/secrets/aliases/default')])
print(len(locked))
`;

const [mode, file] = process.argv.slice(2);
const input = JSON.parse(readFileSync(file as string, 'utf8')) as { relayUrl: string; deviceId: string; deviceSecret: string; dir: string };
const out: Record<string, { answer: string; ms: number; detail?: string }> = {};
const log = new MemoryLogger();

async function step(name: string, fn: () => Promise<unknown>): Promise<void> {
  const started = Date.now();
  try {
    const v = (await fn()) as { error?: string } | undefined;
    // restore() never throws: it reports a failure in the status it returns.
    out[name] = { answer: v && typeof v === 'object' && typeof v.error === 'string' ? v.error : 'ok', ms: Date.now() - started, detail: JSON.stringify(v)?.slice(0, 200) };
  } catch (error) {
    out[name] = { answer: String((error as { code?: unknown }).code ?? 'untyped'), ms: Date.now() - started, detail: String((error as Error).message).slice(0, 200) };
  }
}

const secrets = new RecordingSecretStore(createKeytarSecretStore(), `-chaos-${process.pid}`);
const vault = new Vault(secrets);
await step('store credential', () => vault.setDeviceCredential({ relayUrl: input.relayUrl, deviceId: input.deviceId, deviceSecret: input.deviceSecret, kind: 'kiosk' }));
if (mode === 'lock') out['locked'] = { answer: execFileSync('/usr/bin/python3', ['-c', LOCK_PY], { encoding: 'utf8' }).trim(), ms: 0 };
let cached: Awaited<ReturnType<Vault['deviceCredential']>> = null;
const relay = new RelayApi({
  http: createGotRelayHttp(),
  // A development client: the chaos relay is plain http on loopback.
  isPackaged: false,
  clock: systemClock,
  log,
  credential: async () => (cached ??= await vault.deviceCredential()),
  playerAssertion: async () => null,
  backoff: { baseMs: 50, maxMs: 500 },
});
const binding = new BindingService({ relay, vault, clock: systemClock, log, playerKey: async () => 'kiosk' });
const purchases = new PurchaseService({
  relay,
  binding,
  pending: createFilePendingStore<PendingIntent>(join(input.dir, 'pending-purchases.json'), isPendingIntent),
  clock: systemClock,
  log,
  newIntentId: () => crypto.randomUUID(),
  followUp: { baseMs: 100, maxMs: 400 },
});
await step('restore', () => binding.restore());
await step('bind start', () => binding.start('ALIPAY_HK'));
await step('quote', () => purchases.quote({ sku: 'gems-100', quantity: 1 }));
await step('catalogue', () => relay.catalogue('HKD'));
await step('confirm', () => purchases.confirm({ purchaseIntentId: crypto.randomUUID() }));
await step('health', async () => ({ error: await vault.health() }));
binding.dispose();
purchases.dispose();
process.stdout.write(`${JSON.stringify({ out, written: secrets.written.length, logs: log.lines.map((l) => JSON.stringify(l)) })}\n`);
process.exit(0);
