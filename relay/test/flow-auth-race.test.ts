import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from './support/env.ts';
import { approveOnPhone, notifyRelay, type Stack, startStack, waitFor } from './support/stack.ts';

const PATH = '/antom/notify/authorization';
const COPIES = 8;
const ROUNDS = 4;

interface HeldNotification {
  kind: string;
  status: string;
  body: string;
}

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`concurrent copies of one AUTHCODE_CREATED (${engine.name})`, () => {
    if (engine.skip) console.warn(engine.skip);
    let s: Stack;
    beforeAll(async () => {
      // The test limits (support/env.ts) keep admission by event-loop lag off: eight notifications
      // at once on a loaded 2-core machine must reach the handler (this test is about the handler).
      s = await startStack(engine.name);
    });
    afterAll(async () => s?.close());

    it(`${COPIES} copies at once: one applied, the rest duplicates, the token applied once at Antom and never revoked`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        // The sandbox's own delivery is held back so the copies below are the first to arrive.
        await s.admin('POST', '/notifications/faults', { mode: 'withhold', count: 1 });
        const started = await s.kiosk.request('POST', '/v1/bindings', { wallet: 'ALIPAY_HK' });
        expect(started.status).toBe(201);
        const { bindingId, codeValue } = started.body as { bindingId: string; codeValue: string };
        expect(await approveOnPhone(codeValue)).toBeLessThan(300);
        // This binding's authState picks its notification: the state file is written a moment
        // after each change, so it may still show the last round's one as held.
        const current = await s.relay.store.db
          .selectFrom('auth_states')
          .select('auth_state')
          .where('binding_id', '=', bindingId)
          .where('status', '=', 'current')
          .executeTakeFirstOrThrow();
        const held = await waitFor(
          async () =>
            (s.sandboxState()['notifications'] as HeldNotification[]).find(
              (n) => n.kind === 'notifyAuthorization' && n.status === 'HELD' && (JSON.parse(n.body) as { authState?: string }).authState === current.auth_state,
            ),
          5_000,
          'the withheld notifyAuthorization',
        );
        const audit = async () => s.relay.store.db.selectFrom('notifications').select(['id', 'outcome']).where('kind', '=', 'authorization').execute();
        const seen = new Set((await audit()).map((r) => r.id));
        const time = String(s.clock.now());
        const answers = await Promise.all(Array.from({ length: COPIES }, () => notifyRelay(s, s.relay.url, PATH, held.body, time)));
        for (const a of answers) expect(a.body).toEqual({ result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' } });
        const outcomes = (await audit())
          .filter((r) => !seen.has(r.id))
          .map((r) => r.outcome)
          .sort();
        expect(outcomes, `round ${round}`).toEqual(['applied', ...Array<string>(COPIES - 1).fill('duplicate')]);
        await waitFor(
          async () => ((await s.kiosk.request('GET', `/v1/bindings/${bindingId}`)).body['state'] === 'ACTIVE' ? true : undefined),
          10_000,
          'binding ACTIVE',
        );
        // Antom's own (late) delivery is one more duplicate.
        const delivered = (await audit()).length + 1;
        await s.admin('POST', '/notifications/release');
        await waitFor(async () => (await audit()).length >= delivered, 5_000, "Antom's own delivery");
        const authState = JSON.parse(held.body).authState as string;
        // The sandbox writes its state file a moment after answering applyToken.
        const tokens = await waitFor(
          async () => {
            const t = (s.sandboxState()['tokens'] as { authState: string; status: string }[]).filter((x) => x.authState === authState);
            return t.length > 0 ? t : undefined;
          },
          5_000,
          'the token at Antom',
        );
        expect(
          tokens.map((t) => t.status),
          `round ${round}: tokens at Antom`,
        ).toEqual(['ACTIVE']);
        expect(
          await s.relay.store.db.selectFrom('token_revocations').select(['id', 'reason']).where('auth_state', '=', authState).execute(),
          `round ${round}: late revokes`,
        ).toEqual([]);
      }
    });
  });
}
