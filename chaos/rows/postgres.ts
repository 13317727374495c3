import { randomUUID } from 'node:crypto';
import { approveOnPhone, waitFor } from '../../relay/test/support/stack.ts';
import type { Row } from '../matrix.ts';
import { type PgCluster, startCluster } from '../../test/support/pg-cluster.ts';
import { freePort } from '../stack.ts';
import { rawPay, sleep } from './helpers.ts';
import { extraDevices, type LoadAnswer, payLoad } from './load.ts';
import { signedNotification } from './notify-sign.ts';

/** A stack option that runs the relay(s) on a throwaway cluster the row may restart. */
function onCluster(holder: { cluster?: PgCluster }, extra: { process?: boolean; overrides?: Record<string, unknown> } = {}) {
  return async () => {
    const cluster = await startCluster();
    holder.cluster = cluster;
    return { ...extra, databaseUrl: cluster.url, cleanup: () => cluster.stop() };
  };
}

const restart: { cluster?: PgCluster } = {};
const twoRelays: { cluster?: PgCluster } = {};

export const postgresRows: Row[] = [
  {
    name: 'PostgreSQL restarted under load',
    family: 'postgres',
    engines: ['postgres'],
    runs: 2,
    // A pay cut off by the restart before it reached Antom is inquired and cancelled at its
    // expiry (never paid again): a short expiry, as in the SIGKILL rows, so it settles in the row.
    stack: onCluster(restart, { overrides: { payments: { inquiryIntervalMs: 100, expiryMs: 4_000, unresolvedInquiryIntervalMs: 300, leaseMs: 2_000 } } }),
    async run(ctx) {
      const devices = await extraDevices(ctx.stack, 4);
      // All four kiosks pay from the default demo account (HK$10,000): enough balance that the
      // load cannot drain it and turn the recovery pay below into INSUFFICIENT_BALANCE.
      const topUp = await ctx.stack.admin('POST', '/accounts/balance', { loginId: '852-6123-8812', balance: { currency: 'HKD', value: '1000000000' } });
      ctx.expect(topUp.status === 200, `top-up refused: ${topUp.status}`);
      let restarted = false;
      const during: LoadAnswer[] = [];
      const load = payLoad(ctx, devices, {
        total: 100_000,
        concurrency: 16,
        capMs: 10_000,
        deadlineMs: 20_000,
        onAnswer: (a) => {
          if (restarted) during.push(a);
        },
      });
      await sleep(2_000);
      const t0 = Date.now();
      await (restart.cluster as PgCluster).restart();
      restarted = true;
      console.log(`     pg restarted in ${Date.now() - t0} ms`);
      const r = await load;
      const summary = [...r.statuses]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}×${n}`)
        .join(' ');
      console.log(`     load around the restart: ${r.sent} pays: ${summary}`);
      ctx.expect(during.length > 0, 'no answer after the restart');
      ctx.expect(r.bad.length === 0, `${r.bad.length} undefined answers, e.g. ${r.bad.slice(0, 3).join(' || ')}`);
      // Recovered without a relay restart: a new pay succeeds within 10 s.
      const { device, bindingId } = devices[0] as (typeof devices)[number];
      let last = '';
      const ok = await waitFor(
        async () => {
          const res = await rawPay(device, bindingId, randomUUID());
          last = `${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
          return res.status === 200 && res.body['state'] === 'SUCCEEDED' ? res : undefined;
        },
        10_000,
        'a successful pay after the restart',
      ).catch(() => undefined);
      ctx.expect(ok, `the relay did not recover from the PostgreSQL restart; last answer: ${last}`);
      const health = await fetch(`${ctx.stack.relay.adminUrl}/readyz`).then((x) => x.status);
      ctx.expect(health === 200, `relay not ready after the restart: ${health}`);
    },
  },
  {
    name: 'two relays, same notification',
    family: 'postgres',
    engines: ['postgres'],
    runs: 3,
    stack: onCluster(twoRelays, { process: true }),
    async run(ctx) {
      const s = ctx.stack;
      const a = s.relay;
      const b = await s.startRelay({ port: await freePort() });
      const both = [a, b];
      const post = (path: string, body: string) => {
        const headers = signedNotification(s.antomPrivateKey, s.clientId, path, body, new Date().toISOString());
        return Promise.all(
          both.map((r) =>
            fetch(`${r.url}${path}`, { method: 'POST', headers, body }).then(async (res) => {
              const text = await res.text();
              s.payloads.push(text);
              return res.status;
            }),
          ),
        );
      };

      // notifyAuthorization: the sandbox's own delivery plus the same one to both relays at once.
      const started = await s.kiosk.request('POST', '/v1/bindings', { wallet: 'ALIPAY_HK' });
      ctx.expect(started.status === 201, `bind start: ${started.status}`);
      const { bindingId, codeValue } = started.body as { bindingId: string; codeValue: string };
      ctx.expect((await approveOnPhone(codeValue)) < 300, 'phone approval failed');
      const state = await s.store.db.selectFrom('auth_states').select('auth_state').where('binding_id', '=', bindingId).executeTakeFirstOrThrow();
      // The sandbox's state file is written a moment after the approval.
      const code = await waitFor(
        async () => ((s.sandboxRawState()['authCodes'] as Array<{ authCode: string; loginId: string }> | undefined) ?? []).at(-1),
        5_000,
        'the authCode',
      );
      const authBody = JSON.stringify({
        authorizationNotifyType: 'AUTHCODE_CREATED',
        authCode: code.authCode,
        authState: state.auth_state,
        userLoginId: `${code.loginId.slice(0, 3)}****${code.loginId.slice(-2)}`,
        result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
      });
      const authStatuses = await post('/antom/notify/authorization', authBody);
      ctx.expect(
        authStatuses.every((x) => x === 200),
        `authorization notification: ${authStatuses.join(',')}`,
      );
      await waitFor(
        async () => ((await s.kiosk.request('GET', `/v1/bindings/${bindingId}`)).body['state'] === 'ACTIVE' ? true : undefined),
        15_000,
        'binding ACTIVE',
      );
      const bindings = await s.store.db.selectFrom('bindings').select(['id', 'state']).execute();
      ctx.expect(bindings.length === 1, `bindings after a doubled authorization: ${JSON.stringify(bindings)}`);

      // A pending purchase (U, resolved S a moment later) both workers race on, and its
      // notifyPayment delivered to both relays at the same moment.
      await s.admin('POST', '/faults', { endpoint: 'pay', count: 1, mode: 'U', resolveAs: 'S', resolveAfterMs: 150 });
      const intent = randomUUID();
      const first = await ctx.calls.call('pay (pending)', 15_000, () => rawPay(s.kiosk, bindingId, intent), s.payloads);
      ctx.expect(first?.status === 200, `pay: ${JSON.stringify(first)}`);
      const row = await s.store.db.selectFrom('purchases').selectAll().where('intent_id', '=', intent).executeTakeFirstOrThrow();
      const paid = await waitFor(
        async () => {
          const st = await s.admin('GET', '/state');
          const p = (st.body['payments'] as Array<{ paymentRequestId: string; paymentId: string; status: string }>).find(
            (x) => x.paymentRequestId === row.payment_request_id,
          );
          return p?.status === 'SUCCESS' ? p : undefined;
        },
        10_000,
        'sandbox SUCCESS',
      );
      const payBody = JSON.stringify({
        notifyType: 'PAYMENT_RESULT',
        result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
        paymentRequestId: row.payment_request_id,
        paymentId: paid.paymentId,
        paymentAmount: { currency: row.currency, value: String(row.amount_minor) },
      });
      const payStatuses = await post('/antom/notify/payment', payBody);
      ctx.expect(
        payStatuses.every((x) => x === 200),
        `payment notification: ${payStatuses.join(',')}`,
      );
      // The same delivery again to both, while the workers may still be inquiring.
      await post('/antom/notify/payment', payBody);
      const final = await waitFor(
        async () => {
          const r = await s.store.db.selectFrom('purchases').select('state').where('intent_id', '=', intent).executeTakeFirstOrThrow();
          return r.state === 'SUCCEEDED' ? r : undefined;
        },
        15_000,
        'SUCCEEDED',
      ).catch(() => undefined);
      ctx.expect(final, 'the purchase did not settle');
      await sleep(500);
      const outbox = await s.store.db.selectFrom('fulfilment_outbox').select(['event_id', 'state']).where('intent_id', '=', intent).execute();
      ctx.expect(outbox.length === 1, `fulfilment outbox rows for one payment: ${outbox.length}`);
      const deliveries = s.deliveries.filter((d) => d.purchaseIntentId === intent);
      ctx.expect(deliveries.length === 1, `fulfilment deliveries for one payment: ${deliveries.length}`);
      // Both relays answer the device with the one final state.
      for (const r of both) {
        const res = await fetch(`${r.url}/healthz`);
        ctx.expect(res.status === 200, `relay ${r.url} down`);
      }
    },
  },
];
