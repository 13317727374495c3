import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isErrorCode } from '@scan-to-bind/shared/domain';
import { forbiddenStrings } from '../invariants.ts';
import type { Row, RowContext } from '../matrix.ts';
import { bindWallet } from './helpers.ts';

const exec = promisify(execFile);

/** Every file under `dir` (the probe's pending store, the keyring's XDG folders). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) out.push(...filesUnder(p));
    else if (st?.isFile()) out.push(p);
  }
  return out;
}

/** A private session bus and a gnome-keyring unlocked with "x", in fresh XDG folders under `dir`. */
async function privateKeyring(dir: string, started: ChildProcess[]): Promise<NodeJS.ProcessEnv> {
  const xdg = { XDG_DATA_HOME: join(dir, 'd'), XDG_RUNTIME_DIR: join(dir, 'r'), XDG_CACHE_HOME: join(dir, 'c'), XDG_CONFIG_HOME: join(dir, 'g') };
  for (const p of Object.values(xdg)) mkdirSync(p, { mode: 0o700 });
  const bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { env: { ...process.env, ...xdg }, stdio: ['ignore', 'pipe', 'ignore'] });
  started.push(bus);
  const address = await new Promise<string>((resolve, reject) => {
    bus.stdout?.once('data', (b: Buffer) => resolve(b.toString().trim()));
    bus.once('error', reject);
  });
  const env = { ...process.env, ...xdg, DBUS_SESSION_BUS_ADDRESS: address };
  await exec('sh', ['-c', 'printf x | gnome-keyring-daemon --unlock --components=secrets >/dev/null'], { env });
  return env;
}

interface ProbeOut {
  out: Record<string, { answer: string; ms: number; detail?: string }>;
  written: number;
  logs: string[];
}

/** Runs chaos/keychain-probe.ts for the stack's kiosk with `env`; records its calls (invariant 5). */
async function probe(ctx: RowContext, mode: 'lock' | 'absent', env: NodeJS.ProcessEnv, dir: string): Promise<ProbeOut> {
  const input = join(dir, 'input.json');
  const k = ctx.stack.kiosk;
  writeFileSync(input, JSON.stringify({ relayUrl: ctx.stack.relay.url, deviceId: k.creds.deviceId, deviceSecret: k.creds.deviceSecret, dir }), { mode: 0o600 });
  const script = fileURLToPath(new URL('../keychain-probe.ts', import.meta.url));
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', script, mode, input], { env, timeout: 30_000 });
  // The input file holds the device secret on purpose (the test's own hand-over): not scanned.
  rmSync(input);
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ProbeOut;
  for (const [label, r] of Object.entries(result.out)) {
    if (label === 'locked' || label === 'health') continue;
    ctx.calls.calls.push({
      label: `${mode}: ${label}`,
      deadlineMs: 10_000,
      ms: r.ms,
      outcome: r.answer === 'ok' ? 'value' : isErrorCode(r.answer) ? 'typed-error' : 'untyped-error',
      detail: `${r.answer} ${r.detail ?? ''}`,
    });
  }
  ctx.payloads.push(...result.logs, ...Object.values(result.out).map((r) => r.detail ?? ''));
  return result;
}

/** The keychain rows: locked after the credential was stored, and no Secret Service at all. */
function keychainRow(mode: 'lock' | 'absent'): Row {
  const code = mode === 'lock' ? 'KEYCHAIN_LOCKED' : 'KEYCHAIN_UNAVAILABLE';
  return {
    name: mode === 'lock' ? 'keychain locked' : 'keychain absent',
    family: 'keychain',
    async run(ctx) {
      // A bound wallet at the relay: a client that could sign could debit it.
      await bindWallet(ctx.stack.kiosk);
      const dir = mkdtempSync(join(tmpdir(), `chaos-kc-${mode}-`));
      const started: ChildProcess[] = [];
      try {
        let env: NodeJS.ProcessEnv;
        if (mode === 'lock') {
          env = await privateKeyring(dir, started);
        } else {
          env = { ...process.env };
          delete env['DBUS_SESSION_BUS_ADDRESS'];
        }
        const r = await probe(ctx, mode, env, dir);
        const o = r.out;
        const summary = JSON.stringify(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.answer])));
        if (mode === 'lock') {
          ctx.expect(o['store credential']?.answer === 'ok' && o['locked']?.answer === '1', `keychain not locked: ${summary}`);
        } else {
          ctx.expect(o['store credential']?.answer === code, `storing the credential: ${summary}`);
        }
        // confirm without a quote it could make: NOT_FOUND, typed, nothing sent.
        ctx.expect(o['confirm']?.answer === 'NOT_FOUND', `confirm: ${summary}`);
        for (const call of ['restore', 'bind start', 'catalogue', 'quote']) {
          // quote/confirm: the client knows of no binding it could read, so it says why: the keychain.
          ctx.expect(o[call]?.answer === code, `${call}: expected ${code}, got ${o[call]?.answer} (${o[call]?.detail}) — ${summary}`);
        }
        ctx.expect(o['health']?.answer === (mode === 'lock' ? 'locked' : 'unavailable'), `vault health: ${summary}`);
        // Nothing in plaintext: no device secret, token or account id in any file the client or the keyring wrote.
        const secrets = [...forbiddenStrings(ctx.stack), ctx.stack.kiosk.creds.deviceSecret];
        for (const f of filesUnder(dir)) {
          const text = readFileSync(f).toString('latin1');
          const hit = secrets.find((s) => text.includes(s));
          ctx.expect(!hit, `${f} holds a secret in plaintext (${hit?.slice(0, 4)}…)`);
        }
        const purchases = await ctx.stack.store.db.selectFrom('purchases').select('intent_id').execute();
        const sb = ((await ctx.stack.admin('GET', '/state')).body['payments'] as unknown[] | undefined) ?? [];
        ctx.expect(purchases.length === 0 && sb.length === 0, `a payment happened: ${purchases.length} purchases, ${sb.length} sandbox payments`);
      } finally {
        for (const p of started) p.kill();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export const keychainRows: Row[] = [keychainRow('lock'), keychainRow('absent')];
