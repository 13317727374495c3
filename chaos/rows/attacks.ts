import { randomUUID } from 'node:crypto';
import { send } from '../../relay/test/support/client.ts';
import type { Row, RowContext } from '../matrix.ts';
import { bindWallet, rawPay } from './helpers.ts';
import { snapshot } from './notify-sign.ts';

/** Strings that must be refused (or stored verbatim) everywhere, never a 5xx or a changed row. */
export const HOSTILE = [
  "'; DROP TABLE purchases; --",
  "' OR '1'='1",
  '"); DELETE FROM bindings; --',
  '\u0000\u0001\u001b[31m\r\n\t',
  '\u202e\ufeff\ud83d\ude00'.repeat(400),
  '漢字'.repeat(3000),
  '../../etc/passwd',
  '%00%0d%0a',
];

/** Sends a request and expects a typed 4xx; records it as a client call. */
async function refused(
  ctx: RowContext,
  label: string,
  fn: () => Promise<{ status: number; body: Record<string, unknown> }>,
  statuses: number[],
): Promise<void> {
  const res = await ctx.calls.call(label, 10_000, fn, ctx.stack.payloads);
  ctx.expect(res && statuses.includes(res.status), `${label}: expected ${statuses.join('/')}, got ${res?.status} ${JSON.stringify(res?.body).slice(0, 200)}`);
}

export const attackRows: Row[] = [
  {
    name: 'client replayed request',
    family: 'client-attack',
    async run(ctx) {
      const bindingId = await bindWallet(ctx.stack.kiosk);
      const body = JSON.stringify({ bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: randomUUID() });
      const headers = ctx.stack.kiosk.sign('POST', '/v1/purchases', body);
      const first = await ctx.calls.call('pay', 15_000, () => send(ctx.stack.relay.url, 'POST', '/v1/purchases', body, headers), ctx.stack.payloads);
      ctx.expect(first?.status === 200, `first: ${first?.status}`);
      const before = await snapshot(ctx.stack);
      for (let i = 0; i < 3; i++) await refused(ctx, 'replay', () => send(ctx.stack.relay.url, 'POST', '/v1/purchases', body, headers), [409]);
      ctx.expect((await snapshot(ctx.stack)) === before, 'replay changed state');
    },
  },
  {
    name: 'client stale request',
    family: 'client-attack',
    async run(ctx) {
      const bindingId = await bindWallet(ctx.stack.kiosk);
      const k = ctx.stack.kiosk;
      // The whole money state plus the device's nonces: a refused stale request leaves no trace.
      const state = async () => {
        const nonces = await ctx.stack.store.db.selectFrom('nonces').select(['device_id', 'nonce']).orderBy('nonce').execute();
        return `${await snapshot(ctx.stack)}|${JSON.stringify(nonces)}`;
      };
      const before = await state();
      const intents: string[] = [];
      for (const skew of [-10 * 60_000, 10 * 60_000, -301_000, 301_000]) {
        const intent = randomUUID();
        intents.push(intent);
        await refused(
          ctx,
          `stale ${skew}`,
          () => k.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: intent }, { at: Date.now() + skew }),
          [401],
        );
        await refused(ctx, `stale unlink ${skew}`, () => k.request('DELETE', `/v1/bindings/${bindingId}`, undefined, { at: Date.now() + skew }), [401]);
      }
      ctx.expect((await state()) === before, 'a stale request changed state');
      // The same intents, sent fresh, are new purchases (the stale ones were never recorded).
      for (const intent of intents.slice(0, 2)) {
        const res = await ctx.calls.call('fresh pay', 15_000, () => rawPay(k, bindingId, intent), ctx.stack.payloads);
        ctx.expect(res?.status === 200 && res.body['purchaseIntentId'] === intent, `fresh pay after stale: ${JSON.stringify(res?.body).slice(0, 200)}`);
      }
    },
  },
  {
    name: 'client tampered price/sku/binding',
    family: 'client-attack',
    async run(ctx) {
      const bindingId = await bindWallet(ctx.stack.kiosk);
      const launcherBinding = await bindWallet(ctx.stack.launcher, 'ALIPAY_HK');
      const before = await snapshot(ctx.stack);
      const intent = randomUUID();
      const k = ctx.stack.kiosk;
      // a price field (strict schema), sku and binding changed after signing, another owner's binding
      await refused(
        ctx,
        'price field',
        () => k.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: intent, amount: { currency: 'HKD', minor: 1 } }),
        [400],
      );
      // A pay of one `sku` signed, then its body changed in flight: the signature no longer matches.
      const tampered = (label: string, sku: string, tamper: (body: string) => string) =>
        refused(ctx, label, () => k.request('POST', '/v1/purchases', { bindingId, sku, quantity: 1, purchaseIntentId: intent }, { tamperBody: tamper }), [401]);
      await tampered('sku tampered', 'gems-100', (b) => b.replace('gems-100', 'gems-1000'));
      await tampered('price tampered', 'vault', (b) => b.replace('"quantity":1', '"quantity":0.01'));
      await tampered('binding tampered', 'gems-100', (b) => b.replace(bindingId, launcherBinding));
      await refused(ctx, 'other owner binding', () => rawPay(k, launcherBinding, intent), [404]);
      await refused(
        ctx,
        'quantity as string',
        () => k.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: '1', purchaseIntentId: intent }),
        [400],
      );
      await refused(
        ctx,
        'negative quantity',
        () => k.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: -1, purchaseIntentId: intent }),
        [400, 422],
      );
      ctx.expect((await snapshot(ctx.stack)) === before, 'a tampered request changed state');
    },
  },
  {
    name: 'client from another device',
    family: 'client-attack',
    async run(ctx) {
      const bindingId = await bindWallet(ctx.stack.kiosk);
      const intent = randomUUID();
      const ok = await ctx.calls.call('pay', 15_000, () => rawPay(ctx.stack.kiosk, bindingId, intent), ctx.stack.payloads);
      ctx.expect(ok?.status === 200, 'kiosk purchase failed');
      const before = await snapshot(ctx.stack);
      const other = ctx.stack.launcher;
      await refused(ctx, 'other device pays', () => rawPay(other, bindingId, randomUUID()), [404]);
      await refused(ctx, 'other device reads purchase', () => other.request('GET', `/v1/purchases/${intent}`), [404]);
      await refused(ctx, 'other device reads binding', () => other.request('GET', `/v1/bindings/${bindingId}`), [404]);
      await refused(ctx, 'other device unlinks', () => other.request('DELETE', `/v1/bindings/${bindingId}`), [404]);
      await refused(ctx, 'same intent, other device', () => rawPay(other, bindingId, intent), [404, 409]);
      await refused(
        ctx,
        'kiosk id, launcher secret',
        () => other.request('GET', '/v1/purchases', undefined, { headers: (h) => ({ ...h, 'x-device-id': ctx.stack.kiosk.creds.deviceId }) }),
        [401],
      );
      const assertionForOther = ctx.stack.assertion('demo-1', ctx.stack.kiosk.creds.deviceId);
      await refused(
        ctx,
        'assertion pinned to another device',
        () => other.request('GET', '/v1/purchases', undefined, { headers: (h) => ({ ...h, 'x-player-assertion': assertionForOther }) }),
        [401],
      );
      ctx.expect((await snapshot(ctx.stack)) === before, 'another device changed state');
    },
  },
  {
    name: 'client injection strings',
    family: 'client-attack',
    async run(ctx) {
      const bindingId = await bindWallet(ctx.stack.kiosk);
      const before = await snapshot(ctx.stack);
      const k = ctx.stack.kiosk;
      for (const s of HOSTILE) {
        const enc = encodeURIComponent(s).slice(0, 4000);
        const attempts: Array<[string, () => Promise<{ status: number; body: Record<string, unknown> }>]> = [
          ['sku', () => k.request('POST', '/v1/purchases', { bindingId, sku: s, quantity: 1, purchaseIntentId: randomUUID() })],
          ['bindingId', () => k.request('POST', '/v1/purchases', { bindingId: s, sku: 'gems-100', quantity: 1, purchaseIntentId: randomUUID() })],
          ['intent', () => k.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: s })],
          ['wallet', () => k.request('POST', '/v1/bindings', { wallet: s })],
          ['path id', () => k.request('GET', `/v1/purchases/${enc}`)],
          ['binding path', () => k.request('GET', `/v1/bindings/${enc}`)],
          ['query', () => k.request('GET', `/v1/catalogue?currency=${enc}`)],
          ['enrol code', () => send(ctx.stack.relay.url, 'POST', '/v1/devices/enroll', JSON.stringify({ code: s, label: s }), {})],
          [
            'device header',
            () => k.request('GET', '/v1/purchases', undefined, { headers: (h) => ({ ...h, 'x-device-id': s.replace(/[^\x20-\x7e]/g, 'x').slice(0, 200) }) }),
          ],
        ];
        for (const [label, fn] of attempts) await refused(ctx, `injection ${label}`, fn, [400, 401, 404, 409, 413, 422]);
      }
      ctx.expect((await snapshot(ctx.stack)) === before, 'an injection string changed state');
    },
  },
  {
    name: 'client 1 MB bodies',
    family: 'client-attack',
    async run(ctx) {
      const bindingId = await bindWallet(ctx.stack.kiosk);
      const before = await snapshot(ctx.stack);
      const big = 'x'.repeat(1024 * 1024);
      const k = ctx.stack.kiosk;
      await refused(
        ctx,
        '1 MB purchase',
        () => k.request('POST', '/v1/purchases', { bindingId, sku: big, quantity: 1, purchaseIntentId: randomUUID() }),
        [413],
      );
      await refused(ctx, '1 MB enrol', () => send(ctx.stack.relay.url, 'POST', '/v1/devices/enroll', JSON.stringify({ code: big }), {}), [413]);
      await refused(ctx, '1 MB notification', () => send(ctx.stack.relay.url, 'POST', '/antom/notify/payment', JSON.stringify({ x: big }), {}), [401, 413]);
      await refused(
        ctx,
        '1 MB admin',
        () => send(ctx.stack.relay.adminUrl, 'POST', '/admin/v1/devices', JSON.stringify({ label: big, kind: 'kiosk' }), {}),
        [401, 413],
      );
      ctx.expect((await snapshot(ctx.stack)) === before, 'a 1 MB body changed state');
    },
  },
];
