import { isPurchaseFinal } from '@scan-to-bind/shared/domain';
import type { TestDevice } from '../../relay/test/support/client.ts';
import { approveOnPhone, bind } from '../../relay/test/support/stack.ts';
import type { Client } from '../../test/integration/client/helpers/client-stack.ts';
import type { RowContext } from '../matrix.ts';

/** Binds AlipayHK on the stack's kiosk (or launcher) end to end; returns the binding id. */
export function bindWallet(device: TestDevice, wallet: 'ALIPAY_HK' | 'DANA' = 'ALIPAY_HK'): Promise<string> {
  return bind(device, wallet);
}

/** A visitor links `wallet` on the client's own screen (start, the phone approves, ACTIVE); returns the binding id. */
export async function linkOnClient(ctx: RowContext, c: Client, wallet: 'ALIPAY_HK' | 'DANA' = 'ALIPAY_HK', loginId?: string): Promise<string> {
  const started = await ctx.calls.call('start binding', 10_000, () => c.binding.start(wallet), ctx.payloads);
  ctx.expect(started?.qr, `no QR: ${JSON.stringify(started)}`);
  await approveOnPhone(started?.qr?.codeValue as string, loginId);
  const deadline = Date.now() + 10_000;
  while (c.binding.status().state !== 'ACTIVE' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 40));
  ctx.expect(c.binding.status().state === 'ACTIVE', `binding ${c.binding.status().state}`);
  return c.binding.bindingId as string;
}

/**
 * A kiosk client with a wallet linked on its own screen. A kiosk client takes back no binding
 * made before it started (each start is a new visit, issue 14), so rows that buy through the
 * client link through it rather than through the raw test device.
 */
export async function kioskClientWithBinding(ctx: RowContext): Promise<Client> {
  const client = await ctx.client('kiosk');
  await linkOnClient(ctx, client);
  return client;
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
export async function clientBuy(
  ctx: RowContext,
  client: Client,
  options: { sku?: string; finalMs?: number; beforeFinal?: () => Promise<void> } = {},
): Promise<ClientStatus | undefined> {
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
