import type { Row, RowContext } from '../matrix.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { adminCall } from '../../relay/test/support/admin.ts';
import { TEST_LIMITS } from '../../relay/test/support/env.ts';
import { postFrom } from '../../relay/test/support/client.ts';
import { approveOnPhone, waitFor } from '../../relay/test/support/stack.ts';
import { bindWallet, rawPay } from './helpers.ts';
import { postNotification, signedNotification, snapshot } from './notify-sign.ts';

const PAYMENT = '/antom/notify/payment';
const AUTHORIZATION = '/antom/notify/authorization';

/** A purchase settled SUCCEEDED through the raw kiosk device; returns its row. */
async function settled(ctx: RowContext) {
  const bindingId = await bindWallet(ctx.stack.kiosk);
  const intent = randomUUID();
  const res = await ctx.calls.call('pay', 15_000, () => rawPay(ctx.stack.kiosk, bindingId, intent), ctx.stack.payloads);
  ctx.expect(res?.status === 200 && res.body['state'] === 'SUCCEEDED', `pay: ${JSON.stringify(res)}`);
  return ctx.stack.store.db.selectFrom('purchases').selectAll().where('intent_id', '=', intent).executeTakeFirstOrThrow();
}

/** Issue 14's smaller relay findings, each as an attack on the running relay. */
export const smallRows: Row[] = [
  {
    name: 'notify from 2001',
    family: 'notification',
    async run(ctx) {
      // Correctly signed by Antom's key, stamped 2001 (and 26 h ago): a replay of a captured
      // notification. Refused before handling, not even recorded; the state is untouched.
      const row = await settled(ctx);
      const audit = async () =>
        (await ctx.stack.store.db.selectFrom('notifications').select('id').select('kind').orderBy('id').execute()).map((n) => `${n.id}:${n.kind}`);
      // Antom's own deliveries for this binding and pay land first: one arriving after the
      // snapshot below would look like a change made by the replay (seen on PostgreSQL).
      await waitFor(
        async () => {
          const kinds = await audit();
          return kinds.some((k) => k.endsWith(':authorization')) && kinds.some((k) => k.endsWith(':payment'));
        },
        5_000,
        "Antom's own notifications",
      );
      const before = `${await snapshot(ctx.stack)}|${await audit()}`;
      for (const status of ['S', 'F'] as const) {
        const body = JSON.stringify({
          notifyType: 'PAYMENT_RESULT',
          result: { resultCode: status === 'S' ? 'SUCCESS' : 'PROCESS_FAIL', resultStatus: status, resultMessage: 'x' },
          paymentRequestId: row.payment_request_id,
          paymentId: row.payment_id ?? 'x',
          paymentAmount: { currency: row.currency, value: String(row.amount_minor) },
        });
        for (const at of ['2001-01-01T08:00:00+08:00', '978307200000', new Date(Date.now() - 26 * 3_600_000).toISOString()]) {
          const res = await postNotification(ctx.stack, PAYMENT, body, signedNotification(ctx.stack.antomPrivateKey, ctx.stack.clientId, PAYMENT, body, at));
          const code = (res.body['result'] as { resultCode?: string } | undefined)?.resultCode;
          ctx.expect(res.status === 401 && code === 'INVALID_REQUEST_TIME', `${status} at ${at}: ${res.status} ${code}`);
        }
      }
      ctx.expect(`${await snapshot(ctx.stack)}|${await audit()}` === before, 'a notification from 2001 changed state or was recorded');
    },
  },
  {
    name: 'auth notify x8 concurrent',
    family: 'race',
    runs: 3,
    async run(ctx) {
      // Antom's own delivery is held; eight signed copies of it arrive at once. Exactly one is
      // applied, the binding goes ACTIVE with the one token Antom issued, nothing is revoked.
      const s = ctx.stack;
      await s.admin('POST', '/notifications/faults', { mode: 'withhold', count: 1 });
      const started = await s.kiosk.request('POST', '/v1/bindings', { wallet: 'ALIPAY_HK' });
      ctx.expect(started.status === 201, `bind start: ${started.status}`);
      const { bindingId, codeValue } = started.body as { bindingId: string; codeValue: string };
      ctx.expect((await approveOnPhone(codeValue)) < 300, 'phone approval failed');
      type Held = { kind: string; status: string; body: string };
      const held = await waitFor(
        async () => ((s.sandboxRawState()['notifications'] as Held[] | undefined) ?? []).find((n) => n.kind === 'notifyAuthorization' && n.status === 'HELD'),
        5_000,
        'the held notifyAuthorization',
      );
      const headers = signedNotification(s.antomPrivateKey, s.clientId, AUTHORIZATION, held.body, new Date().toISOString());
      const answers = await Promise.all(Array.from({ length: 8 }, () => postNotification(s, AUTHORIZATION, held.body, headers)));
      ctx.expect(
        answers.every((a) => a.status === 200),
        `answers: ${answers.map((a) => a.status).join(',')}`,
      );
      const outcomes = (await s.store.db.selectFrom('notifications').select('outcome').where('kind', '=', 'authorization').execute())
        .map((r) => r.outcome)
        .sort();
      ctx.expect(JSON.stringify(outcomes) === JSON.stringify(['applied', ...Array<string>(7).fill('duplicate')]), `outcomes: ${outcomes.join(',')}`);
      await waitFor(
        async () => ((await s.kiosk.request('GET', `/v1/bindings/${bindingId}`)).body['state'] === 'ACTIVE' ? true : undefined),
        15_000,
        'binding ACTIVE',
      );
      const authState = (JSON.parse(held.body) as { authState: string }).authState;
      const tokens = await waitFor(
        async () => {
          const t = ((s.sandboxRawState()['tokens'] as { authState: string; status: string }[] | undefined) ?? []).filter((x) => x.authState === authState);
          return t.length > 0 ? t : undefined;
        },
        5_000,
        'the token at Antom',
      );
      ctx.expect(tokens.length === 1 && tokens[0]?.status === 'ACTIVE', `tokens at Antom: ${JSON.stringify(tokens.map((t) => t.status))}`);
      const revokes = await s.store.db.selectFrom('token_revocations').select('id').execute();
      ctx.expect(revokes.length === 0, `late revokes: ${revokes.length}`);
      await s.admin('POST', '/notifications/release');
    },
  },
  {
    name: 'enrol brute force',
    family: 'client-attack',
    // A tight enrolment bucket (the stack's own two devices spend two of the six).
    stack: {
      overrides: {
        limits: { ...TEST_LIMITS, enrollPerMinute: 1, enrollBurst: 6 },
      },
    },
    async run(ctx) {
      const s = ctx.stack;
      const devices = async () => (await s.store.db.selectFrom('devices').select('id').execute()).length;
      const before = await devices();
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) {
        const res = await postFrom('127.0.0.1', s.relay.url, '/v1/devices/enroll', JSON.stringify({ code: randomBytes(16).toString('base64url') }), {
          'x-forwarded-for': `198.51.100.${i}`,
        });
        s.payloads.push(JSON.stringify(res.body));
        statuses.push(res.status);
      }
      const limited = statuses.filter((x) => x === 429).length;
      ctx.expect(
        statuses.every((x) => x === 401 || x === 429),
        `guess answers: ${[...new Set(statuses)].join(',')}`,
      );
      ctx.expect(limited >= 36, `only ${limited} of 40 guesses throttled`);
      ctx.expect((await devices()) === before, 'a guess enrolled a device');
      const code = await adminCall(s.relay.adminUrl, 'POST', '/admin/v1/devices', { label: 'chaos other site', kind: 'kiosk' });
      ctx.expect(code.status === 201, `admin code: ${code.status}`);
      const other = await postFrom('127.0.0.2', s.relay.url, '/v1/devices/enroll', JSON.stringify({ code: code.body['code'] }));
      ctx.expect(other.status === 201, `enrolment from another address: ${other.status}`);
      if (typeof other.body['deviceSecret'] === 'string') s.secrets.push(other.body['deviceSecret']);
    },
  },
];
