import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NO_ELECTRON_MESSAGE } from '../../../scripts/electron-binary.ts';
import { signClientRequest } from '../../../relay/src/devices/client-signature.ts';

// `npm start` as a user runs it: the real script, sandbox and relay on loopback, then stopped.
const root = resolve(import.meta.dirname, '../../..');
const dataDir = mkdtempSync(join(tmpdir(), 'stb-start-'));
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

function startScript(args: string[]): { proc: ChildProcess; output: () => string; ready: Promise<string> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', ...args], { cwd: root, env: { ...process.env } });
  let out = '';
  const ready = new Promise<string>((resolveReady, reject) => {
    const onData = (b: Buffer) => {
      out += b.toString();
      if (/^ready:/m.test(out)) resolveReady(out);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`exited ${code} before ready:\n${out}`)));
  });
  return { proc, output: () => out, ready };
}

const handover = join(dataDir, 'app', 'handover.json');
/** A handover an earlier run left behind (the app never started to read and delete it). */
function leaveStaleHandover(): void {
  mkdirSync(join(dataDir, 'app'), { recursive: true, mode: 0o700 });
  writeFileSync(handover, JSON.stringify({ relayUrl: 'http://127.0.0.1:1', enrollCode: 'STALE-CODE' }), { mode: 0o600 });
}

describe('npm start', () => {
  it('--no-app: starts sandbox and relay, prints an enrolment code, writes no handover, and stops cleanly', async () => {
    leaveStaleHandover();
    const run = startScript(['--data-dir', dataDir, '--sandbox-port', '0', '--relay-port', '0', '--no-app']);
    child = run.proc;
    const out = await run.ready;
    expect(out).not.toContain(NO_ELECTRON_MESSAGE);
    // The handover (enrolment code, player assertion) is written only for an app that starts,
    // and the app deletes it once read; a stale one is gone (issue 14).
    expect(existsSync(handover)).toBe(false);

    const relayUrl = /relay: (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    const code = /enrolment code for this PC: (\S+)/.exec(out)?.[1];
    const sandboxUrl = /sandbox \(Antom \+ wallet pages\): (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(relayUrl && code && sandboxUrl).toBeTruthy();

    const studioMatch = /demo studio \(player assertions\): (http:\/\/127\.0\.0\.1:\d+\/player-assertion) {2}token: (\S+)/.exec(out);
    expect(studioMatch).toBeTruthy();
    const studio = { url: studioMatch?.[1] as string, token: studioMatch?.[2] as string };

    const key = await fetch(`${sandboxUrl}/sandbox/public-key.pem`);
    expect(await key.text()).toContain('BEGIN PUBLIC KEY');
    const enrolled = await fetch(`${relayUrl}/v1/devices/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, label: 'test' }),
    });
    expect(enrolled.status).toBe(201);
    const device = (await enrolled.json()) as { deviceId: string; deviceSecret: string; kind: string };
    expect(device).toMatchObject({ kind: 'launcher' });
    // The demo studio mints a fresh token for the enrolled device on every ask (the app asks per
    // request), pinned to it and short-lived, which the relay accepts on a signed request.
    const ask = (token: string) =>
      fetch(studio.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ deviceId: device.deviceId }),
      });
    expect((await ask('wrong-token-wrong-token')).status).toBe(401);
    const minted = await ask(studio.token);
    expect(minted.status).toBe(200);
    const { assertion } = (await minted.json()) as { assertion: string };
    const claims = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as { did: string; iat: number; exp: number };
    expect(claims.did).toBe(device.deviceId);
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(900);
    const timestamp = String(Date.now());
    const nonce = randomBytes(16).toString('base64url');
    const signature = signClientRequest(device.deviceSecret, {
      method: 'GET',
      pathWithQuery: '/v1/wallets',
      timestamp,
      nonce,
      body: '',
      playerAssertion: assertion,
    });
    const wallets = await fetch(`${relayUrl}/v1/wallets`, {
      headers: { 'x-device-id': device.deviceId, 'x-timestamp': timestamp, 'x-nonce': nonce, 'x-signature': signature, 'x-player-assertion': assertion },
    });
    expect(wallets.status).toBe(200);
    const again = await fetch(`${relayUrl}/v1/devices/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
    expect(again.status).toBeGreaterThanOrEqual(400);

    const exited = new Promise<number | null>((r) => run.proc.on('exit', (c) => r(c)));
    run.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Keys made on first start are kept, private, for the next start.
    expect(statSync(join(dataDir, 'dev-secrets.json')).mode & 0o777).toBe(0o600);
  });

  it('without Electron (or with --preview) serves the browser preview: the real services behind a per-run secret', async () => {
    leaveStaleHandover();
    const run = startScript(['--data-dir', dataDir, '--sandbox-port', '0', '--relay-port', '0', '--preview', '--no-browser', '--mode', 'kiosk']);
    child = run.proc;
    const out = await run.ready;
    expect(out).toContain('ready: preview running');
    // The preview is not the app: no handover file is written, a stale one is gone.
    expect(existsSync(handover)).toBe(false);
    const enter = /browser preview \(kiosk\): (http:\/\/127\.0\.0\.1:\d+)\/__bridge\/enter\?k=(\S+)/.exec(out);
    expect(enter, out).toBeTruthy();
    const [origin, secret] = [enter?.[1] as string, enter?.[2] as string];

    // Nothing of main answers without the run's secret; the enter address trades it for an HttpOnly cookie.
    expect((await fetch(`${origin}/__bridge/invoke/app%3Ainfo`, { method: 'POST' })).status).toBe(403);
    expect((await fetch(`${origin}/__bridge/enter?k=${'x'.repeat(secret.length)}`, { redirect: 'manual' })).status).toBe(403);
    const entered = await fetch(`${origin}/__bridge/enter?k=${secret}`, { redirect: 'manual' });
    expect(entered.status).toBe(303);
    expect(entered.headers.get('location')).toBe('/#/kiosk');
    expect(entered.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    const cookie = entered.headers.get('set-cookie')?.split(';')[0] as string;
    const info = await fetch(`${origin}/__bridge/invoke/app%3Ainfo`, { method: 'POST', headers: { cookie } });
    expect(await info.json()).toMatchObject({ ok: true, value: { mode: 'kiosk' } });
    // Enrolled with the printed code by main's own services: the relay's wallets answer through the bridge.
    const wallets = await fetch(`${origin}/__bridge/invoke/wallet%3Alist`, { method: 'POST', headers: { cookie } });
    expect(await wallets.json()).toMatchObject({ ok: true, value: expect.arrayContaining([expect.objectContaining({ wallet: 'ALIPAY_HK' })]) });
    // The page says it is the browser preview, in its title and in a bar at its top.
    const page = await (await fetch(`${origin}/`, { headers: { cookie } })).text();
    expect(page).toMatch(/<title>Browser preview[^<]*· Scan to Bind<\/title>/);
    expect(page).toContain('role="note"');

    const exited = new Promise<number | null>((r) => run.proc.on('exit', (c) => r(c)));
    run.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses a bad flag with a clear message and starts nothing', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--mode', 'fullscreen'], { cwd: root });
    let err = '';
    proc.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    const code = await new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(err).toContain('--mode must be window, overlay or kiosk');
  });
});
