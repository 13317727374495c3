import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { RelayConfigInput } from '../relay/src/config.ts';
import { type Relay, startRelay } from '../relay/src/index.ts';
import { seedState } from '../sandbox/src/core/state.ts';
import { type RunningSandbox, startSandbox } from '../sandbox/src/index.ts';

/**
 * The servers under test, one role per process: `node --import tsx bench/servers.ts sandbox|relay`.
 * The bench (another process) drives them over IPC; load comes from the bench over loopback.
 *
 * The relay role measures server-side added latency itself: every HTTP request runs inside an
 * AsyncLocalStorage context opened when Node hands the parsed request to the server ('request'
 * event) and closed when the last byte of the answer is written ('finish'); the relay's own
 * Antom-call hook (the one feeding relay_antom_call_duration_seconds) adds each provider call's
 * duration to the context, and added = total − provider time. Nothing in relay/ changes for it.
 */

type Msg = { id: number; cmd: string; [k: string]: unknown };
const reply = (id: number, value: unknown): void => void process.send?.({ id, value });
const role = process.argv[2];

/** Bench diagnostics (`npm run bench:profile`): a CPU profile of this server over `ms` milliseconds. */
async function cpuProfile(ms: number): Promise<unknown> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  await new Promise((r) => setTimeout(r, ms));
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  return profile;
}

interface Sample {
  route: string;
  status: number;
  totalMs: number;
  antomMs: number;
  attributed: boolean;
}

async function sandboxRole(): Promise<void> {
  let sandbox: RunningSandbox | undefined;
  let dir = '';
  process.on('message', async (m: Msg) => {
    try {
      if (m.cmd === 'start') {
        dir = mkdtempSync(join(tmpdir(), 'bench-sbx-'));
        // The sandbox seeds two AlipayHK accounts and its admin API cannot create more: the bench
        // writes the initial state file with one extra account per device (bench#N), so that no
        // two devices pay from the same wallet account (see docs/benchmarks.md, #2).
        const extra = (m['accounts'] as string[] | undefined) ?? [];
        if (extra.length) {
          const state = seedState(m['paymentDelayMs'] as number);
          for (const [i, loginId] of extra.entries()) {
            state.accounts.push({
              loginId,
              wallet: 'ALIPAY_HK',
              userId: `21601200009${String(i).padStart(5, '0')}`,
              displayName: `Bench ${i}`,
              balance: 0,
              isDefault: false,
            });
          }
          writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
        }
        sandbox = await startSandbox({
          port: 0,
          dataDir: dir,
          clientId: m['clientId'] as string,
          merchantPublicKeyPem: m['merchantPublicKeyPem'] as string,
          notifyTimeScale: 0.001,
          adminToken: 'bench-admin-token-0123456789',
          paymentDelayMs: m['paymentDelayMs'] as number,
        });
        reply(m.id, { url: sandbox.url, publicKeyPem: sandbox.publicKeyPem, adminToken: sandbox.adminToken });
      } else if (m.cmd === 'usage') {
        reply(m.id, { cpu: process.cpuUsage(), rss: process.memoryUsage().rss });
      } else if (m.cmd === 'profile') {
        reply(m.id, await cpuProfile(m['ms'] as number));
      } else if (m.cmd === 'close') {
        await sandbox?.close();
        rmSync(dir, { recursive: true, force: true });
        reply(m.id, true);
        setImmediate(() => process.exit(0));
      }
    } catch (err) {
      process.send?.({ id: m.id, error: String((err as Error).stack ?? err) });
    }
  });
  process.send?.({ id: 0, value: 'up' });
}

async function relayRole(): Promise<void> {
  const als = new AsyncLocalStorage<{ antomMs: number }>();
  let samples: Sample[] = [];
  let recording = false;
  // Every request of this process's HTTP server (only the relay listens here) gets a context.
  const emit = Server.prototype.emit;
  Server.prototype.emit = function patched(this: Server, event: string, ...args: unknown[]): boolean {
    if (event !== 'request' || !recording) return (emit as (this: Server, e: string, ...a: unknown[]) => boolean).call(this, event, ...args);
    const req = args[0] as IncomingMessage;
    const res = args[1] as ServerResponse;
    const t0 = performance.now();
    const ctx = { antomMs: 0, seen: false };
    res.once('finish', () => {
      const route = `${req.method} ${(req.url ?? '').split('?', 1)[0]?.replace(/\/[0-9a-f-]{36}$/u, '/:id')}`;
      samples.push({ route, status: res.statusCode, totalMs: performance.now() - t0, antomMs: ctx.antomMs, attributed: ctx.seen });
    });
    return als.run(ctx, () => (emit as (this: Server, e: string, ...a: unknown[]) => boolean).call(this, event, ...args));
  } as typeof Server.prototype.emit;

  let relay: Relay | undefined;
  let dir = '';
  process.on('message', async (m: Msg) => {
    try {
      if (m.cmd === 'start') {
        dir = mkdtempSync(join(tmpdir(), 'bench-relay-'));
        const config = { ...(m['config'] as RelayConfigInput), dataDir: dir };
        const sink = new Writable({ write: (_c, _e, done) => done() });
        relay = await startRelay(config, { logDestination: sink });
        const observe = relay.metrics.observe.bind(relay.metrics);
        relay.metrics.observe = (name, labels, seconds) => {
          if (name === 'relay_antom_call_duration_seconds') {
            const ctx = als.getStore() as { antomMs: number; seen?: boolean } | undefined;
            if (ctx) {
              ctx.antomMs += seconds * 1000;
              ctx.seen = true;
            }
          }
          observe(name, labels, seconds);
        };
        reply(m.id, { url: relay.url });
      } else if (m.cmd === 'enroll') {
        const codes: string[] = [];
        for (let i = 0; i < (m['count'] as number); i++) {
          const kind = m['kind'] === 'launcher' ? 'launcher' : 'kiosk';
          codes.push((await (relay as Relay).devices.createEnrollmentCode({ label: `bench ${kind} ${i}`, kind, lifetimeMs: 3_600_000 })).code);
        }
        reply(m.id, codes);
      } else if (m.cmd === 'record') {
        if (m['on']) samples = [];
        recording = Boolean(m['on']);
        reply(m.id, true);
      } else if (m.cmd === 'samples') {
        reply(m.id, samples);
        samples = [];
      } else if (m.cmd === 'usage') {
        // A forced GC before the reading, unless asked not to (#9 reads several relays per run:
        // a forced GC each would charge the larger fleets more).
        if (m['gc'] !== false) global.gc?.();
        const flushes = (relay as Relay).store.flushes;
        reply(m.id, {
          cpu: process.cpuUsage(),
          rss: process.memoryUsage().rss,
          heapUsed: process.memoryUsage().heapUsed,
          ...(flushes ? { flushes: { ...flushes } } : {}),
        });
      } else if (m.cmd === 'ledger') {
        const db = (relay as Relay).store.db;
        const rows = await db.selectFrom('purchases').select(['state', 'payment_request_id', 'amount_minor']).execute();
        const byState: Record<string, number> = {};
        for (const r of rows) byState[r.state] = (byState[r.state] ?? 0) + 1;
        reply(m.id, { byState, rows: rows.map((r) => ({ ...r, amount_minor: Number(r.amount_minor) })) });
      } else if (m.cmd === 'profile') {
        reply(m.id, await cpuProfile(m['ms'] as number));
      } else if (m.cmd === 'close') {
        await relay?.close();
        rmSync(dir, { recursive: true, force: true });
        reply(m.id, true);
        setImmediate(() => process.exit(0));
      }
    } catch (err) {
      process.send?.({ id: m.id, error: String((err as Error).stack ?? err) });
    }
  });
  process.send?.({ id: 0, value: 'up' });
}

if (role === 'sandbox') await sandboxRole();
else if (role === 'relay') await relayRole();
else throw new Error('usage: servers.ts sandbox|relay');
// Never outlive the bench.
process.on('disconnect', () => process.exit(0));
