import { randomUUID } from 'node:crypto';
import { DomainError } from '@scan-to-bind/shared/domain';
import type { FastifyInstance } from 'fastify';
import type { RelayBindingService } from '../bindings/binding-service.ts';
import type { Clock } from '../clock.ts';
import type { DeclarationService } from '../declarations/declaration-service.ts';
import type { DeviceService } from '../devices/device-service.ts';
import { deliveryStatus } from '../fulfilment/fulfilment.ts';
import type { BindingRepo } from '../bindings/binding-repo.ts';
import type { DeclarationRepo } from '../declarations/declaration-repo.ts';
import type { FulfilmentRepo } from '../fulfilment/fulfilment-repo.ts';
import type { PurchaseRepo } from '../payments/purchase-repo.ts';
import { type RefundRepo, refundStatus } from '../refunds/refund-repo.ts';
import type { RefundService } from '../refunds/refund-service.ts';
import { registerAdminContext } from './admin-auth.ts';
import {
  adminEmptyBody,
  adminIdParams,
  adminIntentParams,
  adminNoQuery,
  bindingsQuery,
  declarationInquiryBody,
  declarationsQuery,
  declareBody,
  deliveriesQuery,
  enrolDeviceBody,
  eventParams,
  paymentsQuery,
  refundBody,
  refundParams,
  refundsQuery,
} from './admin-schemas.ts';
import { adminBinding, adminDevice, adminPayment } from './admin-views.ts';
import { declarationStatus } from '../declarations/declaration-service.ts';

/** What the admin API needs. */
export interface AdminRouteDeps {
  token: string | undefined;
  clock: Clock;
  purchaseRepo: PurchaseRepo;
  bindingRepo: BindingRepo;
  refundRepo: RefundRepo;
  fulfilmentRepo: FulfilmentRepo;
  declarationRepo: DeclarationRepo;
  devices: DeviceService;
  bindings: RelayBindingService;
  refunds: RefundService;
  declarations: DeclarationService;
  enrollmentCodeLifetimeMs: number;
  /** Called once a device is disabled: its held connections in this process end at once. */
  onDeviceDisabled?: (deviceId: string) => void;
}

const take = (limit: string | undefined): number => Math.min(Math.max(Number(limit ?? 50), 1), 500);

/**
 * The operator API under `/admin/v1` (relay/README.md, "Admin API"), behind its own bearer
 * token (every route in the admin context, admin-auth.ts); device credentials are refused.
 * Lists and searches payments, bindings, refunds, deliveries and declarations; refunds,
 * declares, revokes bindings, enrols and disables devices.
 */
export function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  registerAdminContext(app, deps.token, (ctx) => adminRoutes(ctx, deps));
}

/** The routes of the admin API, declared in the admin context `app`. */
function adminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  app.get('/admin/v1/payments', async (req) => {
    const query = paymentsQuery.parse(req.query);
    const rows = await deps.purchaseRepo.search({ state: query.state, owner: query.owner, term: query.q }, take(query.limit));
    return { payments: rows.map(adminPayment) };
  });

  app.get('/admin/v1/payments/:intentId', async (req) => {
    adminNoQuery.parse(req.query);
    const { intentId } = adminIntentParams.parse(req.params);
    const row = await deps.purchaseRepo.get(intentId);
    if (!row) throw new DomainError('NOT_FOUND');
    const delivery = await deps.fulfilmentRepo.ofPurchase(intentId);
    const declarations = await deps.declarationRepo.ofPurchase(intentId);
    return {
      payment: adminPayment(row),
      refunds: await deps.refunds.ofPurchase(intentId),
      ...(delivery ? { delivery: deliveryStatus(delivery) } : {}),
      declarations: declarations.map(declarationStatus),
    };
  });

  app.get('/admin/v1/bindings', async (req) => {
    const query = bindingsQuery.parse(req.query);
    const rows = await deps.bindingRepo.search({ state: query.state, owner: query.owner, term: query.q }, take(query.limit));
    return { bindings: rows.map(adminBinding) };
  });

  app.post('/admin/v1/bindings/:id/revoke', async (req) => {
    adminNoQuery.parse(req.query);
    const { id } = adminIdParams.parse(req.params);
    adminEmptyBody.parse(req.body);
    return deps.bindings.adminRevoke(id);
  });

  app.get('/admin/v1/refunds', async (req) => {
    const query = refundsQuery.parse(req.query);
    const rows = await deps.refundRepo.list({ intentId: query.purchaseIntentId, state: query.state }, take(query.limit));
    return { refunds: rows.map(refundStatus) };
  });

  app.post('/admin/v1/refunds', async (req, reply) => {
    adminNoQuery.parse(req.query);
    const body = refundBody.parse(req.body);
    return reply.code(201).send(await deps.refunds.create(body));
  });

  app.get('/admin/v1/refunds/:refundRequestId', async (req) => {
    adminNoQuery.parse(req.query);
    const { refundRequestId } = refundParams.parse(req.params);
    return deps.refunds.status(refundRequestId);
  });

  app.get('/admin/v1/deliveries', async (req) => {
    const query = deliveriesQuery.parse(req.query);
    const rows = await deps.fulfilmentRepo.list({ intentId: query.purchaseIntentId, state: query.state }, take(query.limit));
    return { deliveries: rows.map(deliveryStatus) };
  });

  app.post('/admin/v1/deliveries/:eventId/retry', async (req) => {
    adminNoQuery.parse(req.query);
    const { eventId } = eventParams.parse(req.params);
    adminEmptyBody.parse(req.body);
    await deps.fulfilmentRepo.retryNow(eventId, deps.clock.now());
    const row = await deps.fulfilmentRepo.get(eventId);
    if (!row) throw new DomainError('NOT_FOUND');
    return deliveryStatus(row);
  });

  app.get('/admin/v1/declarations', async (req) => {
    const query = declarationsQuery.parse(req.query);
    const rows = await deps.declarationRepo.list({ intentId: query.purchaseIntentId }, take(query.limit));
    return { declarations: rows.map(declarationStatus) };
  });

  app.post('/admin/v1/declarations', async (req, reply) => {
    adminNoQuery.parse(req.query);
    return reply.code(201).send(await deps.declarations.declare(declareBody.parse(req.body)));
  });

  app.post('/admin/v1/declarations/inquiry', async (req) => {
    adminNoQuery.parse(req.query);
    const { declarationRequestIds } = declarationInquiryBody.parse(req.body);
    return deps.declarations.inquire(declarationRequestIds);
  });

  app.get('/admin/v1/devices', async (req) => {
    adminNoQuery.parse(req.query);
    const rows = await deps.devices.list(500);
    return { devices: rows.map(adminDevice) };
  });

  app.post('/admin/v1/devices', async (req, reply) => {
    adminNoQuery.parse(req.query);
    const { label, kind } = enrolDeviceBody.parse(req.body);
    const { code, expiresAt } = await deps.devices.createEnrollmentCode({ label, kind, lifetimeMs: deps.enrollmentCodeLifetimeMs });
    return reply.code(201).send({ code, label, kind, expiresAt: new Date(expiresAt).toISOString() });
  });

  app.post('/admin/v1/devices/:id/disable', async (req) => {
    adminNoQuery.parse(req.query);
    const { id } = adminIdParams.parse(req.params);
    adminEmptyBody.parse(req.body);
    const row = await deps.devices.disable(id);
    deps.onDeviceDisabled?.(id);
    return adminDevice(row);
  });
}

/** A fresh refundRequestId for callers that have none (the CLI). */
export function newRefundRequestId(): string {
  return `rf_${randomUUID().replace(/-/gu, '')}`;
}
