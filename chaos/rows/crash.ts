import { randomUUID } from 'node:crypto';
import type { Row, RowContext } from '../matrix.ts';
import { bindWallet, rawPay } from './helpers.ts';

/**
 * SIGKILL rows: the relay runs in a child process with RELAY_CHAOS_CRASH_AT set, dies at that
 * point of a pay, and is restarted (same database, same port) without it. The device retries
 * with the same intent id until it gets an answer; the restarted relay's worker resolves it.
 */
function crashRow(name: string, point: string): Row {
  return {
    name,
    family: 'crash',
    // A short payment expiry: a pay that was never sent is cancelled (ORDER_NOT_EXIST → FAILED) within seconds.
    stack: { process: true, overrides: { payments: { inquiryIntervalMs: 100, expiryMs: 4_000, unresolvedInquiryIntervalMs: 300, leaseMs: 2_000 } } },
    runs: 2,
    async run(ctx: RowContext) {
      const s = ctx.stack;
      const bindingId = await bindWallet(s.kiosk);
      // Swap the first relay for one that dies at the crash point.
      await s.relays.splice(0)[0]?.close();
      const dying = await s.startRelay({ env: { RELAY_CHAOS_CRASH_AT: point } });
      s.relay = dying;
      const intent = randomUUID();
      const first = await ctx.calls.call(
        'pay (relay dies)',
        15_000,
        () => rawPay(s.kiosk, bindingId, intent).catch((e: Error) => ({ status: 0, body: { error: { code: 'RELAY_UNAVAILABLE' }, message: e.message } })),
        s.payloads,
      );
      const how = await dying.exited;
      ctx.expect(how === 'SIGKILL', `relay did not die at ${point}: ${String(how)} ${JSON.stringify(first)}`);
      s.relays.splice(s.relays.indexOf(dying), 1);
      s.relay = await s.startRelay();
      let final: Record<string, unknown> | undefined;
      const until = Date.now() + 20_000;
      while (Date.now() < until) {
        const r = await rawPay(s.kiosk, bindingId, intent);
        if (r.status === 200 && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(String(r.body['state']))) {
          final = r.body;
          break;
        }
        await new Promise((res) => setTimeout(res, 150));
      }
      ctx.expect(final, `intent not final after restart (${point})`);
    },
  };
}

export const crashRows: Row[] = [
  crashRow('SIGKILL before pay', 'before-pay'),
  crashRow('SIGKILL after S, before commit', 'after-pay-response'),
  crashRow('SIGKILL after pay (committed)', 'after-commit'),
];
