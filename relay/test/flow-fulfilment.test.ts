import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signFulfilment, verifyFulfilment } from '../src/fulfilment/signature.ts';
import { ADMIN_TOKEN, adminCall } from './support/admin.ts';
import { engines, uuid } from './support/env.ts';
import { bind, type Stack, startStack, waitFor } from './support/stack.ts';

const SECRET = 'studio-webhook-secret-0123456789';

/** A studio game server: verifies, fails its first `failFirst` deliveries, dedupes by purchaseIntentId. */
function gameServer(
  failFirst: number,
): Promise<{ server: Server; url: string; deliveries: number; granted: Map<string, Record<string, unknown>>; refusedSignatures: number }> {
  const state = { deliveries: 0, refusedSignatures: 0, granted: new Map<string, Record<string, unknown>>() };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const header = req.headers['x-fulfilment-signature'];
      if (!verifyFulfilment(SECRET, typeof header === 'string' ? header : undefined, raw, Date.now())) {
        state.refusedSignatures += 1;
        res.writeHead(401).end();
        return;
      }
      state.deliveries += 1;
      if (state.deliveries <= failFirst) {
        res.writeHead(500).end('try later');
        return;
      }
      const event = JSON.parse(raw) as Record<string, unknown>;
      const key = String(event['purchaseIntentId']);
      if (!state.granted.has(key)) state.granted.set(key, event);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(Object.assign(state, { server, url: `http://127.0.0.1:${port}/fulfil` }) as typeof state & { server: Server; url: string });
    });
  });
}

describe('fulfilment signature', () => {
  it('verifies in constant time, refuses tampering and stale timestamps', () => {
    const body = '{"purchaseIntentId":"x"}';
    const now = Date.now();
    const header = signFulfilment(SECRET, now, body);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/u);
    expect(verifyFulfilment(SECRET, header, body, now)).toBe(true);
    expect(verifyFulfilment(SECRET, header, `${body} `, now)).toBe(false);
    expect(verifyFulfilment('another-secret-0123456789', header, body, now)).toBe(false);
    expect(verifyFulfilment(SECRET, header, body, now + 5 * 60_000 + 1)).toBe(false);
    expect(verifyFulfilment(SECRET, undefined, body, now)).toBe(false);
  });
});

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`fulfilment webhook (${engine.name})`, () => {
    if (engine.skip) console.warn(engine.skip);
    let s: Stack;
    let game: Awaited<ReturnType<typeof gameServer>>;
    beforeAll(async () => {
      game = await gameServer(3);
      s = await startStack(engine.name, {
        admin: { token: ADMIN_TOKEN },
        fulfilment: { webhookUrl: game.url, secret: SECRET, kiosks: 'local', baseDelayMs: 40, maxDelayMs: 200, timeoutMs: 2_000 },
      });
    });
    afterAll(async () => {
      await s?.close();
      game?.server.close();
    });

    it('a receiver failing 3 times then succeeding gets the event exactly once after dedupe', async () => {
      const bindingId = await bind(s.launcher, 'ALIPAY_HK');
      const intent = uuid();
      const paid = await s.launcher.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 2, purchaseIntentId: intent });
      expect(paid.body['state']).toBe('SUCCEEDED');
      const row = await waitFor(
        async () => {
          const r = await s.relay.store.db.selectFrom('fulfilment_outbox').selectAll().where('intent_id', '=', intent).executeTakeFirst();
          return r?.state === 'DELIVERED' ? r : undefined;
        },
        10_000,
        'delivered',
      );
      expect(row.attempts).toBe(4);
      expect(game.deliveries).toBe(4);
      expect(game.refusedSignatures).toBe(0);
      expect(game.granted.size).toBe(1);
      expect(game.granted.get(intent)).toMatchObject({
        purchaseIntentId: intent,
        playerId: 'demo-1',
        sku: 'gems-100',
        quantity: 2,
        total: { currency: 'HKD', minor: 2400 },
      });
      expect(typeof game.granted.get(intent)?.['paymentId']).toBe('string');
      const listed = await adminCall(s.relay.adminUrl, 'GET', `/admin/v1/deliveries?purchaseIntentId=${intent}`);
      expect(listed.body['deliveries']).toEqual([expect.objectContaining({ purchaseIntentId: intent, state: 'DELIVERED', attempts: 4, lastStatus: 200 })]);
    });

    it('a kiosk purchase is left to the kiosk (local callback) when configured so', async () => {
      const bindingId = await bind(s.kiosk, 'ALIPAY_HK');
      const intent = uuid();
      const paid = await s.kiosk.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
      expect(paid.body['state']).toBe('SUCCEEDED');
      const row = await s.relay.store.db.selectFrom('fulfilment_outbox').selectAll().where('intent_id', '=', intent).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ state: 'LOCAL', target: 'local' });
      expect(game.granted.has(intent)).toBe(false);
    });
  });
}
