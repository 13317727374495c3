import type { Row } from '../matrix.ts';
import { advanceClocks, clientBuy, kioskClientWithBinding } from './helpers.ts';

/** Provider faults on pay: U then S, U until expiry, timeout, 5xx, dropped connection. */
function providerRow(name: string, fault: Record<string, unknown>, expect: 'SUCCEEDED' | 'FAILED', opts: { expire?: boolean } = {}): Row {
  return {
    name,
    family: 'provider',
    runs: 3,
    async run(ctx) {
      const client = await kioskClientWithBinding(ctx);
      const f = await ctx.stack.admin('POST', '/faults', { endpoint: 'pay', count: 1, ...fault });
      ctx.expect(f.status === 200, `fault refused: ${JSON.stringify(f.body)}`);
      const final = await clientBuy(ctx, client, {
        finalMs: 25_000,
        beforeFinal: opts.expire
          ? async () => {
              await new Promise((r) => setTimeout(r, 300));
              await advanceClocks(ctx, 61_000);
            }
          : undefined,
      });
      ctx.expect(final?.state === expect, `expected ${expect}, got ${JSON.stringify(final)}`);
    },
  };
}

export const providerRows: Row[] = [
  providerRow('provider U then S', { mode: 'U', resolveAs: 'S', resolveAfterInquiries: 1 }, 'SUCCEEDED'),
  providerRow('provider U until expiry', { mode: 'U', resolveAs: 'never' }, 'FAILED', { expire: true }),
  providerRow('provider timeout', { mode: 'timeout', delayMs: 5_000 }, 'SUCCEEDED'),
  providerRow('provider 5xx', { mode: '5xx', status: 503 }, 'FAILED', { expire: true }),
  providerRow('provider dropped connection', { mode: 'drop' }, 'SUCCEEDED'),
];
