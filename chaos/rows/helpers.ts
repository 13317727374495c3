import { isPurchaseFinal } from '@scan-to-bind/shared/domain';
import type { TestDevice } from '../../relay/test/support/client.ts';
import { bind } from '../../relay/test/support/stack.ts';
import type { Client } from '../../test/integration/client/helpers/client-stack.ts';
import type { RowContext } from '../matrix.ts';

/** Binds AlipayHK on the stack's kiosk (or launcher) end to end; returns the binding id. */
export function bindWallet(device: TestDevice, wallet: 'ALIPAY_HK' | 'DANA' = 'ALIPAY_HK'): Promise<string> {
  return bind(device, wallet);
}

type ClientStatus = Awaited<ReturnType<Client['purchases']['confirm']>>;

/** Waits (event-driven, via onChange and status) until the client reports a final state. */
export function clientFinal(client: Client, intentId: string, timeoutMs: number): Promise<ClientStatus> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`purchase ${intentId} not final after ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (s: ClientStatus) => {
      clearTimeout(timer);
      off();
      resolve(s);
    };
    const off = client.purchases.onChange((s) => {
      if (s.purchaseIntentId === intentId && isPurchaseFinal(s.state)) done(s);
    });
    void client.purchases
      .status({ purchaseIntentId: intentId })
      .then((s) => {
        if (isPurchaseFinal(s.state)) done(s);
      })
      .catch(() => undefined);
  });
}

/**
 * One purchase through the client's services: quote, confirm (deadline 15 s), then the final
 * state (deadline `finalMs`). Returns the final status (undefined if a call failed).
 */
export async function clientBuy(ctx: RowContext, client: Client, options: { sku?: string; finalMs?: number; beforeFinal?: () => Promise<void> } = {}): Promise<ClientStatus | undefined> {
  const quote = await ctx.calls.call('quote', 10_000, () => client.purchases.quote({ sku: options.sku ?? 'gems-100', quantity: 1 }), ctx.payloads);
  if (!quote) return undefined;
  const confirmed = await ctx.calls.call('confirm', 15_000, () => client.purchases.confirm({ purchaseIntentId: quote.purchaseIntentId }), ctx.payloads);
  if (!confirmed) return undefined;
  await options.beforeFinal?.();
  if (isPurchaseFinal(confirmed.state)) return confirmed;
  return ctx.calls.call('final state', options.finalMs ?? 20_000, () => clientFinal(client, quote.purchaseIntentId, options.finalMs ?? 20_000), ctx.payloads);
}

/** Moves the relay's and the sandbox's clocks forward together. */
export async function advanceClocks(ctx: RowContext, ms: number): Promise<void> {
  ctx.stack.clock.advance(ms);
  await ctx.stack.admin('POST', '/clock', { advanceMs: ms });
}

/** A signed raw purchase by a test device. */
export function rawPay(device: TestDevice, bindingId: string, intentId: string, sku = 'gems-100', quantity = 1) {
  return device.request('POST', '/v1/purchases', { bindingId, sku, quantity, purchaseIntentId: intentId });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
