import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminCall } from '../../../relay/test/support/admin.ts';
import { holdStream, newKiosk } from '../../../relay/test/support/streams.ts';
import { type Stack, waitFor } from '../../../relay/test/support/stack.ts';
import { createGotRelayHttp } from '../../../main/adapters/relay-client.got.ts';
import { systemClock } from '../../../main/services/ports.ts';
import { RelayApi } from '../../../main/services/relay/relay-api.ts';
import { StatusStream } from '../../../main/services/relay/status-stream.ts';
import { MemoryLogger } from '../../fakes/memory-stores.ts';
import { startServers } from './helpers/client-stack.ts';

/*
 * The client's status stream against the real relay, which ends streams itself (relay/README.md,
 * "Push"): at their maximum lifetime (here 1.5 s) and when a newer stream of the device takes
 * the slot. Those ends reconnect with a new signed request at once (lifetime) or after the base
 * delay (replaced), costing no backoff; a real failure (a disabled device's 401s) keeps it.
 * The backoff's base is 2 s here, so a reconnect through it would be visibly late.
 */
describe('status stream against a relay that ends streams', () => {
  // Two relays: one whose streams end at 1.5 s, for the lifetime ends, and one whose streams
  // outlive each test, for the replaced and disabled ends. On a single relay a loaded machine
  // could take the 1.5 s between the connection and the replacing stream, and the lifetime end
  // (at once) came first where the test waited for the base delay.
  let short: Stack;
  let long: Stack;
  beforeAll(async () => {
    const start = (streamMaxLifetimeMs: number) =>
      startServers({ events: { longPollTimeoutMs: 5_000, crossProcessPollMs: 200, streamMaxLifetimeMs }, admin: { token: ADMIN_TOKEN } });
    [short, long] = await Promise.all([start(1_500), start(600_000)]);
  });
  afterAll(async () => Promise.all([short?.close(), long?.close()]));

  async function follow(s: Stack) {
    const device = await newKiosk(s);
    const relay = new RelayApi({
      http: createGotRelayHttp(),
      isPackaged: false,
      clock: systemClock,
      log: new MemoryLogger(),
      credential: async () => ({ relayUrl: s.relay.url, deviceId: device.creds.deviceId, deviceSecret: device.creds.deviceSecret, kind: 'kiosk' }),
      backoff: { baseMs: 50, maxMs: 200 },
    });
    const opened: number[] = [];
    const ups: number[] = [];
    const downs: number[] = [];
    const stream = new StatusStream(
      (signal, last) => {
        opened.push(Date.now());
        return relay.openEvents(signal, last);
      },
      { onEvent: () => {}, onConnection: (up) => (up ? ups : downs).push(Date.now()) },
      systemClock,
      new MemoryLogger(),
      { baseMs: 2_000, maxMs: 8_000 },
    );
    stream.start();
    return { device, stream, opened, ups, downs };
  }

  it('reconnects at once, re-authenticated, when the relay ends the stream at its lifetime', async () => {
    const f = await follow(short);
    try {
      await waitFor(async () => f.ups.length >= 3, 8_000, 'two lifetime ends and reconnects');
      for (let i = 0; i < 2; i++) {
        const lost = f.downs[i] as number;
        const back = f.opened[i + 1] as number;
        // At once: well under the 1–2 s of the backoff's first step.
        expect(back - lost).toBeLessThan(300);
      }
      expect(f.stream.attempts).toBe(0);
    } finally {
      f.stream.stop();
    }
  });

  it('a stream replaced by a newer one of the device reconnects after the base delay without growing the backoff', async () => {
    const f = await follow(long);
    const mine = [];
    try {
      await waitFor(async () => f.ups.length >= 1, 5_000, 'connected');
      mine.push(await holdStream(f.device), await holdStream(f.device));
      await waitFor(async () => f.downs.length >= 1, 2_000, 'replaced');
      await waitFor(async () => f.opened.length >= 2, 3_000, 'reconnected');
      const delay = (f.opened[1] as number) - (f.downs[0] as number);
      expect(delay).toBeGreaterThanOrEqual(900);
      expect(delay).toBeLessThan(2_300);
      expect(f.stream.attempts).toBe(0);
    } finally {
      f.stream.stop();
      for (const m of mine) m.close();
    }
  });

  it('keeps the backoff for real failures: a disabled device is not re-asked in a loop', async () => {
    const f = await follow(long);
    try {
      await waitFor(async () => f.ups.length >= 1, 5_000, 'connected');
      expect((await adminCall(long.relay.adminUrl, 'POST', `/admin/v1/devices/${f.device.creds.deviceId}/disable`, {})).status).toBe(200);
      await waitFor(async () => f.stream.attempts >= 2, 5_000, 'two failed attempts');
      // One reconnect after the end (1–2 s), then the 401 (2–4 s before the next): no prompt loop.
      expect(f.opened.length).toBeLessThanOrEqual(3);
      expect((f.opened[1] as number) - (f.downs[0] as number)).toBeGreaterThanOrEqual(900);
    } finally {
      f.stream.stop();
    }
  });
});
