import { type CurrencyCode, WALLET_IDS, WALLETS } from '@scan-to-bind/shared/domain';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DeviceService } from '../devices/device-service.ts';
import type { Catalogue } from '../payments/catalogue.ts';
import type { RateLimiter, StartGate } from '../ops/overload.ts';
import type { RefundService } from '../refunds/refund-service.ts';
import {
  BindingQuerySchema,
  CatalogueQuerySchema,
  CurrentBindingQuerySchema,
  EmptyBodySchema,
  EnrollRequestSchema,
  IdParamsSchema,
  IntentParamsSchema,
  KioskVisitRequestSchema,
  NoQuerySchema,
  PurchaseRequestSchema,
  PurchasesQuerySchema,
  StartBindingRequestSchema,
} from '@scan-to-bind/shared/relay-api';
import { type HeldDeps, openEventStream, waitForBindingChange } from './held-routes.ts';
import { authenticated, callerOf, rateLimitedEarly } from './server.ts';

/** What the client API needs (the held connections' needs included). */
export interface ClientRouteDeps extends HeldDeps {
  devices: DeviceService;
  catalogue: Catalogue;
  refunds?: RefundService;
  limiter?: RateLimiter;
  /** Bounds the pays in their CPU-bound starting part (absent: unbounded). */
  startGate?: StartGate;
  /** Enrolment attempts per source address (absent: unlimited). */
  enrollLimiter?: RateLimiter;
}

/** The device-facing API (relay/README.md "Client API"; its contract: shared/relay-api, whose schemas validate every input here). */
export function registerClientRoutes(app: FastifyInstance, deps: ClientRouteDeps): void {
  const auth = { onRequest: rateLimitedEarly(deps.limiter), preHandler: authenticated(deps.devices, deps.limiter) };

  // Every attempt spends a token of its source address before the body is read or the database
  // asked, so guessing codes from one address is throttled while other addresses enrol.
  const enrollThrottle = {
    onRequest: async (req: FastifyRequest) => {
      deps.enrollLimiter?.take(`enroll:${req.ip}`);
    },
  };
  app.post('/v1/devices/enroll', enrollThrottle, async (req, reply) => {
    NoQuerySchema.parse(req.query);
    const body = EnrollRequestSchema.parse(req.body);
    const enrolled = await deps.devices.enroll(body);
    return reply.code(201).send(enrolled);
  });

  app.get('/v1/wallets', auth, async (req) => {
    NoQuerySchema.parse(req.query);
    callerOf(req);
    return {
      wallets: WALLET_IDS.map((id) => ({ id, displayName: WALLETS[id].displayName, currency: WALLETS[id].currency, country: WALLETS[id].country })),
    };
  });

  app.get('/v1/catalogue', auth, async (req) => {
    const { currency } = CatalogueQuerySchema.parse(req.query);
    return { currency, items: deps.catalogue.list(currency as CurrencyCode) };
  });

  app.post('/v1/bindings', auth, async (req, reply) => {
    NoQuerySchema.parse(req.query);
    const { wallet, visitId } = StartBindingRequestSchema.parse(req.body);
    return reply.code(201).send(await deps.bindings.start(callerOf(req), wallet, visitId));
  });

  app.get('/v1/bindings/current', auth, async (req) => {
    const { visitId } = CurrentBindingQuerySchema.parse(req.query);
    return deps.bindings.current(callerOf(req), visitId);
  });

  app.post('/v1/kiosk/visits', auth, async (req) => {
    NoQuerySchema.parse(req.query);
    const { visitId } = KioskVisitRequestSchema.parse(req.body);
    return deps.bindings.rotateVisit(callerOf(req), visitId);
  });

  app.get('/v1/bindings/:id', auth, async (req: FastifyRequest, reply: FastifyReply) => {
    const { id } = IdParamsSchema.parse(req.params);
    const { waitForChange } = BindingQuerySchema.parse(req.query);
    const caller = callerOf(req);
    const now = await deps.bindings.status(caller, id);
    if (waitForChange === undefined || now.version !== Number(waitForChange)) return now;
    return waitForBindingChange(req, reply, deps, caller, id);
  });

  app.post('/v1/bindings/:id/refresh-code', auth, async (req) => {
    NoQuerySchema.parse(req.query);
    const { id } = IdParamsSchema.parse(req.params);
    EmptyBodySchema.parse(req.body);
    return deps.bindings.refreshCode(callerOf(req), id);
  });

  app.post('/v1/bindings/:id/withdraw', auth, async (req) => {
    NoQuerySchema.parse(req.query);
    const { id } = IdParamsSchema.parse(req.params);
    EmptyBodySchema.parse(req.body);
    return deps.bindings.withdraw(callerOf(req), id);
  });

  app.delete('/v1/bindings/:id', auth, async (req) => {
    NoQuerySchema.parse(req.query);
    const { id } = IdParamsSchema.parse(req.params);
    EmptyBodySchema.parse(req.body);
    return deps.bindings.unlink(callerOf(req), id);
  });

  app.post('/v1/purchases', auth, async (req, reply) => {
    NoQuerySchema.parse(req.query);
    const body = PurchaseRequestSchema.parse(req.body);
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
    NoQuerySchema.parse(req.query);
    const { intentId } = IntentParamsSchema.parse(req.params);
    return deps.purchases.status(callerOf(req), intentId);
  });

  app.get('/v1/purchases/:intentId/refunds', auth, async (req) => {
    NoQuerySchema.parse(req.query);
    const { intentId } = IntentParamsSchema.parse(req.params);
    await deps.purchases.status(callerOf(req), intentId);
    return { refunds: deps.refunds ? await deps.refunds.ofPurchase(intentId) : [] };
  });

  app.get('/v1/purchases', auth, async (req) => {
    const { pending } = PurchasesQuerySchema.parse(req.query);
    return { purchases: await deps.purchases.list(callerOf(req), pending === 'true') };
  });

  app.get('/v1/events', auth, async (req, reply) => {
    NoQuerySchema.parse(req.query);
    await openEventStream(req, reply, deps);
  });
}
