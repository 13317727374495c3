import { TestDevice } from '../../relay/test/support/client.ts';
import { gauge, type HeldPoll, type HeldStream, holdPoll, holdStream } from '../../relay/test/support/streams.ts';
import type { Row, RowContext } from '../matrix.ts';
import type { Client } from '../../test/integration/client/helpers/client-stack.ts';
import { clientBuy, kioskClientWithBinding, sleep } from './helpers.ts';
import { postNotification, signedNotification } from './notify-sign.ts';

/** Flooding devices, and how many held connections each opens at once (issue 14: 30). */
const FLOODERS = 6;
const EACH = 30;
/** A generous bound on "the normal latency" on a busy 2-core box: behaviour, not a benchmark. */
const NORMAL_MS = 2_000;

/** The production limits rather than the tests' lifted ones, with a small in-flight cap. */
const stack = { overrides: { limits: { perDevicePerMinute: 120, perDeviceBurst: 30, maxInFlight: 32, shutdownGraceMs: 5_000 } } };

/** Enrols the flooding devices (setup: an enrolment refused while the stack starts is retried). */
async function flooders(ctx: RowContext): Promise<TestDevice[]> {
  const out: TestDevice[] = [];
  for (let i = 0; i < FLOODERS; i++) {
    let creds: Awaited<ReturnType<typeof ctx.stack.enrolDevice>> | undefined;
    for (let attempt = 0; !creds; attempt++) {
      creds = await ctx.stack.enrolDevice('kiosk').catch((e: Error) => {
        if (attempt >= 5 || !e.message.includes('503')) throw e;
        return sleep(1_000).then(() => undefined);
      });
    }
    out.push(new TestDevice(ctx.stack.relay.url, creds, undefined, () => ctx.stack.clock.now()));
  }
  return out;
}

/**
 * While the flood is held: a purchase through the client's services (its wallet linked on its
 * own screen before the flood; its own status stream brings the result), an enrolment and a signed notifyPayment each answer, none 503, within
 * NORMAL_MS.
 */
async function stillServing(ctx: RowContext, client: Client): Promise<void> {
  const t0 = Date.now();
  const final = await clientBuy(ctx, client, { finalMs: 10_000 });
  ctx.expect(final?.state === 'SUCCEEDED', `purchase during the flood: ${JSON.stringify(final)}`);
  const steps = ctx.calls.calls
    .slice(-3)
    .map((c) => `${c.label} ${c.ms} ms ${c.outcome}`)
    .join(', ');
  ctx.expect(
    Date.now() - t0 < 3 * NORMAL_MS,
    `purchase during the flood took ${Date.now() - t0} ms (${steps}; ${client.log.lines
      .map((l) => l.message)
      .join(' | ')
      .slice(0, 400)})`,
  );
  const timed = async <T>(label: string, fn: () => Promise<T>): Promise<T | undefined> => {
    const started = Date.now();
    const v = await ctx.calls.call(label, 10_000, fn);
    ctx.expect(Date.now() - started < NORMAL_MS, `${label} took ${Date.now() - started} ms during the flood`);
    return v;
  };
  const gauges = async () =>
    `in flight ${await gauge(ctx.stack.relay.adminUrl, 'relay_requests_in_flight')}, lag ${await gauge(ctx.stack.relay.adminUrl, 'relay_event_loop_lag_seconds')} s`;
  // Not into the payloads: the answer carries the new device's secret (invariant 4 scans them).
  const enrolled = await timed('enrol', () =>
    ctx.stack.enrolDevice('kiosk').catch(async (e: Error) => {
      throw new Error(`${e.message} (${await gauges()})`);
    }),
  );
  ctx.expect(enrolled?.deviceId, 'enrolment during the flood failed');
  const row = await ctx.stack.store.db.selectFrom('purchases').selectAll().where('state', '=', 'SUCCEEDED').executeTakeFirstOrThrow();
  const path = '/antom/notify/payment';
  const body = JSON.stringify({
    notifyType: 'PAYMENT_RESULT',
    result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
    paymentRequestId: row.payment_request_id,
    paymentId: row.payment_id ?? 'x',
    paymentAmount: { currency: row.currency, value: String(row.amount_minor) },
  });
  const notified = await timed('notify', async () =>
    postNotification(ctx.stack, path, body, signedNotification(ctx.stack.antomPrivateKey, ctx.stack.clientId, path, body, new Date().toISOString())),
  );
  ctx.expect(notified?.status === 200, `notification during the flood: ${notified?.status}`);
}

/** Every flood answer is defined: held (200), or refused typed (429/503 with Retry-After). */
function defined(statuses: number[], what: string, ctx: RowContext): void {
  const odd = statuses.filter((s) => ![200, 429, 503].includes(s));
  ctx.expect(odd.length === 0, `${what}: undefined answers ${odd.slice(0, 5).join(',')}`);
}

/**
 * A flood row: `flood` opens the held connections of the flooding devices, checks what the
 * relay kept, and returns how to close them; then the relay must still be serving.
 */
function floodRow(name: string, flood: (ctx: RowContext, devices: TestDevice[]) => Promise<() => void>): Row {
  return {
    name,
    family: 'client-attack',
    stack,
    async run(ctx) {
      // Linked through the client: a kiosk client takes back no binding made before it started.
      const client = await kioskClientWithBinding(ctx);
      const close = await flood(ctx, await flooders(ctx));
      try {
        await stillServing(ctx, client);
      } finally {
        close();
      }
    },
  };
}

export const streamRows: Row[] = [
  floodRow('stream flood', async (ctx, devices) => {
    // Each device opens its 30 at once (a reset socket would throw: not a defined answer).
    const held: HeldStream[][] = await Promise.all(devices.map((d) => Promise.all(Array.from({ length: EACH }, () => holdStream(d)))));
    const close = () => {
      for (const h of held.flat()) h.close();
    };
    try {
      defined(
        held.flat().map((h) => h.status),
        'stream flood',
        ctx,
      );
      for (const [i, mine] of held.entries())
        ctx.expect(mine.filter((h) => h.open).length <= 2, `device ${i} holds ${mine.filter((h) => h.open).length} streams`);
      const open = await gauge(ctx.stack.relay.adminUrl, 'relay_streams_open');
      // The flooders' 2 each, and the buying kiosk client's own status stream.
      ctx.expect(open <= 2 * FLOODERS + 1, `relay_streams_open ${open}`);
    } catch (error) {
      close();
      throw error;
    }
    return close;
  }),
  floodRow('long-poll flood', async (ctx, devices) => {
    const polls: HeldPoll[] = [];
    const close = () => {
      for (const p of polls) p.close();
    };
    try {
      for (const d of devices) {
        // Setup, before the flood: a 503 while the box is busy (the lag gate) is retried.
        let started = await ctx.calls.call('bind start', 10_000, () => d.request('POST', '/v1/bindings', { wallet: 'ALIPAY_HK' }), ctx.stack.payloads);
        for (let attempt = 0; started?.status === 503 && attempt < 5; attempt++) {
          await sleep(1_000);
          started = await ctx.calls.call('bind start', 10_000, () => d.request('POST', '/v1/bindings', { wallet: 'ALIPAY_HK' }), ctx.stack.payloads);
        }
        ctx.expect(started?.status === 201, `binding: ${started?.status}`);
        const { bindingId, version } = (started?.body ?? {}) as { bindingId: string; version: number };
        for (let i = 0; i < EACH; i++) polls.push(holdPoll(d, bindingId, version));
      }
      // The replaced ones answer at once: all but each device's newest 2 (or refusals).
      const early = await Promise.all(
        polls.map((p) =>
          Promise.race([
            p.answer.then(
              (a) => a.status,
              () => -1,
            ),
            new Promise<number>((r) => setTimeout(() => r(0), 3_000)),
          ]),
        ),
      );
      const waiting = early.filter((s) => s === 0).length;
      defined(
        early.filter((s) => s !== 0),
        'long-poll flood',
        ctx,
      );
      ctx.expect(waiting <= 2 * FLOODERS, `${waiting} long-polls still waiting`);
      ctx.expect((await gauge(ctx.stack.relay.adminUrl, 'relay_long_polls_open')) <= 2 * FLOODERS, 'relay_long_polls_open above 2 per device');
    } catch (error) {
      close();
      throw error;
    }
    return close;
  }),
];
