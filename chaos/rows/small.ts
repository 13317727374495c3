import { randomUUID } from 'node:crypto';
import type { Row, RowContext } from '../matrix.ts';
import { bindWallet, rawPay } from './helpers.ts';
import { postNotification, signedNotification, snapshot } from './notify-sign.ts';

const PAYMENT = '/antom/notify/payment';

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
      const audit = async () => (await ctx.stack.store.db.selectFrom('notifications').select('id').execute()).length;
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
];
