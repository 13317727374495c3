import { randomUUID } from 'node:crypto';
import { TestDevice } from '../../relay/test/support/client.ts';
import type { Row, RowContext } from '../matrix.ts';
import { bindWallet, rawPay } from './helpers.ts';
import { snapshot } from './notify-sign.ts';

/** Sends a request and expects 401; records it as a client call. */
async function unauthorized(ctx: RowContext, label: string, fn: () => Promise<{ status: number; body: Record<string, unknown> }>): Promise<void> {
  const res = await ctx.calls.call(label, 10_000, fn, ctx.stack.payloads);
  ctx.expect(res?.status === 401, `${label}: expected 401, got ${res?.status} ${JSON.stringify(res?.body).slice(0, 200)}`);
}

/** The number of payments the Antom sandbox recorded (its ledger of debits). */
async function sandboxPayments(ctx: RowContext): Promise<number> {
  const state = await ctx.stack.admin('GET', '/state');
  return (state.body['payments'] as unknown[] | undefined)?.length ?? -1;
}

/** A player assertion is no bearer token (did pins it to a device; the request signature covers it). */
export const assertRows: Row[] = [
  {
    name: 'assertion replayed by another launcher',
    family: 'client-attack',
    async run(ctx) {
      const victimId = ctx.stack.launcher.creds.deviceId;
      const player = `victim-${randomUUID()}`;
      const victim = new TestDevice(
        ctx.stack.relay.url,
        ctx.stack.launcher.creds,
        () => ctx.stack.assertion(player, victimId),
        () => ctx.stack.clock.now(),
      );
      const bindingId = await bindWallet(victim);
      const attacker = new TestDevice(ctx.stack.relay.url, await ctx.stack.enrolDevice('launcher'), undefined, () => ctx.stack.clock.now());
      const before = await snapshot(ctx.stack);
      const debits = await sandboxPayments(ctx);
      // The victim's token, pinned or not, on the second launcher's own validly signed requests.
      for (const [pin, stolen] of [
        ['pinned', ctx.stack.assertion(player, victimId)],
        ['unpinned', ctx.stack.assertion(player, null)],
      ] as const) {
        attacker.assertion = stolen;
        await unauthorized(ctx, `${pin} replay reads binding`, () => attacker.request('GET', `/v1/bindings/${bindingId}`));
        await unauthorized(ctx, `${pin} replay reads current`, () => attacker.request('GET', '/v1/bindings/current'));
        await unauthorized(ctx, `${pin} replay pays`, () => rawPay(attacker, bindingId, randomUUID()));
      }
      // The victim's header moved onto a request after signing: the signature no longer holds.
      const swapped = ctx.stack.assertion(`other-${randomUUID()}`, victimId);
      await unauthorized(ctx, 'header swapped after signing', () =>
        victim.request(
          'POST',
          '/v1/purchases',
          { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: randomUUID() },
          { headers: (h) => ({ ...h, 'x-player-assertion': swapped }) },
        ),
      );
      ctx.expect((await snapshot(ctx.stack)) === before, 'a replayed assertion changed state');
      ctx.expect((await sandboxPayments(ctx)) === debits, 'a replayed assertion reached the wallet');
      // The rightful launcher still pays.
      const paid = await ctx.calls.call('victim pays', 15_000, () => rawPay(victim, bindingId, randomUUID()), ctx.stack.payloads);
      ctx.expect(paid?.status === 200 && paid.body['state'] === 'SUCCEEDED', `victim pay: ${paid?.status} ${JSON.stringify(paid?.body).slice(0, 200)}`);
    },
  },
];
