import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AntomMitm, startAntomMitm } from './support/antom-mitm.ts';
import type { TestDevice } from './support/client.ts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fdatasyncFile } from '../src/store/wal-barrier.ts';
import { flushGate, until } from './support/flush-gate.ts';
import { TEST_LIMITS, uuid } from './support/env.ts';
import { bind, type Stack, startStack, waitFor } from './support/stack.ts';

/*
 * Group commit on a real relay on SQLite (issue 17): concurrent pays share WAL flushes, and no
 * pay's Antom call leaves before the flush covering its intent commit has finished (the
 * intent is written before the outside call: STYLE, "written before and after the outside
 * call"). The relay's WAL flush is a real fdatasync the test can hold; a man in the middle
 * records when each call reaches "Antom".
 */

describe('group commit of pays (sqlite)', () => {
  let s: Stack;
  let mitm: AntomMitm | undefined;
  let pays: [TestDevice, string][] = [];
  const gate = flushGate();

  beforeAll(async () => {
    // Every pay of a burst may be between its validation and its Antom call at once (the start
    // gate would refuse the ninth: limits.maxStartingPays).
    s = await startStack(
      'sqlite',
      { limits: { ...TEST_LIMITS, maxStartingPays: 64 } },
      {
        walSync: gate.sync,
        // A loaded machine must not turn a pay into PROCESSING by the relay's Antom timeout.
        antomTimeoutMs: 10_000,
        interpose: async (url) => {
          mitm = await startAntomMitm(url);
          return mitm;
        },
      },
    );
    pays = [
      [s.kiosk, await bind(s.kiosk, 'ALIPAY_HK')],
      [s.launcher, await bind(s.launcher, 'DANA')],
    ];
  });
  afterAll(async () => {
    gate.release();
    await s?.close();
  });

  const payCalls = (): number => (mitm as AntomMitm).calls.filter((p) => p.endsWith('/v1/payments/pay')).length;
  const intentsWritten = async (ids: string[]): Promise<number> =>
    (await s.relay.store.db.selectFrom('purchases').select('intent_id').where('intent_id', 'in', ids).execute()).length;

  it('no pay reaches Antom while the flush of its intent is held, though every intent is committed in SQLite', async () => {
    const n = 12;
    const ids = Array.from({ length: n }, () => uuid());
    const callsBefore = payCalls();
    gate.hold = true;
    const answers = ids.map((id, i) => {
      const [device, bindingId] = pays[i % 2] as [TestDevice, string];
      return device.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: id });
    });
    // Reads are not held behind the flush: the test sees the intents committed (visible) ...
    await waitFor(async () => (await intentsWritten(ids)) === n, 10_000, 'every intent committed');
    // ... while none is answered and none has reached Antom (two flushes in flight at most, both held).
    expect(gate.held.length).toBe(2);
    expect(payCalls()).toBe(callsBefore);
    gate.release();
    const results = await Promise.all(answers);
    expect(results.map((r) => r.body['state'])).toEqual(ids.map(() => 'SUCCEEDED'));
    expect(payCalls()).toBe(callsBefore + n);
  });

  it('N concurrent pays use fewer WAL flushes than durable commits', async () => {
    const stats = s.relay.store.flushes;
    if (!stats) throw new Error('a SQLite store counts its flushes');
    const before = { ...stats };
    const n = 16;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const [device, bindingId] = pays[i % 2] as [TestDevice, string];
        return device.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
      }),
    );
    expect(results.map((r) => r.body['state'])).toEqual(results.map(() => 'SUCCEEDED'));
    const commits = stats.requests - before.requests;
    const flushes = stats.syncs - before.syncs;
    // Each pay commits its intent durably (its outcome is relaxed: flow below).
    expect(commits).toBeGreaterThanOrEqual(n);
    expect(flushes).toBeGreaterThanOrEqual(1);
    expect(flushes).toBeLessThan(commits);
  });
});

/** A game server that counts the fulfilment webhooks it receives (and accepts them). */
async function countingGameServer(): Promise<{ server: Server; url: string; deliveries: () => number }> {
  let deliveries = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      deliveries++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/fulfil`, deliveries: () => deliveries };
}

describe('the pay waits for one flush, its intent; the outcome is relaxed (sqlite)', () => {
  let s: Stack;
  let game: Awaited<ReturnType<typeof countingGameServer>>;
  /**
   * The pay whose intent's flush runs for real: once that flush has ended, every later one is
   * held. The flush is known by its intent being committed when it starts (the pay writes its
   * intent and asks for the flush in one synchronous step, and a flush covers every commit
   * before it), not by being the next one: a worker's commit after the binding may flush first.
   */
  let holdAfterIntent: string | undefined;
  const gate = flushGate(async (fd) => {
    const covers =
      holdAfterIntent !== undefined && s.relay.store.sqlite?.prepare('select 1 from purchases where intent_id = ?').get(holdAfterIntent) !== undefined;
    await fdatasyncFile(fd);
    if (covers) {
      holdAfterIntent = undefined;
      gate.hold = true;
    }
  });

  beforeAll(async () => {
    game = await countingGameServer();
    s = await startStack(
      'sqlite',
      { fulfilment: { webhookUrl: game.url, secret: 'studio-webhook-secret-0123456789', kiosks: 'local', baseDelayMs: 40, maxDelayMs: 200, timeoutMs: 2_000 } },
      { walSync: gate.sync, antomTimeoutMs: 10_000 },
    );
  });
  afterAll(async () => {
    gate.release();
    await s?.close();
    game?.server.close();
  });

  it("answers SUCCEEDED while every flush after the intent's is held; the game server hears of it only once the outcome is on disk", async () => {
    const bindingId = await bind(s.launcher, 'ALIPAY_HK');
    const before = game.deliveries();
    const intentId = uuid();
    holdAfterIntent = intentId;
    const paid = await s.launcher.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: intentId });
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    expect(paid.body['state']).toBe('SUCCEEDED');
    // The intent's flush ran and every later one is held: had the outcome's commit asked for a
    // flush, the pay would still be waiting.
    expect(gate.hold).toBe(true);
    // The fulfilment worker leases the event by a durable commit: held, so nothing was sent.
    await until(() => gate.held.length >= 1, 'the fulfilment lease waiting for its flush');
    await new Promise((r) => setTimeout(r, 300));
    expect(game.deliveries()).toBe(before);
    gate.release();
    await waitFor(async () => game.deliveries() > before, 10_000, 'the webhook after the flush');
  });
});
