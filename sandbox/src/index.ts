import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { sweepPayments } from './api/payment-rules.ts';
import { SandboxClock } from './core/clock.ts';
import type { SandboxContext } from './core/context.ts';
import { loadOrCreateKeys } from './core/keys.ts';
import { readPublicKey } from './core/signature.ts';
import { StateStore } from './core/state.ts';
import { FaultBook } from './faults/faults.ts';
import { Notifier } from './notify/notifier.ts';
import { buildServer } from './server.ts';

/** How to start the sandbox (fixed interface). */
export interface SandboxOptions {
  /** Listen address; default 127.0.0.1 (0.0.0.0 to reach it from a phone on the LAN). */
  host?: string;
  /** 0 = ephemeral (tests). */
  port?: number;
  /** Keys, state snapshot, reports. */
  dataDir: string;
  /** e.g. 'SANDBOX_5YTEST0000000001'; other client ids → CLIENT_INVALID. */
  clientId: string;
  /** SPKI PEM of the merchant key registered with "Antom". */
  merchantPublicKeyPem: string;
  /** 1 = real notification retry schedule; e.g. 0.001 in tests. */
  notifyTimeScale?: number;
  /** Bearer token of the admin API; generated (and printed by the CLI) when absent. */
  adminToken?: string;
  /** Base URL put into QR code values (LAN address for a real phone); default the listen URL. */
  publicBaseUrl?: string;
  /** Fixed provider delay added to pay (benchmarks); default 0. */
  paymentDelayMs?: number;
}

/** A started sandbox (fixed interface). */
export interface RunningSandbox {
  /** http://127.0.0.1:PORT */
  url: string;
  clientId: string;
  /** Sandbox ("Antom") public key, SPKI PEM. */
  publicKeyPem: string;
  adminToken: string;
  close(): Promise<void>;
}

/** Starts the Antom sandbox: keys and state from the data dir, then the HTTP server. */
export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  if (!options.clientId) throw new Error('clientId is required');
  const merchantKey = readPublicKey(options.merchantPublicKeyPem);
  if (merchantKey.asymmetricKeyType !== 'rsa') throw new Error('the merchant public key must be an RSA key');
  mkdirSync(options.dataDir, { recursive: true });
  const keys = loadOrCreateKeys(options.dataDir);
  const paymentDelayMs = options.paymentDelayMs ?? 0;
  const store = new StateStore(options.dataDir, paymentDelayMs);
  if (options.paymentDelayMs !== undefined) store.state.settings.paymentDelayMs = paymentDelayMs;
  const clock = new SandboxClock(store.state.clockOffsetMs);
  const faults = new FaultBook();
  const notifyTimeScale = options.notifyTimeScale ?? 1;
  if (!(notifyTimeScale > 0)) throw new Error('notifyTimeScale must be positive');
  const notifier = new Notifier({ store, clock, keys, clientId: options.clientId, timeScale: notifyTimeScale, faults });
  const adminToken = options.adminToken ?? randomBytes(24).toString('base64url');
  const host = options.host ?? '127.0.0.1';
  const ctx: SandboxContext = {
    clientId: options.clientId,
    dataDir: options.dataDir,
    store,
    clock,
    keys,
    merchantKey,
    notifier,
    faults,
    adminToken,
    defaultPaymentDelayMs: paymentDelayMs,
    publicBaseUrl: '',
    requestLog: [],
    holds: new Set(),
  };
  const app = buildServer(ctx);
  await app.listen({ host, port: options.port ?? 8081 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 8081);
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  ctx.publicBaseUrl = (options.publicBaseUrl ?? url).replace(/\/+$/, '');
  const sweeper = setInterval(() => sweepPayments(ctx), 250);
  sweeper.unref();
  notifier.pump();
  let closed = false;
  return {
    url,
    clientId: options.clientId,
    publicKeyPem: keys.publicKeyPem,
    adminToken,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      notifier.stop();
      for (const release of [...ctx.holds]) release();
      await app.close();
      store.flush();
    },
  };
}
