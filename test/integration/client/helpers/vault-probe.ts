/*
 * Runs in a child process on its own D-Bus session (libsecret binds to the bus of the process
 * on first use), so locking its keyring cannot disturb other tests. Prints one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { createKeytarSecretStore } from '../../../../main/adapters/secret-store.keytar.ts';
import { Vault } from '../../../../main/services/vault.ts';

const LOCK_PY = `
import dbus
bus = dbus.SessionBus()
svc = dbus.Interface(bus.get_object('org.freedesktop.secrets', '/org/freedesktop/secrets'), 'org.freedesktop.Secret.Service')
locked, prompt = svc.Lock([dbus.ObjectPath('/org/freedesktop/secrets/aliases/default')])
print(len(locked))
`;

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

const vault = new Vault(createKeytarSecretStore());
const cred = { relayUrl: 'http://127.0.0.1:8787', deviceId: 'dev_probe', deviceSecret: 'p'.repeat(43), kind: 'kiosk' as const };
const out: Record<string, unknown> = {};
if (process.argv[2] === 'lock') {
  out.before = await code(vault.setDeviceCredential(cred));
  out.lockedCount = execFileSync('/usr/bin/python3', ['-c', LOCK_PY], { encoding: 'utf8' }).trim();
  out.read = await code(vault.deviceCredential());
  out.write = await code(vault.setBindingRef('player', 'bnd_abcdefgh'));
  out.health = await vault.health();
} else {
  out.read = await code(vault.deviceCredential());
  out.health = await vault.health();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
