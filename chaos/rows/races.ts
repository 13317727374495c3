import { randomUUID } from 'node:crypto';
import type { Row } from '../matrix.ts';
import { bindWallet, clientBuy, kioskClientWithBinding, rawPay, sleep } from './helpers.ts';

export const raceRows: Row[] = [
  {
    name: 'revoke racing pay',
    family: 'race',
    runs: 5,
    async run(ctx) {
      const bindingId = await bindWallet(ctx.stack.kiosk);
      const k = ctx.stack.kiosk;
      const pays = Array.from({ length: 3 }, () => ctx.calls.call('pay', 15_000, () => rawPay(k, bindingId, randomUUID()), ctx.stack.payloads));
      const revoke = ctx.calls.call('unlink', 15_000, () => k.request('DELETE', `/v1/bindings/${bindingId}`), ctx.stack.payloads);
      await Promise.all([...pays, revoke]);
      const after = await ctx.calls.call('pay after unlink', 15_000, () => rawPay(k, bindingId, randomUUID()), ctx.stack.payloads);
      ctx.expect(after?.status === 409 || after?.status === 422 || after?.body['state'] === 'FAILED', `paid after unlink: ${JSON.stringify(after?.body)}`);
    },
  },
  {
    name: 'token expiring mid-purchase',
    family: 'race',
    runs: 3,
    async run(ctx) {
      const client = await kioskClientWithBinding(ctx);
      // pay is held for a while; the access token expires at the sandbox meanwhile.
      await ctx.stack.admin('POST', '/faults', { endpoint: 'pay', count: 1, mode: 'delay', delayMs: 400 });
      const buying = clientBuy(ctx, client, { finalMs: 20_000 });
      await sleep(100);
      await ctx.stack.admin('POST', '/tokens/expire', { loginId: '852-6123-8812' });
      const first = await buying;
      ctx.expect(first && (first.state === 'SUCCEEDED' || first.state === 'FAILED'), `first purchase: ${JSON.stringify(first)}`);
      // The next purchase: the relay refreshes the token (or reports the binding expired); never a hang.
      await sleep(300);
      const second = await clientBuy(ctx, client, { finalMs: 20_000 });
      ctx.expect(second === undefined || ['SUCCEEDED', 'FAILED'].includes(second.state), `second purchase: ${JSON.stringify(second)}`);
    },
  },
  {
    name: 'clock skew ±10 min',
    family: 'clock',
    async run(ctx) {
      const bindingId = await bindWallet(ctx.stack.kiosk);
      const k = ctx.stack.kiosk;
      for (const skew of [-10 * 60_000, 10 * 60_000]) {
        const res = await ctx.calls.call(
          `skew ${skew}`,
          10_000,
          () => k.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: randomUUID() }, { at: Date.now() + skew }),
          ctx.stack.payloads,
        );
        ctx.expect(res?.status === 401 && (res.body['error'] as { code?: string }).code === 'REQUEST_EXPIRED', `skewed request: ${JSON.stringify(res)}`);
      }
      // The relay's own clock 10 minutes ahead (relay vs sandbox skew): purchases still settle exactly once.
      const client = await kioskClientWithBinding(ctx);
      ctx.stack.clock.advance(10 * 60_000);
      const final = await clientBuy(ctx, client);
      ctx.expect(final === undefined || final.state === 'SUCCEEDED' || final.state === 'FAILED', `skewed relay: ${JSON.stringify(final)}`);
    },
  },
];
