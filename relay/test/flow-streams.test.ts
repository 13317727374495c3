import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPlayerAssertion } from '../src/devices/player-assertion.ts';
import { startRelay } from '../src/index.ts';
import { HeldRegistry } from '../src/ops/streams.ts';
import { ADMIN_TOKEN, adminCall } from './support/admin.ts';
import { send, TestDevice } from './support/client.ts';
import { engines, TEST_LIMITS, uuid } from './support/env.ts';
import { bind, type Stack, startStack } from './support/stack.ts';
import { gauge, holdPoll, holdStream, kioskWithBinding, newKiosk, settlesWithin, signedPaymentNotification, sleep } from './support/streams.ts';

/*
 * Long-polls and event streams are held connections with their own caps (relay/README.md,
 * "Push"): per device at most 2 of each (a third ends the oldest: a stream with `event: end`
 * reason "replaced", a long-poll with its current status), a global cap per kind (over it the
 * new one gets 503 OVERLOADED), a stream lifetime, and streams of a disabled device or an
 * expired player assertion end at once. None of it may make the rest of the relay answer 503.
 */

describe('held registry', () => {
  it('per device a new one ends the oldest; at the global cap a new device is refused, a device at its own cap still replaces', () => {
    const registry = new HeldRegistry({ maxStreamsPerDevice: 2, maxStreams: 3, maxLongPollsPerDevice: 1, maxLongPolls: 5 });
    const ended: string[] = [];
    const open = (device: string, name: string) => registry.open('stream', device, (reason) => ended.push(`${name}:${reason}`));
    const a1 = open('a', 'a1');
    open('a', 'a2');
    open('a', 'a3');
    expect(ended).toEqual(['a1:replaced']);
    a1.release(); // already out: counted once
    expect(registry.count('stream')).toBe(2);
    open('b', 'b1');
    expect(() => open('c', 'c1')).toThrow(/OVERLOADED/u);
    // b is under its own cap, so it would grow the total: refused, and nobody else's is ended.
    expect(() => open('b', 'b2')).toThrow(/OVERLOADED/u);
    expect(ended).toEqual(['a1:replaced']);
    expect(registry.count('stream')).toBe(3);
    open('a', 'a4');
    expect(ended).toEqual(['a1:replaced', 'a2:replaced']);
    registry.open('longPoll', 'a', (reason) => ended.push(`p1:${reason}`));
    registry.endDevice('a', 'disabled');
    expect(ended.slice(2).sort()).toEqual(['a3:disabled', 'a4:disabled', 'p1:disabled']);
    expect(registry.devices()).toEqual(['b']);
    registry.endAll('shutdown');
    expect(registry.count('stream') + registry.count('longPoll')).toBe(0);
  });
});

/*
 * The tests' lifted limits (TEST_LIMITS): per-device, pay and enrolment rates lifted, and the
 * event-loop lag gate and the pays' loop-turn budget off: these relays share their event loop with
 * the test's clients, so on a loaded machine the lag (and a turn's length) measures the harness
 * and refused a setup enrolment or a pay with 503 (each gate has its own test: flow-ops.test.ts,
 * http-admission.test.ts). The caps under test are the held-connection caps and maxInFlight.
 */
const fast = TEST_LIMITS;

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`stream and long-poll caps per device (${engine.name})`, () => {
    let s: Stack;
    let hk: string;
    beforeAll(async () => {
      // A small in-flight cap, so that held connections counted in it would fill it.
      s = await startStack(engine.name, { limits: { ...fast, maxInFlight: 32 }, admin: { token: ADMIN_TOKEN } });
      hk = await bind(s.kiosk, 'ALIPAY_HK');
    });
    afterAll(async () => s?.close());

    it('a third stream of a device ends its oldest (event: end, reason "replaced"); the two newest stay open', async () => {
      const d = await newKiosk(s);
      const a = await holdStream(d);
      await sleep(50);
      const b = await holdStream(d);
      await sleep(50);
      const c = await holdStream(d);
      try {
        expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
        expect(await settlesWithin(a.ended, 2_000)).toBe(true);
        expect((await a.ended).reason).toBe('replaced');
        await sleep(200);
        expect([b.open, c.open]).toEqual([true, true]);
      } finally {
        for (const x of [a, b, c]) x.close();
      }
    });

    it('a third long-poll of a device answers its oldest at once with the current status (200); the two newest keep waiting', async () => {
      const { device, bindingId, version } = await kioskWithBinding(s);
      const first = holdPoll(device, bindingId, version);
      await sleep(200);
      const second = holdPoll(device, bindingId, version);
      await sleep(200);
      const third = holdPoll(device, bindingId, version);
      try {
        expect(await settlesWithin(first.answer, 1_500)).toBe(true);
        const answered = await first.answer;
        expect(answered.status).toBe(200);
        expect(answered.body).toMatchObject({ bindingId, version, state: 'QR_SHOWN' });
        expect(answered.ms).toBeLessThan(2_000);
        expect(await settlesWithin(Promise.race([second.answer, third.answer]), 500)).toBe(false);
      } finally {
        for (const p of [first, second, third]) p.close();
      }
    });

    it('disabling a device ends its open streams and long-polls at once; it receives nothing more', async () => {
      const { device, bindingId, version } = await kioskWithBinding(s);
      const a = await holdStream(device);
      const b = await holdStream(device);
      const poll = holdPoll(device, bindingId, version);
      await sleep(200);
      const t0 = Date.now();
      const disabled = await adminCall(s.relay.adminUrl, 'POST', `/admin/v1/devices/${device.creds.deviceId}/disable`, {});
      expect(disabled.status).toBe(200);
      try {
        expect(await settlesWithin(Promise.all([a.ended, b.ended, poll.answer]), 1_000)).toBe(true);
        expect(Date.now() - t0).toBeLessThan(1_500);
        expect((await a.ended).reason).toBe('disabled');
        expect((await b.ended).reason).toBe('disabled');
        expect((await poll.answer).body).toMatchObject({ error: { code: 'DEVICE_NOT_ENROLLED' } });
        const after = await holdStream(device);
        expect(after.status).toBe(401);
      } finally {
        for (const x of [a, b]) x.close();
        poll.close();
      }
    });

    it('a launcher stream ends when its player assertion expires, and that assertion opens no new one', async () => {
      const short = signPlayerAssertion(
        s.secrets.studioPrivateKey,
        { iss: 'https://studio.example', aud: 'scan-to-bind-relay', sub: 'short-lived', ttlSeconds: 2, did: s.launcher.creds.deviceId },
        { alg: 'ES256', now: s.clock.now() },
      );
      const launcher = new TestDevice(s.relay.url, s.launcher.creds, short, () => s.clock.now());
      const stream = await holdStream(launcher);
      try {
        expect(stream.status).toBe(200);
        expect(await settlesWithin(stream.ended, 4_000)).toBe(true);
        expect((await stream.ended).reason).toBe('assertion-expired');
        // Within the verifier's clock skew the assertion still authenticates a request, but it
        // cannot hold a stream that would end at once.
        const again = await holdStream(launcher);
        expect(again.status).toBe(401);
      } finally {
        stream.close();
      }
    });

    it('a flood of long-polls and streams (4 devices × 20 each) leaves enrolment, pays and Antom notifications answering', async () => {
      const flooders = [];
      for (let i = 0; i < 4; i++) flooders.push(await kioskWithBinding(s));
      const polls = flooders.flatMap((f) => Array.from({ length: 20 }, () => holdPoll(f.device, f.bindingId, f.version)));
      const streams = await Promise.all(flooders.flatMap((f) => Array.from({ length: 20 }, () => holdStream(f.device))));
      try {
        await sleep(300);
        const code = await s.relay.devices.createEnrollmentCode({ label: 'late', kind: 'kiosk', lifetimeMs: 60_000 });
        const enrolled = await send(s.relay.url, 'POST', '/v1/devices/enroll', JSON.stringify({ code: code.code }), {});
        expect(enrolled.status).toBe(201);
        const paid = await s.kiosk.request('POST', '/v1/purchases', { bindingId: hk, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
        expect(paid.status).toBe(200);
        expect(paid.body['state']).toBe('SUCCEEDED');
        expect((await signedPaymentNotification(s)).status).toBe(200);
        // Each device holds at most its 2 of each kind.
        expect(await gauge(s.relay.adminUrl, 'relay_long_polls_open')).toBeLessThanOrEqual(8);
        expect(await gauge(s.relay.adminUrl, 'relay_streams_open')).toBeLessThanOrEqual(8);
        expect(streams.filter((x) => x.open).length).toBeLessThanOrEqual(8);
      } finally {
        for (const p of polls) p.close();
        for (const x of streams) x.close();
      }
    });

    it('20 devices each holding their maximum of long-polls and streams: pays, enrolment and a signed notification answer within 1 s, none 503', async () => {
      const devices = [];
      for (let i = 0; i < 20; i++) devices.push(await kioskWithBinding(s));
      // One more of each than the maximum, so each device is at its maximum whatever the order.
      // Opened one device at a time: their setup (authentication, first reads) is admitted like
      // any request, and a burst of 120 of them at once would meet maxInFlight 32 on its own.
      const polls: ReturnType<typeof holdPoll>[] = [];
      const streams: Awaited<ReturnType<typeof holdStream>>[] = [];
      for (const d of devices) {
        for (let i = 0; i < 3; i++) polls.push(holdPoll(d.device, d.bindingId, d.version));
        for (let i = 0; i < 3; i++) streams.push(await holdStream(d.device));
      }
      try {
        await sleep(300);
        expect(streams.filter((x) => x.open).length).toBe(40);
        expect(await gauge(s.relay.adminUrl, 'relay_long_polls_open')).toBe(40);
        const timed = async <T extends { status: number }>(what: string, fn: () => Promise<T>): Promise<T & { what: string; ms: number }> => {
          const t0 = Date.now();
          const r = await fn();
          return { ...r, what, ms: Date.now() - t0 };
        };
        const answers = [];
        for (let i = 0; i < 5; i++) {
          answers.push(
            await timed('pay', () => s.kiosk.request('POST', '/v1/purchases', { bindingId: hk, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() })),
          );
          const code = await s.relay.devices.createEnrollmentCode({ label: `load ${i}`, kind: 'kiosk', lifetimeMs: 60_000 });
          answers.push(await timed('enrol', () => send(s.relay.url, 'POST', '/v1/devices/enroll', JSON.stringify({ code: code.code }), {})));
          answers.push(await timed('notify', () => signedPaymentNotification(s)));
        }
        for (const a of answers) {
          expect(a.status, `${a.what}: ${JSON.stringify(a)}`).not.toBe(503);
          expect(a.status, a.what).toBeLessThan(300);
          expect(a.ms, a.what).toBeLessThan(1_000);
        }
      } finally {
        for (const p of polls) p.close();
        for (const x of streams) x.close();
      }
    });
  });

  describe.skipIf(engine.skip !== undefined)(`global caps and other relay processes (${engine.name})`, () => {
    let s: Stack;
    beforeAll(async () => {
      s = await startStack(engine.name, {
        limits: { ...fast, maxInFlight: 64, maxStreams: 3, maxLongPolls: 2 },
        events: { longPollTimeoutMs: 5_000, crossProcessPollMs: 200, heartbeatMs: 200 },
        admin: { token: ADMIN_TOKEN },
      });
    });
    afterAll(async () => s?.close());

    it('over the global stream cap the new stream gets 503 OVERLOADED with Retry-After; no other device loses one', async () => {
      const d1 = await newKiosk(s);
      const d2 = await newKiosk(s);
      const held = [await holdStream(d1), await holdStream(d1), await holdStream(d2)];
      try {
        const refused = await holdStream(d2);
        expect(refused.status).toBe(503);
        expect(Number(refused.retryAfter)).toBeGreaterThan(0);
        await sleep(200);
        expect(held.map((h) => h.open)).toEqual([true, true, true]);
        // At the cap a device may still replace its own oldest: the total does not grow.
        const own = await holdStream(d1);
        expect(own.status).toBe(200);
        expect((await held[0]?.ended)?.reason).toBe('replaced');
        held.push(own);
        expect(await gauge(s.relay.adminUrl, 'relay_streams_open')).toBe(3);
      } finally {
        for (const h of held) h.close();
      }
    });

    it('over the global long-poll cap the new long-poll gets 503 OVERLOADED with Retry-After; the held ones keep waiting', async () => {
      const [a, b, c] = await Promise.all([kioskWithBinding(s), kioskWithBinding(s), kioskWithBinding(s)]);
      if (!a || !b || !c) throw new Error('devices');
      const pa = holdPoll(a.device, a.bindingId, a.version);
      const pb = holdPoll(b.device, b.bindingId, b.version);
      await sleep(300);
      const pc = holdPoll(c.device, c.bindingId, c.version);
      try {
        const refused = await pc.answer;
        expect(refused.status).toBe(503);
        expect(refused.body).toMatchObject({ error: { code: 'OVERLOADED' } });
        expect(Number(refused.retryAfter)).toBeGreaterThan(0);
        expect(await settlesWithin(Promise.race([pa.answer, pb.answer]), 300)).toBe(false);
      } finally {
        for (const p of [pa, pb, pc]) p.close();
      }
    });

    it('a device disabled through another relay process loses its stream here within the heartbeat re-check', async () => {
      const other = await startRelay(
        { ...s.relay.config, port: 0, publicUrl: undefined },
        { clock: s.clock, logDestination: { write: () => undefined } as never },
      );
      try {
        const d = await newKiosk(s);
        const there = new TestDevice(other.url, d.creds, undefined, () => s.clock.now());
        const stream = await holdStream(there);
        expect(stream.status).toBe(200);
        await sleep(100);
        const disabled = await adminCall(s.relay.adminUrl, 'POST', `/admin/v1/devices/${d.creds.deviceId}/disable`, {});
        expect(disabled.status).toBe(200);
        // heartbeatMs 200 here: the other process re-reads the device within one heartbeat (+ the query).
        expect(await settlesWithin(stream.ended, 2_000)).toBe(true);
        expect((await stream.ended).reason).toBe('disabled');
      } finally {
        await other.close();
      }
    });
  });

  describe.skipIf(engine.skip !== undefined)(`stream lifetime (${engine.name})`, () => {
    let s: Stack;
    beforeAll(async () => {
      s = await startStack(engine.name, {
        limits: { ...fast, maxInFlight: 64 },
        events: { longPollTimeoutMs: 5_000, crossProcessPollMs: 200, streamMaxLifetimeMs: 1_500 },
      });
    });
    afterAll(async () => s?.close());

    it('a stream ends at its maximum lifetime with `event: end` reason "lifetime", and a new signed request opens the next', async () => {
      const stream = await holdStream(s.kiosk);
      try {
        expect(stream.status).toBe(200);
        expect(await settlesWithin(stream.ended, 3_000)).toBe(true);
        const end = await stream.ended;
        expect(end.reason).toBe('lifetime');
        // Up to a tenth earlier (jitter spreads the reconnects of streams opened together).
        expect(end.atMs).toBeGreaterThanOrEqual(1_300);
        const next = await holdStream(s.kiosk);
        expect(next.status).toBe(200);
        next.close();
      } finally {
        stream.close();
      }
    });
  });
}
