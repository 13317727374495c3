import { randomUUID } from 'node:crypto';
import { createKioskReset } from '../../main/services/kiosk-session.ts';
import { startTcpProxy } from '../../test/e2e/host/tcp-proxy.ts';
import type { Row, RowContext } from '../matrix.ts';
import { clientBuy, linkOnClient } from './helpers.ts';

const PREVIOUS = '852-6123-8812';
const NEXT = '62-812-3456-4321';

/** A sandbox account's balance (minor units). */
async function balance(ctx: RowContext, loginId: string): Promise<number> {
  const accounts = (await ctx.stack.admin('GET', '/state')).body['accounts'] as Array<{ loginId: string; balance: number }>;
  return Number(accounts.find((a) => a.loginId === loginId)?.balance);
}

/**
 * Issue 14: the kiosk resets while the relay cannot be reached. The screen is wiped at once;
 * the next visitor's Buy cannot reach the previous wallet (locally: no binding; at the relay:
 * the old binding's purchase for the new visit is refused); once the relay is back the outbox
 * revokes the old binding at the relay and the sandbox, and the next visitor pays with their own.
 */
export const kioskRows: Row[] = (['down', '503'] as const).map(
  (fault): Row => ({
    name: fault === 'down' ? 'kiosk reset with the relay down' : 'kiosk reset with the relay answering 503',
    family: 'client-attack',
    runs: 3,
    async run(ctx) {
      const proxy = await startTcpProxy(ctx.stack.relay.url);
      try {
        const c = await ctx.client('kiosk', undefined, { relayUrl: proxy.url });
        const visits = c.visits;
        ctx.expect(visits, 'a kiosk client has visits');
        if (!visits) return;
        const oldId = await linkOnClient(ctx, c, 'ALIPAY_HK', PREVIOUS);
        const before = await balance(ctx, PREVIOUS);
        if (fault === 'down') proxy.cut();
        else proxy.answer(503);
        const reset = createKioskReset({
          visits,
          binding: c.binding,
          purchases: c.purchases,
          wipeStorage: async () => {},
          reloadWindows: () => {},
          log: c.log,
        });
        await ctx.calls.call('kiosk reset', 1_000, reset, ctx.payloads);
        ctx.expect(c.binding.status().state === 'NONE', `after reset: ${c.binding.status().state}`);
        ctx.expect((await c.vault.bindingRef(c.playerKey)) === null, 'vault reference kept');
        const buy = await clientBuy(ctx, c);
        ctx.expect(buy === undefined, 'a Buy went through after the reset');
        // The old binding, this visit, straight at the relay: refused before Antom.
        const stale = await ctx.calls.call(
          'stale pay',
          10_000,
          () =>
            ctx.stack.kiosk.request('POST', '/v1/purchases', {
              bindingId: oldId,
              sku: 'gems-100',
              quantity: 1,
              purchaseIntentId: randomUUID(),
              visitId: visits.current(),
            }),
          ctx.stack.payloads,
        );
        ctx.expect(stale?.status === 409, `stale pay: ${stale?.status} ${JSON.stringify(stale?.body)}`);
        proxy.restore();
        visits.drain();
        await ctx.calls.call('outbox drained', 15_000, () => visits.whenDrained(), ctx.payloads);
        const old = await ctx.stack.kiosk.request('GET', `/v1/bindings/${oldId}`);
        ctx.expect(old.body['state'] === 'REVOKED', `old binding ${String(old.body['state'])}`);
        await linkOnClient(ctx, c, 'DANA', NEXT);
        const paid = await clientBuy(ctx, c);
        ctx.expect(paid?.state === 'SUCCEEDED', `next visitor: ${paid?.state}`);
        ctx.expect((await balance(ctx, PREVIOUS)) === before, 'the previous wallet was debited');
      } finally {
        await proxy.close();
      }
    },
  }),
);
