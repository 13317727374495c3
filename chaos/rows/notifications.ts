import { randomUUID } from 'node:crypto';
import type { Row, RowContext } from '../matrix.ts';
import { bindWallet, clientBuy, kioskClientWithBinding, rawPay, sleep } from './helpers.ts';
import { postNotification, signedNotification, snapshot } from './notify-sign.ts';

const PATH = '/antom/notify/payment';

/** Buys `n` items with U faults so each result also arrives by notifyPayment. */
async function buyWithNotifications(ctx: RowContext, n: number): Promise<void> {
  const client = await kioskClientWithBinding(ctx);
  for (let i = 0; i < n; i++) {
    await ctx.stack.admin('POST', '/faults', { endpoint: 'pay', count: 1, mode: 'U', resolveAs: i % 3 === 2 ? 'F' : 'S', resolveAfterMs: 0 });
    const final = await clientBuy(ctx, client);
    ctx.expect(final && (final.state === 'SUCCEEDED' || final.state === 'FAILED'), `purchase ${i} not final: ${JSON.stringify(final)}`);
  }
}

/** A settled purchase made with the raw device; returns its row. */
async function settledPurchase(ctx: RowContext) {
  const bindingId = await bindWallet(ctx.stack.kiosk);
  const intent = randomUUID();
  const res = await ctx.calls.call('pay', 15_000, () => rawPay(ctx.stack.kiosk, bindingId, intent), ctx.stack.payloads);
  ctx.expect(res?.status === 200 && res.body['state'] === 'SUCCEEDED', `pay: ${JSON.stringify(res)}`);
  const row = await ctx.stack.store.db.selectFrom('purchases').selectAll().where('intent_id', '=', intent).executeTakeFirstOrThrow();
  return row;
}

function paymentBody(
  row: { payment_request_id: string; payment_id: string | null; currency: string; amount_minor: number },
  status: 'S' | 'F',
  code = status === 'S' ? 'SUCCESS' : 'PROCESS_FAIL',
): string {
  return JSON.stringify({
    notifyType: 'PAYMENT_RESULT',
    result: { resultCode: code, resultStatus: status, resultMessage: code },
    paymentRequestId: row.payment_request_id,
    paymentId: row.payment_id ?? 'x',
    paymentAmount: { currency: row.currency, value: String(row.amount_minor) },
  });
}

export const notificationRows: Row[] = [
  {
    name: 'notify duplicate',
    family: 'notification',
    runs: 2,
    async run(ctx) {
      await ctx.stack.admin('POST', '/notifications/faults', { mode: 'duplicate', count: 10 });
      await buyWithNotifications(ctx, 3);
    },
  },
  {
    name: 'notify reordered',
    family: 'notification',
    runs: 2,
    async run(ctx) {
      await ctx.stack.admin('POST', '/notifications/faults', { mode: 'reorder', count: 3, delayMs: 300 });
      await buyWithNotifications(ctx, 3);
    },
  },
  {
    name: 'notify retried 8x',
    family: 'notification',
    async run(ctx) {
      const row = await settledPurchase(ctx);
      const body = paymentBody(row, 'S');
      const before = await snapshot(ctx.stack);
      for (let i = 0; i < 8; i++) {
        const at = new Date(Date.now() - (8 - i) * 60_000).toISOString();
        const res = await postNotification(ctx.stack, PATH, body, signedNotification(ctx.stack.antomPrivateKey, ctx.stack.clientId, PATH, body, at));
        ctx.expect(res.status === 200 && (res.body['result'] as { resultCode?: string }).resultCode === 'SUCCESS', `retry ${i}: ${res.status}`);
      }
      ctx.expect((await snapshot(ctx.stack)) === before, 'eight retries changed state');
    },
  },
  {
    name: 'notify bad signature',
    family: 'notification',
    async run(ctx) {
      const row = await settledPurchase(ctx);
      const good = paymentBody(row, 'S');
      const headers = signedNotification(ctx.stack.antomPrivateKey, ctx.stack.clientId, PATH, good, new Date().toISOString());
      const before = await snapshot(ctx.stack);
      const forged = paymentBody(row, 'F');
      const cases: Array<[string, Record<string, string>]> = [
        [forged, headers],
        [good, { ...headers, 'client-id': 'SANDBOX_OTHER' }],
        [good, { ...headers, 'request-time': new Date(Date.now() + 1).toISOString() }],
        [good, { ...headers, signature: 'algorithm=RSA256,keyVersion=1,signature=AAAA' }],
        [good, { 'content-type': 'application/json' }],
      ];
      for (const [body, h] of cases) {
        const res = await postNotification(ctx.stack, PATH, body, h);
        ctx.expect(res.status === 401, `forged notification answered ${res.status}`);
      }
      ctx.expect((await snapshot(ctx.stack)) === before, 'a forged notification changed state');
    },
  },
  {
    name: 'notify stale',
    family: 'notification',
    async run(ctx) {
      // Signed by Antom, but two days old (past Antom's 24 h of re-sends) and contradicting the
      // recorded success: refused by the request-time window before any handling.
      const row = await settledPurchase(ctx);
      const body = paymentBody(row, 'F');
      const before = await snapshot(ctx.stack);
      const res = await postNotification(
        ctx.stack,
        PATH,
        body,
        signedNotification(ctx.stack.antomPrivateKey, ctx.stack.clientId, PATH, body, new Date(Date.now() - 2 * 86_400_000).toISOString()),
      );
      ctx.expect(res.status === 401, `stale notification: ${res.status}`);
      ctx.expect((await snapshot(ctx.stack)) === before, 'a stale contradicting notification changed state');
    },
  },
  {
    name: 'notify replayed',
    family: 'notification',
    async run(ctx) {
      // Byte-for-byte replay of a real delivery (unknown intent first, then a real one twice).
      const row = await settledPurchase(ctx);
      const body = paymentBody(row, 'S');
      const headers = signedNotification(ctx.stack.antomPrivateKey, ctx.stack.clientId, PATH, body, new Date().toISOString());
      const before = await snapshot(ctx.stack);
      for (let i = 0; i < 3; i++) ctx.expect((await postNotification(ctx.stack, PATH, body, headers)).status === 200, 'replay refused');
      const unknown = paymentBody({ ...row, payment_request_id: `pay_${randomUUID().replace(/-/g, '')}` }, 'S');
      const u = await postNotification(
        ctx.stack,
        PATH,
        unknown,
        signedNotification(ctx.stack.antomPrivateKey, ctx.stack.clientId, PATH, unknown, new Date().toISOString()),
      );
      ctx.expect(u.status === 200, `unknown payment notification: ${u.status}`);
      await sleep(200);
      ctx.expect((await snapshot(ctx.stack)) === before, 'a replayed notification changed state');
    },
  },
];
