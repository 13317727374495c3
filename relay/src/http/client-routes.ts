import { type CurrencyCode, WALLET_IDS, WALLETS } from '@scan-to-bind/shared/domain';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Catalogue } from '../payments/catalogue.ts';
import type { IncomingMessage } from 'node:http';
import { type Admission, OVERLOADED, type RateLimiter, type Refusal, refusalError, type StartGate } from '../ops/overload.ts';
import type { RefundService } from '../refunds/refund-service.ts';
import {
  BindingQuerySchema,
  CatalogueQuerySchema,
  CurrentBindingQuerySchema,
  EmptyBodySchema,
  IdParamsSchema,
  IntentParamsSchema,
  KioskVisitRequestSchema,
  NoQuerySchema,
  PurchaseRequestSchema,
  PurchasesQuerySchema,
  StartBindingRequestSchema,
} from '@scan-to-bind/shared/relay-api';
import { callerOf, type DeviceAuth, deviceRefusal, registerSignedDeviceContext } from './device-auth.ts';
import { type HeldDeps, openEventStream, waitForBindingChange } from './held-routes.ts';

/** What the signed device API needs (the held connections' needs and its authentication included). */
export interface ClientRouteDeps extends HeldDeps, DeviceAuth {
  catalogue: Catalogue;
  refunds?: RefundService;
  /** Bounds the pays in their CPU-bound starting part (absent: unbounded). */
  startGate?: StartGate;
  /** Pays per device, beside `limiter`'s requests per device (absent: unlimited). */
  payLimiter?: RateLimiter;
}

/**
 * The pay's own early refusals (its route's `onRequest` hook, after the context's early rate
 * limit and before the body is read, parsed or its signature checked): 429 when the device's pay
 * bucket is empty, 503 when the start gate would refuse it now (full, or the loop turn's work
 * budget spent). Like `rateLimitedEarly` it only reads: the handler spends the token and enters
 * the gate, so a forged device id drains nobody's pay bucket.
 */
function payAdmissionEarly(deps: PayAdmissionDeps) {
  return function payAdmission(req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
    done(refusalError(payRefusal(deps, req.headers['x-device-id'])));
  };
}

/** The pay's route (its front door, server.ts answerEarly, is set up for it in index.ts). */
export const PAY_ROUTE = { method: 'POST', url: '/v1/purchases' } as const;

/**
 * Every early refusal a pay meets before Fastify reads its body, in the order its onRequest
 * hooks run (admission, the context's rate limit, the pay's own): the rule the pay's front door
 * answers with (server.ts answerEarly). Read-only, like each of them.
 */
export function payEarlyRefusal(deps: PayAdmissionDeps & Pick<ClientRouteDeps, 'limiter'> & { admission: Pick<Admission, 'refusal'> }) {
  return (raw: IncomingMessage): Refusal | undefined => {
    const id = raw.headers['x-device-id'];
    return deps.admission.refusal() ?? deviceRefusal(deps.limiter, id) ?? payRefusal(deps, id);
  };
}

/** What the pay's early refusals read. */
export type PayAdmissionDeps = Pick<ClientRouteDeps, 'payLimiter' | 'startGate'>;

/**
 * The pay's early refusal rule (see payAdmissionEarly): RATE_LIMITED while the device named by
 * `deviceId` (not yet authenticated) has no pay token, else OVERLOADED while the start gate would
 * refuse. Read-only; asked by the pay route's hook and by its front door (server.ts answerEarly).
 */
export function payRefusal(deps: PayAdmissionDeps, deviceId: string | string[] | undefined): Refusal | undefined {
  const limited = typeof deviceId === 'string' ? deps.payLimiter?.refusal(`pay:${deviceId}`) : undefined;
  return limited ?? (deps.startGate && !deps.startGate.canEnter() ? OVERLOADED : undefined);
}

/**
 * The signed device API (relay/README.md "Client API"; its contract: shared/relay-api, whose
 * schemas validate every input here), every route in the signed-device context (device-auth.ts),
 * which authenticates them all; enrolment is public (public-routes.ts).
 */
export function registerClientRoutes(app: FastifyInstance, deps: ClientRouteDeps): void {
  registerSignedDeviceContext(app, deps, (ctx) => deviceRoutes(ctx, deps));
}

/** The routes of the device API, declared in the signed-device context `app`. */
function deviceRoutes(app: FastifyInstance, deps: ClientRouteDeps): void {
  app.get('/v1/wallets', async (req) => {
    NoQuerySchema.parse(req.query);
    return {
      wallets: WALLET_IDS.map((id) => ({ id, displayName: WALLETS[id].displayName, currency: WALLETS[id].currency, country: WALLETS[id].country })),
    };
  });

  app.get('/v1/catalogue', async (req) => {
    const { currency } = CatalogueQuerySchema.parse(req.query);
    return { currency, items: deps.catalogue.list(currency as CurrencyCode) };
  });

  app.post('/v1/bindings', async (req, reply) => {
    NoQuerySchema.parse(req.query);
    const { wallet, visitId } = StartBindingRequestSchema.parse(req.body);
    return reply.code(201).send(await deps.bindings.start(callerOf(req), wallet, visitId));
  });

  app.get('/v1/bindings/current', async (req) => {
    const { visitId } = CurrentBindingQuerySchema.parse(req.query);
    return deps.bindings.current(callerOf(req), visitId);
  });

  app.post('/v1/kiosk/visits', async (req) => {
    NoQuerySchema.parse(req.query);
    const { visitId } = KioskVisitRequestSchema.parse(req.body);
    return deps.bindings.rotateVisit(callerOf(req), visitId);
  });

  app.get('/v1/bindings/:id', async (req: FastifyRequest, reply: FastifyReply) => {
    const { id } = IdParamsSchema.parse(req.params);
    const { waitForChange } = BindingQuerySchema.parse(req.query);
    const caller = callerOf(req);
    const now = await deps.bindings.status(caller, id);
    if (waitForChange === undefined || now.version !== Number(waitForChange)) return now;
    return waitForBindingChange(req, reply, deps, caller, id);
  });

  app.post('/v1/bindings/:id/refresh-code', async (req) => {
    NoQuerySchema.parse(req.query);
    const { id } = IdParamsSchema.parse(req.params);
    EmptyBodySchema.parse(req.body);
    return deps.bindings.refreshCode(callerOf(req), id);
  });

  app.post('/v1/bindings/:id/withdraw', async (req) => {
    NoQuerySchema.parse(req.query);
    const { id } = IdParamsSchema.parse(req.params);
    EmptyBodySchema.parse(req.body);
    return deps.bindings.withdraw(callerOf(req), id);
  });

  app.delete('/v1/bindings/:id', async (req) => {
    NoQuerySchema.parse(req.query);
    const { id } = IdParamsSchema.parse(req.params);
    EmptyBodySchema.parse(req.body);
    return deps.bindings.unlink(callerOf(req), id);
  });

  app.post(PAY_ROUTE.url, { onRequest: payAdmissionEarly(deps) }, async (req, reply) => {
    NoQuerySchema.parse(req.query);
    const body = PurchaseRequestSchema.parse(req.body);
    const caller = callerOf(req);
    // An authenticated, well-formed pay holds a StartGate slot until its Antom call goes out (or
    // it is answered without one); past the gate's size or budget it is refused with 503 before
    // its spending checks, commit and signature. The gate is entered before the pay token is
    // spent, so a 503 costs the device nothing.
    const release = deps.startGate?.enter();
    try {
      deps.payLimiter?.take(`pay:${caller.deviceId}`);
      return reply.code(200).send(await deps.purchases.create(caller, body, release));
    } finally {
      release?.();
    }
  });

  app.get('/v1/purchases/:intentId', async (req) => {
    NoQuerySchema.parse(req.query);
    const { intentId } = IntentParamsSchema.parse(req.params);
    return deps.purchases.status(callerOf(req), intentId);
  });

  app.get('/v1/purchases/:intentId/refunds', async (req) => {
    NoQuerySchema.parse(req.query);
    const { intentId } = IntentParamsSchema.parse(req.params);
    await deps.purchases.status(callerOf(req), intentId);
    return { refunds: deps.refunds ? await deps.refunds.ofPurchase(intentId) : [] };
  });

  app.get('/v1/purchases', async (req) => {
    const { pending } = PurchasesQuerySchema.parse(req.query);
    return { purchases: await deps.purchases.list(callerOf(req), pending === 'true') };
  });

  app.get('/v1/events', async (req, reply) => {
    NoQuerySchema.parse(req.query);
    await openEventStream(req, reply, deps);
  });
}
