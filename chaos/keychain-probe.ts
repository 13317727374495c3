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
import { clientFileStores } from '../main/adapters/client-files.ts';
import { createGotRelayHttp } from '../main/adapters/relay-client.got.ts';
import { createKeytarSecretStore } from '../main/adapters/secret-store.keytar.ts';
import { createClient } from '../main/services/create-client.ts';
import { MemoryLogger, MemorySettingsStore } from '../test/fakes/memory-stores.ts';
import { RunSecretStore } from '../test/support/run-secret-store.ts';

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
    out[name] = {
      answer: v && typeof v === 'object' && typeof v.error === 'string' ? v.error : 'ok',
      ms: Date.now() - started,
      detail: JSON.stringify(v)?.slice(0, 200),
    };
  } catch (error) {
    out[name] = {
      answer: String((error as { code?: unknown }).code ?? 'untyped'),
      ms: Date.now() - started,
      detail: String((error as Error).message).slice(0, 200),
    };
  }
}

const secrets = new RunSecretStore('chaos', createKeytarSecretStore());
// The app's one composition; not started: each call below is one step of the probe.
const client = await createClient({
  secrets,
  settingsStore: new MemorySettingsStore(),
  http: createGotRelayHttp(),
  log,
  ...clientFileStores(input.dir),
  locale: 'en',
  // A development client: the chaos relay is plain http on loopback.
  isPackaged: false,
  version: '0.1.0-chaos',
  mode: 'window',
  relayUrl: input.relayUrl,
  playerAssertion: async () => null,
  newId: () => crypto.randomUUID(),
  tuning: { backoff: { baseMs: 50, maxMs: 500 }, followUp: { baseMs: 100, maxMs: 400 } },
});
const { vault, binding, purchases, relay } = client;
await step('store credential', () =>
  vault.setDeviceCredential({ relayUrl: input.relayUrl, deviceId: input.deviceId, deviceSecret: input.deviceSecret, kind: 'kiosk' }),
);
if (mode === 'lock') out['locked'] = { answer: execFileSync('/usr/bin/python3', ['-c', LOCK_PY], { encoding: 'utf8' }).trim(), ms: 0 };
await step('restore', () => binding.restore());
await step('bind start', () => binding.start('ALIPAY_HK'));
await step('quote', () => purchases.quote({ sku: 'gems-100', quantity: 1 }));
await step('catalogue', () => relay.catalogue('HKD'));
await step('confirm', () => purchases.confirm({ purchaseIntentId: crypto.randomUUID() }));
await step('health', async () => ({ error: await vault.health() }));
client.dispose();
process.stdout.write(`${JSON.stringify({ out, written: secrets.written.length, logs: log.lines.map((l) => JSON.stringify(l)) })}\n`);
process.exit(0);
