import { type CurrencyCode, WALLET_IDS, WALLETS } from '@scan-to-bind/shared/domain';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BindingService } from '../bindings/binding-service.ts';
import type { DeviceService } from '../devices/device-service.ts';
import type { EventHub, StatusEvent } from '../events.ts';
import type { Catalogue } from '../payments/catalogue.ts';
import type { PurchaseService } from '../payments/purchase-service.ts';
import type { RateLimiter, StartGate } from '../ops/overload.ts';
import type { RefundService } from '../refunds/refund-service.ts';
import type { ServerResponse } from 'node:http';
import {
  bindingQuery,
  catalogueQuery,
  currentBindingQuery,
  emptyBody,
  enrollBody,
  idParams,
  intentParams,
  kioskVisitBody,
  noQuery,
  purchaseBody,
  purchasesQuery,
  startBindingBody,
} from './schemas.ts';
import { authenticated, callerOf, rateLimitedEarly } from './server.ts';

/** What the client API needs. */
export interface ClientRouteDeps {
  devices: DeviceService;
  bindings: BindingService;
  purchases: PurchaseService;
  catalogue: Catalogue;
  hub: EventHub;
  longPollTimeoutMs: number;
  refunds?: RefundService;
  limiter?: RateLimiter;
  /** Bounds the pays in their CPU-bound starting part (absent: unbounded). */
  startGate?: StartGate;
  /** Open event streams, ended at shutdown. */
  streams?: Set<ServerResponse>;
}

/** The device-facing API (documented in relay/README.md, "Client API"). */
export function registerClientRoutes(app: FastifyInstance, deps: ClientRouteDeps): void {
  const auth = { onRequest: rateLimitedEarly(deps.limiter), preHandler: authenticated(deps.devices, deps.limiter) };

  app.post('/v1/devices/enroll', async (req, reply) => {
    noQuery.parse(req.query);
    const body = enrollBody.parse(req.body);
    const enrolled = await deps.devices.enroll(body);
    return reply.code(201).send(enrolled);
  });

  app.get('/v1/wallets', auth, async (req) => {
    noQuery.parse(req.query);
    callerOf(req);
    return {
      wallets: WALLET_IDS.map((id) => ({ id, displayName: WALLETS[id].displayName, currency: WALLETS[id].currency, country: WALLETS[id].country })),
    };
  });

  app.get('/v1/catalogue', auth, async (req) => {
    const { currency } = catalogueQuery.parse(req.query);
    return { currency, items: deps.catalogue.list(currency as CurrencyCode) };
  });

  app.post('/v1/bindings', auth, async (req, reply) => {
    noQuery.parse(req.query);
    const { wallet, visitId } = startBindingBody.parse(req.body);
    return reply.code(201).send(await deps.bindings.start(callerOf(req), wallet, visitId));
  });

  app.get('/v1/bindings/current', auth, async (req) => {
    const { visitId } = currentBindingQuery.parse(req.query);
    return deps.bindings.current(callerOf(req), visitId);
  });

  app.post('/v1/kiosk/visits', auth, async (req) => {
    noQuery.parse(req.query);
    const { visitId } = kioskVisitBody.parse(req.body);
    return deps.bindings.rotateVisit(callerOf(req), visitId);
  });

  app.get('/v1/bindings/:id', auth, async (req: FastifyRequest, reply: FastifyReply) => {
    const { id } = idParams.parse(req.params);
    const { waitForChange } = bindingQuery.parse(req.query);
    const caller = callerOf(req);
    const now = await deps.bindings.status(caller, id);
    if (waitForChange === undefined || now.version !== Number(waitForChange)) return now;
    const abort = new AbortController();
    req.raw.once('close', () => abort.abort());
    await deps.hub.waitFor('binding', id, deps.longPollTimeoutMs, abort.signal);
    if (abort.signal.aborted) return reply;
    return deps.bindings.status(caller, id);
  });

  app.post('/v1/bindings/:id/refresh-code', auth, async (req) => {
    noQuery.parse(req.query);
    const { id } = idParams.parse(req.params);
    emptyBody.parse(req.body);
    return deps.bindings.refreshCode(callerOf(req), id);
  });

  app.post('/v1/bindings/:id/withdraw', auth, async (req) => {
    noQuery.parse(req.query);
    const { id } = idParams.parse(req.params);
    emptyBody.parse(req.body);
    return deps.bindings.withdraw(callerOf(req), id);
  });

  app.delete('/v1/bindings/:id', auth, async (req) => {
    noQuery.parse(req.query);
    const { id } = idParams.parse(req.params);
    emptyBody.parse(req.body);
    return deps.bindings.unlink(callerOf(req), id);
  });

  app.post('/v1/purchases', auth, async (req, reply) => {
    noQuery.parse(req.query);
    const body = purchaseBody.parse(req.body);
    const caller = callerOf(req);
    // An authenticated, well-formed pay holds a StartGate slot until its Antom call goes out (or
    // it is answered without one); past the gate's size it is refused with 503 before its
    // spending checks, commit and signature. Bad input is answered as such whatever the load.
    const release = deps.startGate?.enter();
    try {
      return reply.code(200).send(await deps.purchases.create(caller, body, release));
    } finally {
      release?.();
    }
  });

  app.get('/v1/purchases/:intentId', auth, async (req) => {
    noQuery.parse(req.query);
    const { intentId } = intentParams.parse(req.params);
    return deps.purchases.status(callerOf(req), intentId);
  });

  app.get('/v1/purchases/:intentId/refunds', auth, async (req) => {
    noQuery.parse(req.query);
    const { intentId } = intentParams.parse(req.params);
    await deps.purchases.status(callerOf(req), intentId);
    return { refunds: deps.refunds ? await deps.refunds.ofPurchase(intentId) : [] };
  });

  app.get('/v1/purchases', auth, async (req) => {
    const { pending } = purchasesQuery.parse(req.query);
    return { purchases: await deps.purchases.list(callerOf(req), pending === 'true') };
  });

  app.get('/v1/events', auth, async (req, reply) => {
    noQuery.parse(req.query);
    const caller = callerOf(req);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const send = (event: Pick<StatusEvent, 'kind' | 'status'>): void => {
      res.write(`event: ${event.kind}\ndata: ${JSON.stringify(event.status)}\n\n`);
    };
    res.write(': connected\n\n');
    const unsubscribe = deps.hub.onOwner(caller.owner, send);
    const heartbeat = setInterval(() => res.write(': ping\n\n'), 15_000);
    deps.streams?.add(res);
    req.raw.once('close', () => {
      deps.streams?.delete(res);
      clearInterval(heartbeat);
      unsubscribe();
    });
    // Start with the current picture so a reconnecting client misses nothing.
    try {
      send({ kind: 'binding', status: { ...(await deps.bindings.current(caller)) } });
    } catch {
      // no binding yet
    }
    for (const p of await deps.purchases.list(caller, true)) send({ kind: 'purchase', status: { ...p } });
  });
}
