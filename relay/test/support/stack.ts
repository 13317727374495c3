import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startSandbox } from '@scan-to-bind/sandbox/src/index.ts';
import { type OffsetClock, offsetClock } from '../../src/clock.ts';
import type { RelayConfigInput } from '../../src/config.ts';
import { signPlayerAssertion } from '../../src/devices/player-assertion.ts';
import { type Relay, startRelay } from '../../src/index.ts';
import { signatureHeader, signBase64, signContent } from '../../src/antom/signature.ts';
import { CONTRACT_VIOLATION } from '../../src/http/response-contract.ts';
import type { SyncFile } from '../../src/store/wal-barrier.ts';
import { enroll, type JsonResponse, send, TestDevice } from './client.ts';
import { createTestDatabase, rsaKeys, type TestDatabase, testConfig } from './env.ts';

/** The sandbox, a relay on one engine, and two enrolled devices (a kiosk and a launcher). */
export interface Stack {
  relay: Relay;
  sandboxUrl: string;
  clock: OffsetClock;
  db: TestDatabase;
  kiosk: TestDevice;
  launcher: TestDevice;
  /** The relay's config (to start a second relay on the same database). */
  config: RelayConfigInput;
  /** The sandbox's ("Antom's") private key, to sign notifications by hand. */
  antomPrivateKey: KeyObject;
  /** The sandbox's state file as written (unmasked: authCodes, tokens, notification bodies). */
  sandboxState(): Record<string, unknown>;
  /** Every JSON log line the relay wrote. */
  logs: string[];
  /**
   * Answers and events the relay sent outside the shared/relay-api contract so far (their log
   * lines); close() fails when any is left, so every flow test checks every answer it caused.
   * A test that provokes one on purpose takes it out of `logs`.
   */
  contractViolations(): string[];
  /** Secrets the log scan must never find. */
  secrets: { merchantPrivateKeyPem: string; encryptionKey: string; studioPrivateKey: KeyObject };
  admin(method: string, path: string, body?: unknown): Promise<JsonResponse>;
  /**
   * A studio assertion for `player`, minted now on the stack clock: pinned (`did`) to the stack's
   * launcher unless another device id is given, or to none with `null`; `ttlSeconds` default 600.
   */
  assertion(player: string, deviceId?: string | null, ttlSeconds?: number): string;
  close(): Promise<void>;
}

/** Stack settings that are not a whole relay config section. */
export interface StackOptions {
  /**
   * The relay's Antom call timeout (default 2 s). Unlike an `antom` override, it keeps the
   * sandbox URL, client id and keys the stack wires up.
   */
  antomTimeoutMs?: number;
  /**
   * Puts something between the relay and the sandbox (a man in the middle): called with the
   * sandbox URL, it returns the URL the relay calls as Antom, and is closed with the stack.
   */
  interpose?: (sandboxUrl: string) => Promise<{ url: string; close(): Promise<void> }>;
  /** SQLite: the relay's WAL flush (startRelay's `walSync`), to count, hold or fail flushes. */
  walSync?: SyncFile;
  /** The relay's worker off (startRelay's `manualWorker`): on PostgreSQL it then never contends for the worker lock. */
  manualWorker?: boolean;
}

/** Starts sandbox + relay (+ devices) for one test file. */
export async function startStack(engine: 'sqlite' | 'postgres', overrides: Partial<RelayConfigInput> = {}, options: StackOptions = {}): Promise<Stack> {
  const db = await createTestDatabase(engine);
  const merchant = rsaKeys();
  const sandboxDir = mkdtempSync(join(tmpdir(), 'relay-sbx-'));
  const clientId = 'SANDBOX_5YTEST0000000001';
  const sandbox = await startSandbox({
    port: 0,
    dataDir: sandboxDir,
    clientId,
    merchantPublicKeyPem: merchant.publicKeyPem,
    notifyTimeScale: 0.001,
    adminToken: 'test-admin-token',
  });
  const between = options.interpose ? await options.interpose(sandbox.url) : undefined;
  const studio = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const clock = offsetClock();
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const config = testConfig({
    db,
    antomBaseUrl: between?.url ?? sandbox.url,
    clientId,
    merchantPrivateKeyPem: merchant.privateKeyPem,
    antomPublicKeyPem: sandbox.publicKeyPem,
    studioPublicKeyPem: studio.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ...(options.antomTimeoutMs === undefined ? {} : { antomTimeoutMs: options.antomTimeoutMs }),
    overrides,
  });
  const relay = await startRelay(config, {
    clock,
    logDestination: destination,
    ...(options.walSync ? { walSync: options.walSync } : {}),
    ...(options.manualWorker ? { manualWorker: true } : {}),
  });
  const kioskCode = await relay.devices.createEnrollmentCode({ label: 'Kiosk 12', kind: 'kiosk', lifetimeMs: 86_400_000 });
  const launcherCode = await relay.devices.createEnrollmentCode({ label: 'Launcher', kind: 'launcher', lifetimeMs: 86_400_000 });
  const kioskCreds = await enroll(relay.url, kioskCode.code);
  const launcherCreds = await enroll(relay.url, launcherCode.code);
  const assertion = (player: string, deviceId: string | null = launcherCreds.deviceId, ttlSeconds = 600): string =>
    signPlayerAssertion(
      studio.privateKey,
      { iss: 'https://studio.example', aud: 'scan-to-bind-relay', sub: player, ttlSeconds, ...(deviceId ? { did: deviceId } : {}) },
      { alg: 'ES256', now: clock.now() },
    );
  // The launcher's studio mints a fresh, short-lived, device-pinned token for each request, so
  // a test that moves the clock past the assertion lifetime keeps a signed-in player.
  const launcher = new TestDevice(
    relay.url,
    launcherCreds,
    () => assertion('demo-1'),
    () => clock.now(),
  );
  const kiosk = new TestDevice(relay.url, kioskCreds, undefined, () => clock.now());
  return {
    relay,
    sandboxUrl: sandbox.url,
    clock,
    db,
    kiosk,
    launcher,
    config,
    antomPrivateKey: createPrivateKey(readFileSync(join(sandboxDir, 'antom-private-key.pem'), 'utf8')),
    sandboxState: () => JSON.parse(readFileSync(join(sandboxDir, 'state.json'), 'utf8')) as Record<string, unknown>,
    logs,
    contractViolations: () => logs.filter((l) => l.includes(CONTRACT_VIOLATION)),
    secrets: {
      merchantPrivateKeyPem: merchant.privateKeyPem,
      encryptionKey: (config.encryption as { keys: Record<string, string> }).keys['k1'] ?? '',
      studioPrivateKey: studio.privateKey,
    },
    assertion,
    async admin(method, path, body) {
      const res = await fetch(`${sandbox.url}/__admin${path}`, {
        method,
        headers: { authorization: `Bearer ${sandbox.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
    async close() {
      const violations = logs.filter((l) => l.includes(CONTRACT_VIOLATION));
      await relay.close();
      await between?.close();
      await sandbox.close();
      await db.drop();
      rmSync(sandboxDir, { recursive: true, force: true });
      if (violations.length > 0) throw new Error(`the relay answered outside its contract:\n${violations.join('\n')}`);
    },
  };
}

/** Posts a notification to a relay as Antom would, signed with the sandbox's ("Antom's") key. */
export function notifyRelay(s: Stack, relayUrl: string, path: string, body: string, requestTime: string): Promise<JsonResponse> {
  const clientId = s.relay.config.antom.clientId;
  return send(relayUrl, 'POST', path, body, {
    'content-type': 'application/json',
    'client-id': clientId,
    'request-time': requestTime,
    signature: signatureHeader('1', signBase64(s.antomPrivateKey, signContent('POST', path, clientId, requestTime, body))),
  });
}

/** The phone: scans the code and approves in the wallet app (sandbox wallet page). */
export async function approveOnPhone(codeValue: string, account?: string): Promise<number> {
  const res = await fetch(`${codeValue}/authorize`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: JSON.stringify(account ? { account } : {}),
  });
  await res.text();
  return res.status;
}

/** Polls until the check returns a value (test-side only; the relay itself never polls like this). */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

/**
 * `p`, or an error naming `step` when it has not settled within `ms`: a test whose awaits are
 * labelled says where it is stuck instead of running into vitest's timeout, which names none.
 */
export async function within<T>(step: string, p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stuck at: ${step} (${ms} ms)`)), ms);
  });
  try {
    return await Promise.race([p, stuck]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until a device sees its purchase in `state`; returns the status. */
export async function purchaseState(device: TestDevice, intent: string, state: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  return waitFor(
    async () => {
      const r = await device.request('GET', `/v1/purchases/${intent}`);
      return r.body['state'] === state ? r.body : undefined;
    },
    timeoutMs,
    `purchase ${state}`,
  );
}

/** Waits until a device sees its binding in `state`; returns the status. */
export async function bindingState(device: TestDevice, bindingId: string, state: string, what = `binding ${state}`): Promise<Record<string, unknown>> {
  return waitFor(
    async () => {
      const r = await device.request('GET', `/v1/bindings/${bindingId}`);
      return r.body['state'] === state ? r.body : undefined;
    },
    10_000,
    what,
  );
}

/** Binds a wallet end to end and returns the active binding id. */
export async function bind(device: TestDevice, wallet: 'ALIPAY_HK' | 'DANA', account?: string): Promise<string> {
  const started = await device.request('POST', '/v1/bindings', { wallet });
  if (started.status !== 201) throw new Error(`bind start failed: ${JSON.stringify(started.body)}`);
  const { bindingId, codeValue } = started.body as { bindingId: string; codeValue: string };
  const approved = await approveOnPhone(codeValue, account);
  if (approved >= 300) throw new Error(`phone approval failed: ${approved}`);
  await bindingState(device, bindingId, 'ACTIVE');
  return bindingId;
}

/** Counts a relay's worker passes (`Worker.tick`: timed and kicked alike) from now on. */
export function countPasses(r: Relay): () => number {
  let n = 0;
  const tick = r.worker.tick.bind(r.worker);
  r.worker.tick = () => {
    n += 1;
    return tick();
  };
  return () => n;
}
