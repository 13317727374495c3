import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_CHANNEL } from '../src/change-watcher.ts';
import type { RelayConfigInput } from '../src/config.ts';
import { type Relay, startRelay } from '../src/index.ts';
import { TestDevice } from './support/client.ts';
import { engines, uuid } from './support/env.ts';
import { logLines } from './support/logs.ts';
import { approveOnPhone, bind, countPasses, type Stack, startStack, waitFor } from './support/stack.ts';
import { type HeldStream, holdStream, sleep } from './support/streams.ts';

/*
 * Several relay processes on one PostgreSQL database (relay/README.md, "Push"): a change made
 * through one reaches a device streaming from another by NOTIFY on a dedicated LISTEN
 * connection, not by the fallback poll; when that connection is killed, polling delivers (fast
 * again) and the connection comes back. Every poll interval here is a minute unless a test
 * lowers it, so only a notification can deliver within the seconds these tests allow.
 *
 * Relay B runs with its worker off (`manualWorker`), so every change is made by relay A, except
 * in the last test, which starts relays with their own workers to see which of them polls.
 */

const pgEngine = engines().find((e) => e.name === 'postgres');
const skip = pgEngine?.skip;
if (skip) console.log(`flow-cross-relay: ${skip}`);

const SLOW = 60_000;
/** Well under any poll interval here: a change that arrives within it came by notification. */
const PUSH_DEADLINE_MS = 3_000;

/** The first event of `name` on a stream whose data matches `match`, and when it arrived. */
async function arrival(stream: HeldStream, name: string, match: (data: Record<string, unknown>) => boolean, timeoutMs: number): Promise<number> {
  await waitFor(
    async () => stream.events.some((e) => e.event === name && match(JSON.parse(e.data) as Record<string, unknown>)),
    timeoutMs,
    `${name} event on the stream`,
  );
  return Date.now();
}

async function terminate(databaseUrl: string, pid: number): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query('select pg_terminate_backend($1)', [pid]);
  } finally {
    await c.end();
  }
}

describe.skipIf(skip !== undefined)('changes across relay processes on one PostgreSQL', () => {
  let s: Stack;
  const others: Relay[] = [];
  const otherLogs: string[] = [];
  /** A second relay on the stack's database; `events` overrides its event settings; `workerTickMs` gives it a worker of its own. */
  const startOther = async (events: Partial<NonNullable<RelayConfigInput['events']>> = {}, workerTickMs?: number): Promise<Relay> => {
    const config = s.relay.config;
    const logDestination = logLines(otherLogs);
    const other = await startRelay(
      {
        ...config,
        port: 0,
        publicUrl: undefined,
        events: { ...config.events, ...events },
        ...(workerTickMs === undefined ? {} : { worker: { tickMs: workerTickMs } }),
      },
      { clock: s.clock, logDestination, manualWorker: workerTickMs === undefined },
    );
    others.push(other);
    await waitFor(async () => other.changes.listening, 5_000, 'relay B listening');
    return other;
  };

  beforeAll(async () => {
    // A's LISTEN connection, once killed, comes back after 4 s: long enough for another relay to take the worker lock (last test).
    s = await startStack('postgres', { events: { longPollTimeoutMs: 5_000, crossProcessPollMs: SLOW, crossProcessListenPollMs: SLOW, listenRetryMs: 4_000 } });
    await waitFor(async () => s.relay.changes.listening, 5_000, 'relay A listening');
  });
  afterAll(async () => {
    for (const o of others) await o.close();
    await s?.close();
  });

  it('a binding authorised and a purchase settled through relay A reach a stream on relay B by NOTIFY, long before any poll', async () => {
    const b = await startOther();
    const onB = new TestDevice(b.url, s.kiosk.creds, undefined, () => s.clock.now());
    const streamA = await holdStream(s.kiosk);
    const streamB = await holdStream(onB);
    try {
      expect([streamA.status, streamB.status]).toEqual([200, 200]);
      const started = await s.kiosk.request('POST', '/v1/bindings', { wallet: 'ALIPAY_HK' });
      expect(started.status).toBe(201);
      const { bindingId, codeValue } = started.body as { bindingId: string; codeValue: string };
      expect(await approveOnPhone(codeValue)).toBeLessThan(300);
      const active = (d: Record<string, unknown>): boolean => d['bindingId'] === bindingId && d['state'] === 'ACTIVE';
      const onA = await arrival(streamA, 'binding', active, 10_000);
      const there = await arrival(streamB, 'binding', active, PUSH_DEADLINE_MS);
      expect(there - onA).toBeLessThan(PUSH_DEADLINE_MS);

      const intent = uuid();
      const paid = await s.kiosk.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
      expect(paid.status).toBe(200);
      const answered = Date.now();
      const settled = await waitFor(
        async () => {
          const r = await s.kiosk.request('GET', `/v1/purchases/${intent}`);
          return r.body['state'] === 'SUCCEEDED' ? Date.now() : undefined;
        },
        10_000,
        'purchase SUCCEEDED on A',
      );
      const seen = await arrival(streamB, 'purchase', (d) => d['purchaseIntentId'] === intent && d['state'] === 'SUCCEEDED', PUSH_DEADLINE_MS);
      expect(seen - Math.max(answered, settled)).toBeLessThan(PUSH_DEADLINE_MS);
    } finally {
      streamA.close();
      streamB.close();
    }
  });

  /** Malformed notifications, then a well-formed one for a row that does not exist, on the channel. */
  const notifyJunk = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: s.db.databaseUrl as string });
    await c.connect();
    try {
      for (const payload of [
        'not json',
        '{"o":"x","c":[["wallet","id","owner",1]]}',
        '{"o":"x","c":[]}',
        JSON.stringify({ o: 'x', c: [['binding', 'b'.repeat(201), 'o', 1]] }),
      ]) {
        await c.query('select pg_notify($1, $2)', [CHANGE_CHANNEL, payload]);
      }
      // Well-formed, for a row that does not exist: nothing to publish, no error.
      await c.query('select pg_notify($1, $2)', [CHANGE_CHANNEL, JSON.stringify({ o: 'x', c: [['purchase', uuid(), `device:${s.kiosk.creds.deviceId}`, 3]] })]);
    } finally {
      await c.end();
    }
  };
  const malformedWarnings = (lines: string[]): string[] => lines.filter((l) => l.includes('malformed change notification ignored'));

  it('a relay with no stream or long-poll open does no work for the notifications it receives: no parse, no read, whatever they carry', async () => {
    const b = others[0] ?? (await startOther());
    const bindingId = await bind(s.kiosk, 'ALIPAY_HK');
    const before = { ...b.changes.counts };
    const logsBefore = otherLogs.length;
    await notifyJunk();
    const intent = uuid();
    const paid = await s.kiosk.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
    expect(paid.status).toBe(200);
    // The junk (5) and A's announcements of the pay reach B...
    await waitFor(async () => b.changes.counts.received - before.received >= 6, 5_000, 'notifications on B');
    await sleep(200);
    // ...and none of them is parsed (a malformed one would be logged) or read.
    expect(b.changes.counts.examined).toBe(before.examined);
    expect(b.changes.counts.reads).toBe(before.reads);
    expect(b.changes.counts.unread - before.unread).toBe(b.changes.counts.received - before.received);
    expect(malformedWarnings(otherLogs.slice(logsBefore))).toEqual([]);

    // With a stream of the kiosk open on B, A's next change is examined and read.
    const streamB = await holdStream(new TestDevice(b.url, s.kiosk.creds, undefined, () => s.clock.now()));
    try {
      const next = uuid();
      expect((await s.kiosk.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: next })).status).toBe(200);
      await arrival(streamB, 'purchase', (d) => d['purchaseIntentId'] === next, PUSH_DEADLINE_MS);
      expect(b.changes.counts.examined).toBeGreaterThan(before.examined);
      expect(b.changes.counts.reads).toBeGreaterThan(before.reads);
    } finally {
      streamB.close();
    }
  });

  it('a malformed or foreign notification on the channel is logged and ignored by a relay with a stream open; the relay keeps listening', async () => {
    const b = others[0] ?? (await startOther());
    const streamB = await holdStream(new TestDevice(b.url, s.kiosk.creds, undefined, () => s.clock.now()));
    const before = otherLogs.length;
    try {
      await notifyJunk();
      await waitFor(async () => malformedWarnings(otherLogs.slice(before)).length >= 4, 5_000, 'four warnings');
      await sleep(200);
    } finally {
      streamB.close();
    }
    const lines = otherLogs.slice(before);
    expect(malformedWarnings(lines)).toHaveLength(4);
    expect(lines.filter((l) => l.includes('"level":50'))).toEqual([]);
    expect(lines.filter((l) => l.includes('reading an announced change failed'))).toEqual([]);
    expect(b.changes.listening).toBe(true);
  });

  it('with its LISTEN connection killed, relay B still gets changes by polling (fast again), and LISTEN reconnects', async () => {
    // Polls every 300 ms while LISTEN is down; the first reconnect waits 3 s, long enough to see
    // the poll deliver while nothing listens.
    const b = await startOther({ crossProcessPollMs: 300, listenRetryMs: 3_000 });
    const bindingId = await bind(s.kiosk, 'ALIPAY_HK');
    const streamB = await holdStream(new TestDevice(b.url, s.kiosk.creds, undefined, () => s.clock.now()));
    try {
      const pay = async (): Promise<string> => {
        const intent = uuid();
        const paid = await s.kiosk.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
        expect(paid.status).toBe(200);
        return intent;
      };
      const settledOnB = (intent: string): Promise<number> =>
        arrival(streamB, 'purchase', (d) => d['purchaseIntentId'] === intent && d['state'] === 'SUCCEEDED', 2_500);

      const killed = b.changes.listenPid;
      expect(killed).toBeGreaterThan(0);
      await terminate(s.db.databaseUrl as string, killed as number);
      await waitFor(async () => !b.changes.listening, 2_000, 'relay B to notice its LISTEN connection dropped');

      // Nothing listens on B now: the change arrives by polling.
      await settledOnB(await pay());
      expect(b.changes.listening).toBe(false);

      await waitFor(async () => b.changes.listening, 10_000, 'the LISTEN connection back');
      const pid = b.changes.listenPid;
      expect(pid).toBeGreaterThan(0);
      expect(pid).not.toBe(killed);
      expect(otherLogs.some((l) => l.includes('change LISTEN connection back'))).toBe(true);
      // Listening again (and polling slowly again): the next change comes by notification.
      await settledOnB(await pay());
    } finally {
      streamB.close();
    }
  });

  it("the worker's timed passes run in one process of the fleet; another takes them over when its holder's session ends", async () => {
    // B and C run workers of their own, ticking every 50 ms; A (first on the database) holds the lock.
    const b = await startOther({ listenRetryMs: 500 }, 50);
    const c = await startOther({ listenRetryMs: 500 }, 50);
    const [onB, onC] = [countPasses(b), countPasses(c)];
    expect([s.relay.changes.leadsWork, b.changes.leadsWork, c.changes.leadsWork]).toEqual([true, false, false]);
    await sleep(1_000);
    // Twenty ticks each: none of them polled the shared tables.
    expect([onB(), onC()]).toEqual([0, 0]);

    // A's session ends: one of B and C takes the lock within its retry (A's connection is back
    // only after 4 s; meanwhile it polls itself), and polls from then on.
    await terminate(s.db.databaseUrl as string, s.relay.changes.listenPid as number);
    await waitFor(async () => b.changes.leadsWork !== c.changes.leadsWork, 5_000, 'B or C to take the worker lock');
    const [leader, follower] = b.changes.leadsWork ? [onB, onC] : [onC, onB];
    const [l0, f0] = [leader(), follower()];
    await sleep(500);
    expect(leader() - l0).toBeGreaterThan(3);
    expect(follower() - f0).toBe(0);
    // A's LISTEN connection comes back without the lock: it polls no more.
    await waitFor(async () => s.relay.changes.listening, 10_000, 'A listening again');
    expect(s.relay.changes.leadsWork).toBe(false);

    // B and C close (their sessions end): A takes the lock back.
    for (const r of [b, c]) {
      others.splice(others.indexOf(r), 1);
      await r.close();
    }
    await waitFor(async () => s.relay.changes.leadsWork, 5_000, 'A to take the worker lock back');
  });
});
