import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AntomMitm, startAntomMitm } from './support/antom-mitm.ts';
import type { TestDevice } from './support/client.ts';
import { flushGate } from './support/flush-gate.ts';
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
    // Each pay commits its intent and its outcome durably: at least 2 per pay.
    expect(commits).toBeGreaterThanOrEqual(2 * n);
    expect(flushes).toBeGreaterThanOrEqual(1);
    expect(flushes).toBeLessThan(commits);
  });
});
