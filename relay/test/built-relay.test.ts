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
 * with NODE_ENV=production (no TypeScript loader), against a fresh PostgreSQL database it
 * migrates itself; one kiosk enrols through the compiled CLI, binds and pays.
 */
const relayDir = resolve(import.meta.dirname, '..');
const pg = postgresPart();

describe.skipIf(!pg.available)('the compiled relay (relay/dist) in production mode', () => {
  let db: TestDatabase;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let child: ChildProcess | undefined;
  let url = '';
  const dir = mkdtempSync(join(tmpdir(), 'stb-built-relay-'));
  const configFile = join(dir, 'relay.json');
  const cli = join(relayDir, 'dist', 'cli.js');

  beforeAll(async () => {
    execFileSync(
      process.execPath,
      [resolve(relayDir, '..', 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(relayDir, 'vite.config.ts'), '--logLevel', 'warn'],
      { stdio: 'inherit' },
    );
    expect(existsSync(cli)).toBe(true);
    db = await createTestDatabase('postgres');
    const merchant = rsaKeys();
    sandbox = await startSandbox({
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
    const proc = spawn(process.execPath, [cli, '--config', configFile], { env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let out = '';
    url = await new Promise<string>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`compiled relay did not start:\n${out}`)), 30_000);
      const onData = (b: Buffer) => {
        out += b.toString('utf8');
        const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"relay started"/u.exec(out);
        if (m) {
          clearTimeout(timer);
          ready(m[1] as string);
        }
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      proc.once('exit', (code) => fail(new Error(`compiled relay exited ${code}:\n${out}`)));
    });
  });
  afterAll(async () => {
    child?.kill('SIGTERM');
    await sandbox?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs without tsx: the bundle imports only Node built-ins, its npm dependencies and itself', () => {
    const imports = [...readFileSync(join(relayDir, 'dist', 'index.js'), 'utf8').matchAll(/^import .* from "([^"]+)";$/gmu)].map((m) => m[1] as string);
    const deps = Object.keys((JSON.parse(readFileSync(join(relayDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
    for (const spec of imports)
      expect(spec.startsWith('node:') || spec.startsWith('./') || deps.some((d) => spec === d || spec.startsWith(`${d}/`))).toBe(true);
    expect(imports.some((s) => s.includes('tsx') || s.includes('@scan-to-bind/'))).toBe(false);
  });

  it('migrates a fresh PostgreSQL database and serves an enrolment, a bind and a pay', async () => {
    const minted = spawnSync(process.execPath, [cli, 'enroll', '--label', 'Built kiosk', '--kind', 'kiosk', '--config', configFile], {
      env: { ...process.env, NODE_ENV: 'production' },
      encoding: 'utf8',
    });
    expect(minted.status, minted.stderr).toBe(0);
    const code = /Enrolment code for "Built kiosk" \(kiosk\): (\S+)/u.exec(minted.stdout)?.[1] as string;
    expect(code).toBeTruthy();
    const device = new TestDevice(url, await enroll(url, code), undefined, () => Date.now());
    const bindingId = await bind(device, 'ALIPAY_HK');
    const paid = await device.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ state: 'SUCCEEDED', total: { currency: 'HKD', minor: 1200 } });
  });
});
