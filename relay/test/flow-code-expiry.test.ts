import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Relay, startRelay } from '../src/index.ts';
import { TestDevice } from './support/client.ts';
import { engines } from './support/env.ts';
import { type Stack, startStack, waitFor } from './support/stack.ts';

// The QR code's life has one owner, the relay (RelayBindingService.refreshCode states the rule):
// its worker renews an unscanned code at expiry, a player's tap takes the same lease. Two relay
// processes on one database, counted at the sandbox: one expiry costs exactly one consult.

const LIFETIME = 15 * 60_000;

interface SandboxRequest {
  endpoint?: string;
  fault?: string;
}

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`one code expiry, one consult, two relay processes (${engine.name})`, () => {
    if (engine.skip) console.warn(engine.skip);
    let s: Stack;
    let other: Relay;
    let players = 0;
    beforeAll(async () => {
      // Both workers are driven by the test (an hour between their own passes), so their
      // passes overlap exactly as each test arranges.
      s = await startStack(engine.name, {
        worker: { tickMs: 3_600_000 },
        bindings: { qrLifetimeMs: LIFETIME, maxCodeRefreshes: 2, tokenRefreshLeadMs: 30_000, kioskVisitMs: 30 * 60_000 },
      });
      other = await startRelay(s.config, { clock: s.clock, manualWorker: true, logDestination: new Writable({ write: (_c, _e, done) => done() }) });
    });
    afterAll(async () => {
      await other?.close();
      await s?.close();
    });

    const requests = async (): Promise<SandboxRequest[]> => (await s.admin('GET', '/state')).body['requests'] as SandboxRequest[];
    const consults = async (): Promise<number> => (await requests()).filter((r) => r.endpoint === 'consult').length;
    /** A signed-in launcher player talking to `relay` (each test its own players: a player has one pending code). */
    const player = (relay: Relay): TestDevice => {
      const name = `expiry-${++players}`;
      return new TestDevice(
        relay.url,
        s.launcher.creds,
        () => s.assertion(name),
        () => s.clock.now(),
      );
    };
    const start = async (device: TestDevice): Promise<{ id: string; code: string }> => {
      const r = await device.request('POST', '/v1/bindings', { wallet: 'ALIPAY_HK' });
      expect(r.status).toBe(201);
      return { id: String(r.body['bindingId']), code: String(r.body['codeValue']) };
    };
    const status = async (device: TestDevice, id: string): Promise<Record<string, unknown>> => (await device.request('GET', `/v1/bindings/${id}`)).body;
    const held = async (): Promise<number> => (await requests()).filter((r) => r.endpoint === 'consult' && r.fault === 'delay').length;
    /**
     * Holds the next consult at the sandbox for `ms` (it is processed, its answer waits); the
     * returned function waits until that consult has arrived.
     */
    const slowConsult = async (ms: number): Promise<() => Promise<unknown>> => {
      const earlier = await held();
      await s.admin('POST', '/faults', { endpoint: 'consult', mode: 'delay', count: 1, delayMs: ms });
      return () => waitFor(async () => (await held()) > earlier, 5_000, 'the held consult');
    };
    /** Ends the test's codes so later tests' clock moves find nothing of theirs due. */
    const withdraw = async (device: TestDevice, ids: string[]) => {
      for (const id of ids) expect((await device.request('POST', `/v1/bindings/${id}/withdraw`)).status).toBe(200);
    };

    it('two workers: a pass that read a row before the other relay renewed it does not renew it again', async () => {
      const devices = [player(s.relay), player(s.relay), player(s.relay), player(s.relay)];
      const started = await Promise.all(devices.map(start));
      const before = await consults();
      s.clock.advance(LIFETIME + 1_000);
      const consultHeld = await slowConsult(600);
      // Relay A reads all four due codes and is held on its first consult; relay B's pass
      // renews the other three meanwhile; A then goes on down the list it read.
      const passA = s.relay.worker.tick();
      await consultHeld();
      await other.worker.tick();
      await passA;
      expect((await consults()) - before).toBe(4);
      for (const [i, b] of started.entries()) {
        const now = await status(devices[i] as TestDevice, b.id);
        expect(now).toMatchObject({ state: 'QR_SHOWN', refreshesLeft: 1 });
        expect(now['codeValue']).not.toBe(b.code);
      }
      for (const [i, b] of started.entries()) await withdraw(devices[i] as TestDevice, [b.id]);
    });

    it('a tap racing the worker at expiry costs one consult, whichever comes first, on either relay', async () => {
      // The worker first (relay A), the tap on relay B while A's consult is out.
      const onA = player(s.relay);
      const first = await start(onA);
      const onB = new TestDevice(other.url, onA.creds, onA.assertion, () => s.clock.now());
      let before = await consults();
      s.clock.advance(LIFETIME + 1_000);
      const consultHeld = await slowConsult(600);
      const pass = s.relay.worker.tick();
      await consultHeld();
      const tap = await onB.request('POST', `/v1/bindings/${first.id}/refresh-code`);
      await pass;
      expect((await consults()) - before).toBe(1);
      expect(tap.status).toBe(200);
      expect(tap.body).toMatchObject({ state: 'QR_SHOWN', refreshesLeft: 1 });
      expect(tap.body['codeValue']).not.toBe(first.code);
      expect(tap.body['codeValue']).toBe((await status(onA, first.id))['codeValue']);

      // The tap first (relay B, its consult held), relay A's worker pass meanwhile.
      before = await consults();
      s.clock.advance(LIFETIME + 1_000);
      const tapHeld = await slowConsult(600);
      const tapping = onB.request('POST', `/v1/bindings/${first.id}/refresh-code`);
      await tapHeld();
      await s.relay.worker.tick();
      const tapped = await tapping;
      await s.relay.worker.tick();
      expect((await consults()) - before).toBe(1);
      expect(tapped.status).toBe(200);
      // The player's tap spends none of the automatic renewals.
      expect(tapped.body).toMatchObject({ state: 'QR_SHOWN', refreshesLeft: 1 });
      expect(await status(onA, first.id)).toMatchObject({ codeValue: tapped.body['codeValue'], refreshesLeft: 1 });
      await withdraw(onA, [first.id]);
    });

    it('a tap on a code just renewed answers it; after the renewals are used up a tap still gets a code; an ended binding takes none', async () => {
      const device = player(s.relay);
      const b = await start(device);
      // Two automatic renewals (the cap), each one consult.
      let before = await consults();
      for (let left = 1; left >= 0; left--) {
        s.clock.advance(LIFETIME + 1_000);
        await other.worker.tick();
        expect(await status(device, b.id)).toMatchObject({ state: 'QR_SHOWN', refreshesLeft: left });
      }
      expect((await consults()) - before).toBe(2);
      const renewed = await status(device, b.id);

      // A tap that raced the last renewal (the device still showed the old code): no consult.
      before = await consults();
      const raced = await device.request('POST', `/v1/bindings/${b.id}/refresh-code`);
      expect(raced.status).toBe(200);
      expect(raced.body['codeValue']).toBe(renewed['codeValue']);
      expect((await consults()) - before).toBe(0);

      // The last code ran out; the player taps before the worker's pass: a fresh code, one consult.
      s.clock.advance(LIFETIME + 1_000);
      const tapped = await device.request('POST', `/v1/bindings/${b.id}/refresh-code`);
      expect(tapped.status).toBe(200);
      expect(tapped.body).toMatchObject({ state: 'QR_SHOWN', refreshesLeft: 0 });
      expect(tapped.body['codeValue']).not.toBe(renewed['codeValue']);
      await s.relay.worker.tick();
      expect((await consults()) - before).toBe(1);
      expect(await status(device, b.id)).toMatchObject({ state: 'QR_SHOWN', codeValue: tapped.body['codeValue'] });

      // A tap on a code the player has looked at for a while is the player asking: a new code.
      s.clock.advance(2 * 60_000);
      const asked = await device.request('POST', `/v1/bindings/${b.id}/refresh-code`);
      expect(asked.status).toBe(200);
      expect(asked.body['codeValue']).not.toBe(tapped.body['codeValue']);
      expect((await consults()) - before).toBe(2);

      // Unattended, the code dies with no renewal left: EXPIRED, no consult; a tap is refused.
      s.clock.advance(LIFETIME + 1_000);
      await other.worker.tick();
      expect(await status(device, b.id)).toMatchObject({ state: 'EXPIRED', error: { code: 'QR_REFRESH_LIMIT' } });
      expect((await consults()) - before).toBe(2);
      const late = await device.request('POST', `/v1/bindings/${b.id}/refresh-code`);
      expect(late.status).toBe(409);
      expect(late.body).toMatchObject({ error: { code: 'ILLEGAL_TRANSITION' } });
    });
  });
}
