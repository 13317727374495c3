import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../sandbox/src/index.ts';
import { enroll, TestDevice } from './support/client.ts';
import { createTestDatabase, rsaKeys, type TestDatabase, testConfig, uuid } from './support/env.ts';
import { postgresPart } from '../../test/support/real-parts.ts';
import { bind } from './support/stack.ts';

/*
 * The relay as production runs it: compiled by `npm run build` (relay/dist), started by plain Node
 * with NODE_ENV=production (no TypeScript loader), against a fresh database it migrates itself
 * (PostgreSQL, and SQLite with its checkpoint worker); one kiosk enrols through the compiled CLI,
 * binds and pays.
 */
const relayDir = resolve(import.meta.dirname, '..');
const cli = join(relayDir, 'dist', 'cli.js');
const pg = postgresPart();

beforeAll(() => {
  execFileSync(
    process.execPath,
    [resolve(relayDir, '..', 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(relayDir, 'vite.config.ts'), '--logLevel', 'warn'],
    { stdio: 'inherit' },
  );
  expect(existsSync(cli)).toBe(true);
});

/** The compiled relay on `engine`, with a sandbox for Antom; `close` stops both and drops the database. */
async function startBuiltRelay(engine: 'sqlite' | 'postgres') {
  const dir = mkdtempSync(join(tmpdir(), 'stb-built-relay-'));
  const configFile = join(dir, 'relay.json');
  const db: TestDatabase = await createTestDatabase(engine);
  const merchant = rsaKeys();
  const sandbox = await startSandbox({
    port: 0,
    dataDir: join(dir, 'sandbox'),
    clientId: 'SANDBOX_5YTEST0000000001',
    merchantPublicKeyPem: merchant.publicKeyPem,
    notifyTimeScale: 0.001,
  });
  const config = testConfig({
    db,
    antomBaseUrl: sandbox.url,
    clientId: 'SANDBOX_5YTEST0000000001',
    merchantPrivateKeyPem: merchant.privateKeyPem,
    antomPublicKeyPem: sandbox.publicKeyPem,
  });
  writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
  const child: ChildProcess = spawn(process.execPath, [cli, '--config', configFile], {
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const started = await new Promise<{ url: string; adminUrl: string }>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`compiled relay did not start:\n${out}`)), 30_000);
    const onData = (b: Buffer) => {
      out += b.toString('utf8');
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)","adminUrl":"(http:\/\/[^"]+)"[^\n]*"relay started"/u.exec(out);
      if (m) {
        clearTimeout(timer);
        ready({ url: m[1] as string, adminUrl: m[2] as string });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => fail(new Error(`compiled relay exited ${code}:\n${out}`)));
  });
  return {
    ...started,
    configFile,
    /** Everything the relay wrote to stdout and stderr so far. */
    output: () => out,
    async close() {
      child.kill('SIGTERM');
      await sandbox.close();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Enrols a kiosk through the compiled CLI, binds it and pays once: the answer must be a success. */
async function enrolBindAndPay(relay: Awaited<ReturnType<typeof startBuiltRelay>>): Promise<void> {
  const minted = spawnSync(process.execPath, [cli, 'enroll', '--label', 'Built kiosk', '--kind', 'kiosk', '--config', relay.configFile], {
    env: { ...process.env, NODE_ENV: 'production' },
    encoding: 'utf8',
  });
  expect(minted.status, minted.stderr).toBe(0);
  const code = /Enrolment code for "Built kiosk" \(kiosk\): (\S+)/u.exec(minted.stdout)?.[1] as string;
  expect(code).toBeTruthy();
  const device = new TestDevice(relay.url, await enroll(relay.url, code), undefined, () => Date.now());
  const bindingId = await bind(device, 'ALIPAY_HK');
  const paid = await device.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
  expect(paid.status).toBe(200);
  expect(paid.body).toMatchObject({ state: 'SUCCEEDED', total: { currency: 'HKD', minor: 1200 } });
}

/** A gauge's value from the admin listener's /metrics (NaN when absent). */
async function gauge(adminUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'mu').exec(text)?.[1]);
}

describe.skipIf(!pg.available)('the compiled relay (relay/dist) in production mode, on PostgreSQL', () => {
  let relay: Awaited<ReturnType<typeof startBuiltRelay>> | undefined;
  beforeAll(async () => {
    relay = await startBuiltRelay('postgres');
  });
  afterAll(async () => {
    await relay?.close();
  });

  it('runs without tsx: the bundle imports only Node built-ins, its npm dependencies and itself', () => {
    const imports = [...readFileSync(join(relayDir, 'dist', 'index.js'), 'utf8').matchAll(/^import .* from "([^"]+)";$/gmu)].map((m) => m[1] as string);
    const deps = Object.keys((JSON.parse(readFileSync(join(relayDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
    for (const spec of imports)
      expect(spec.startsWith('node:') || spec.startsWith('./') || deps.some((d) => spec === d || spec.startsWith(`${d}/`))).toBe(true);
    expect(imports.some((s) => s.includes('tsx') || s.includes('@scan-to-bind/'))).toBe(false);
  });

  it('migrates a fresh PostgreSQL database and serves an enrolment, a bind and a pay', async () => {
    await enrolBindAndPay(relay as NonNullable<typeof relay>);
  });
});

describe('the compiled relay (relay/dist) in production mode, on SQLite', () => {
  let relay: Awaited<ReturnType<typeof startBuiltRelay>> | undefined;
  beforeAll(async () => {
    relay = await startBuiltRelay('sqlite');
  });
  afterAll(async () => {
    await relay?.close();
  });

  it("serves a pay, and SQLite's checkpoints run on the worker thread as the bundle compiled it", async () => {
    const r = relay as NonNullable<typeof relay>;
    await enrolBindAndPay(r);
    // The worker's source is its function's text as vite compiled it: had that text failed in
    // the worker, the relay would have fallen back to SQLite's own checkpoints (running 0, warned).
    expect(await gauge(r.adminUrl, 'relay_sqlite_checkpoint_worker_running')).toBe(1);
    // The worker's slow timer (1 s) checkpoints the pay's commits without any nudge.
    const deadline = Date.now() + 10_000;
    while (!((await gauge(r.adminUrl, 'relay_sqlite_checkpoints_worker')) > 0)) {
      if (Date.now() > deadline) throw new Error(`the worker never checkpointed:\n${r.output()}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(await gauge(r.adminUrl, 'relay_sqlite_checkpoints_on_loop')).toBe(0);
    expect(r.output()).not.toContain('the checkpoint worker stopped');
  });
});
