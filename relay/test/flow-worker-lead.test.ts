import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayConfigInput } from '../src/config.ts';
import { type Relay, startRelay } from '../src/index.ts';
import { WORKER_LOCK_KEY } from '../src/store/worker-lead.ts';
import { engines } from './support/env.ts';
import { logLines } from './support/logs.ts';
import { countPasses, type Stack, startStack, waitFor } from './support/stack.ts';
import { sleep } from './support/streams.ts';

/*
 * The worker lock of a relay fleet on one PostgreSQL (store/worker-lead.ts): one process runs
 * the timed worker passes; a holder that hangs while its session stays open (event loop
 * blocked, process stopped) must not stall them for the whole fleet. Its heartbeat goes stale
 * and a contender ends its session and takes over; a holder that is only slow keeps the lock.
 *
 * A hang is made with a TCP proxy between the holder and PostgreSQL that, frozen, moves no
 * byte either way: to the server the holder's sessions stay open and silent, as they do when
 * the process is stopped. The stack's own relay runs no worker, so it never contends.
 */

const pgEngine = engines().find((e) => e.name === 'postgres');
const skip = pgEngine?.skip;
if (skip) console.log(`flow-worker-lead: ${skip}`);

/** The staleness of the relays here (config `worker.leadStaleMs`); they beat every 400 ms. */
const STALE_MS = 2_000;
/** Staleness, plus a contender's retry (2 s), plus room for a busy machine. */
const TAKEOVER_DEADLINE_MS = STALE_MS + 2_000 + 4_000;

/** A TCP proxy to PostgreSQL that can freeze: while frozen it moves no byte and ends no connection. */
async function freezableProxy(target: URL): Promise<{ url: string; freeze(): void; thaw(): void; close(): Promise<void> }> {
  let frozen = false;
  const sockets: net.Socket[] = [];
  const held: (() => void)[] = [];
  /** Ends `other` when `one` ends, at once or (frozen) on thaw. */
  const link = (one: net.Socket, other: net.Socket): void => {
    one.on('data', (chunk) => other.write(chunk));
    const end = (): void => {
      if (frozen) held.push(() => other.destroy());
      else other.destroy();
    };
    one.on('close', end);
    one.on('error', end);
  };
  const server = net.createServer((down) => {
    const up = net.connect(Number(target.port), target.hostname);
    sockets.push(down, up);
    link(down, up);
    link(up, down);
    if (frozen) for (const s of [down, up]) s.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    url: url.toString(),
    freeze() {
      frozen = true;
      for (const s of sockets) s.pause();
    },
    thaw() {
      frozen = false;
      for (const s of sockets) s.resume();
      for (const end of held.splice(0)) end();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe.skipIf(skip !== undefined)('the worker lock of relays on one PostgreSQL', () => {
  let s: Stack;
  const relays: Relay[] = [];
  const logs: string[] = [];
  /** A relay with its own worker (a pass every 50 ms when it leads) on the stack's database, or through `databaseUrl`. */
  const startWorkerRelay = async (databaseUrl?: string): Promise<Relay> => {
    const config: RelayConfigInput = s.config;
    const logDestination = logLines(logs);
    const relay = await startRelay(
      {
        ...config,
        port: 0,
        publicUrl: undefined,
        ...(databaseUrl ? { databaseUrl } : {}),
        worker: { tickMs: 50, leadStaleMs: STALE_MS },
        events: { ...config.events, listenRetryMs: 500 },
      },
      { clock: s.clock, logDestination },
    );
    relays.push(relay);
    await waitFor(async () => relay.changes.listening, 5_000, 'the relay listening');
    return relay;
  };
  const closeRelay = async (r: Relay): Promise<void> => {
    relays.splice(relays.indexOf(r), 1);
    await r.close();
  };

  beforeAll(async () => {
    s = await startStack('postgres', {}, { manualWorker: true });
  });
  afterAll(async () => {
    for (const r of relays) await r.close();
    await s?.close();
  });

  it('a session that holds the lock and never beats is ended, and a relay takes the lock and runs the passes', async () => {
    const squatter = new pg.Client({ connectionString: s.db.databaseUrl });
    const ended = new Promise<void>((resolve) => {
      squatter.on('error', () => resolve());
      squatter.on('end', () => resolve());
    });
    await squatter.connect();
    try {
      const locked = await squatter.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [WORKER_LOCK_KEY]);
      expect(locked.rows[0]?.locked).toBe(true);

      const c = await startWorkerRelay();
      const passes = countPasses(c);
      await waitFor(async () => c.changes.leadsWork, TAKEOVER_DEADLINE_MS, 'the relay to take the lock from the silent session');
      await ended;
      const p0 = passes();
      await sleep(500);
      expect(passes() - p0).toBeGreaterThan(3);
      expect(logs.some((l) => l.includes('worker lock holder stopped beating: ended its session'))).toBe(true);
      await closeRelay(c);
    } finally {
      await squatter.end().catch(() => undefined);
    }
  });

  it('a holder that hangs with its session open is replaced after the staleness; woken, it finds its session gone and stays a contender', async () => {
    const proxy = await freezableProxy(new URL(s.db.databaseUrl as string));
    try {
      const h = await startWorkerRelay(proxy.url);
      await waitFor(async () => h.changes.leadsWork, 5_000, 'the first relay to take the lock');
      const c = await startWorkerRelay();
      const [onH, onC] = [countPasses(h), countPasses(c)];
      await sleep(1_000);
      expect(c.changes.leadsWork).toBe(false);
      expect(onC()).toBe(0);
      expect(onH()).toBeGreaterThan(5);
      const holderPid = h.changes.listenPid;

      proxy.freeze();
      const frozenAt = Date.now();
      await waitFor(async () => c.changes.leadsWork, TAKEOVER_DEADLINE_MS, 'the contender to take the lock from the hung holder');
      // Not before the holder's heartbeat could be stale (its last beat was at most 400 ms before the freeze).
      expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(STALE_MS - 400);
      const c0 = onC();
      await sleep(500);
      expect(onC() - c0).toBeGreaterThan(3);
      // The hung holder (its event loop free here, its database silent) counts itself no leader
      // once its last acknowledged beat is older than the staleness: it runs no timed pass.
      expect(h.changes.leadsWork).toBe(false);
      const h0 = onH();
      await sleep(300);
      expect(onH()).toBe(h0);

      // Woken: its LISTEN session was ended; it reconnects as a contender and the new holder keeps the lock.
      proxy.thaw();
      await waitFor(async () => h.changes.listening && h.changes.listenPid !== holderPid, 10_000, 'the woken relay listening on a new session');
      await sleep(STALE_MS + 500);
      expect([h.changes.leadsWork, c.changes.leadsWork]).toEqual([false, true]);
      await closeRelay(h);
      await closeRelay(c);
    } finally {
      await proxy.close();
    }
  });

  it('a holder whose passes run longer than the staleness keeps the lock: its heartbeat does not wait for them', async () => {
    const h = await startWorkerRelay();
    await waitFor(async () => h.changes.leadsWork, TAKEOVER_DEADLINE_MS, 'the first relay to take the lock');
    const c = await startWorkerRelay();
    const onC = countPasses(c);
    // Every pass of the holder now takes twice the staleness (its event loop stays free).
    const tick = h.worker.tick.bind(h.worker);
    h.worker.tick = async () => {
      await sleep(2 * STALE_MS);
      return tick();
    };
    const until = Date.now() + 2 * STALE_MS + 2_500;
    while (Date.now() < until) {
      expect(c.changes.leadsWork).toBe(false);
      expect(h.changes.leadsWork).toBe(true);
      await sleep(100);
    }
    expect(onC()).toBe(0);
    await closeRelay(c);
    await closeRelay(h);
  });
});
