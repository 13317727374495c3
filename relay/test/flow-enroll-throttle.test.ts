import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postFrom } from './support/client.ts';
import { engines, TEST_LIMITS } from './support/env.ts';
import { type Stack, startStack } from './support/stack.ts';

const ENROLL = '/v1/devices/enroll';
const BURST = 4;

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`enrolment throttle per source address (${engine.name})`, () => {
    if (engine.skip) console.warn(engine.skip);
    let s: Stack;
    beforeAll(async () => {
      // The stack enrols its two devices from 127.0.0.1 first: two of the burst are spent.
      s = await startStack(engine.name, {
        limits: { ...TEST_LIMITS, enrollPerMinute: 1, enrollBurst: BURST },
      });
    });
    afterAll(async () => s?.close());

    const guess = () => JSON.stringify({ code: randomBytes(16).toString('base64url') });

    it('throttles a brute force from one address (429 RATE_LIMITED, Retry-After) while another address still enrols', async () => {
      const answers = [];
      for (let i = 0; i < 6; i++) answers.push(await postFrom('127.0.0.1', s.relay.url, ENROLL, guess()));
      expect(answers.slice(0, BURST - 2).map((a) => a.status)).toEqual(Array(BURST - 2).fill(401));
      for (const a of answers.slice(BURST - 2)) {
        expect(a.status).toBe(429);
        expect(a.body).toMatchObject({ error: { code: 'RATE_LIMITED' } });
        expect(Number(a.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
      // A right code from the throttled address is refused too: the bucket is checked first.
      const code = await s.relay.devices.createEnrollmentCode({ label: 'Kiosk 13', kind: 'kiosk', lifetimeMs: 60_000 });
      expect((await postFrom('127.0.0.1', s.relay.url, ENROLL, JSON.stringify({ code: code.code }))).status).toBe(429);
      // X-Forwarded-For is not believed (no trustProxy): a forged one does not open a new bucket.
      expect((await postFrom('127.0.0.1', s.relay.url, ENROLL, guess(), { 'x-forwarded-for': '203.0.113.9' })).status).toBe(429);
      // Another address has its own bucket and enrols with the same code.
      const other = await postFrom('127.0.0.2', s.relay.url, ENROLL, JSON.stringify({ code: code.code }));
      expect(other.status).toBe(201);
      expect(other.body).toMatchObject({ kind: 'kiosk' });
    });
  });
}
