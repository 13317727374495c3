import { z } from 'zod';
import {
  adminIdParams,
  adminIntentParams,
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
} from '../admin/admin-schemas.ts';
import {
  bindingQuery,
  catalogueQuery,
  currentBindingQuery,
  enrollBody,
  idParams,
  intentParams,
  kioskVisitBody,
  purchaseBody,
  purchasesQuery,
  startBindingBody,
} from './schemas.ts';

/** Who may call a route. */
export type RouteSecurity = 'device' | 'admin' | 'antom' | 'none';

/** One documented route: Fastify path, zod schemas of its inputs and main answer. */
export interface RouteDoc {
  method: 'get' | 'post' | 'delete';
  path: string;
  summary: string;
  security: RouteSecurity;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: { name: string; schema: z.ZodType; required: boolean };
  response?: { status: number; name: string; schema?: z.ZodType; contentType?: string };
}

const money = z.object({ currency: z.string(), minor: z.number().int() });
const errorInfo = z.object({ code: z.string(), message: z.string() });

/** Answer schemas (documentation only; the services build these objects). */
export const responseSchemas = {
  ErrorBody: z.object({ error: errorInfo }),
  BindingStatus: z.object({
    bindingId: z.uuid(),
    state: z.string(),
    wallet: z.string(),
    version: z.number().int(),
    refreshesLeft: z.number().int(),
    maskedAccount: z.string().optional(),
    codeValue: z.string().optional(),
    codeExpiresAt: z.string().optional(),
    error: errorInfo.optional(),
    visitId: z.uuid().optional(),
  }),
  KioskVisit: z.object({ visitId: z.uuid(), endedBindings: z.number().int() }),
  PurchaseStatus: z.object({
    purchaseIntentId: z.uuid(),
    state: z.string(),
    version: z.number().int(),
    bindingId: z.uuid(),
    sku: z.string(),
    quantity: z.number().int(),
    total: money,
    error: errorInfo.optional(),
  }),
  RefundStatus: z.object({
    refundRequestId: z.string(),
    purchaseIntentId: z.uuid(),
    state: z.enum(['PENDING', 'PROCESSING', 'SUCCEEDED', 'FAILED']),
    version: z.number().int(),
    amount: money,
    refundId: z.string().optional(),
    refundedAt: z.string().optional(),
    reason: z.string().optional(),
    error: errorInfo.optional(),
  }),
  Delivery: z.object({
    eventId: z.uuid(),
    purchaseIntentId: z.uuid(),
    target: z.string(),
    state: z.string(),
    attempts: z.number().int(),
    nextAttemptAt: z.string().optional(),
    lastStatus: z.number().int().optional(),
    lastError: z.string().optional(),
    createdAt: z.string(),
    deliveredAt: z.string().optional(),
  }),
  Object: z.record(z.string(), z.unknown()),
} as const;

type ResponseName = keyof typeof responseSchemas;
const ok = (name: ResponseName, status = 200) => ({ status, name });
const none = { name: 'Empty', schema: z.strictObject({}), required: false };

/** Every route the relay serves, documented. The OpenAPI test checks this list against Fastify. */
export const ROUTE_DOCS: readonly RouteDoc[] = [
  { method: 'post', path: '/v1/devices/enroll', summary: 'Exchange a one-time code for device credentials', security: 'none', body: { name: 'EnrollBody', schema: enrollBody, required: true }, response: ok('Object', 201) },
  { method: 'get', path: '/v1/wallets', summary: 'Wallets the relay offers', security: 'device', response: ok('Object') },
  { method: 'get', path: '/v1/catalogue', summary: 'Items and prices in one currency', security: 'device', query: catalogueQuery, response: ok('Object') },
  { method: 'post', path: '/v1/bindings', summary: 'Start a binding (QR code)', security: 'device', body: { name: 'StartBindingBody', schema: startBindingBody, required: true }, response: ok('BindingStatus', 201) },
  { method: 'get', path: '/v1/bindings/current', summary: 'The newest live binding of the caller (a kiosk: of its current visit, or of visitId)', security: 'device', query: currentBindingQuery, response: ok('BindingStatus') },
  { method: 'post', path: '/v1/kiosk/visits', summary: 'A kiosk starts a new visit: older visits’ bindings end', security: 'device', body: { name: 'KioskVisitBody', schema: kioskVisitBody, required: true }, response: ok('KioskVisit') },
  { method: 'get', path: '/v1/bindings/:id', summary: 'Binding status (long-poll with waitForChange)', security: 'device', params: idParams, query: bindingQuery, response: ok('BindingStatus') },
  { method: 'post', path: '/v1/bindings/:id/refresh-code', summary: 'A fresh QR code', security: 'device', params: idParams, body: none, response: ok('BindingStatus') },
  { method: 'post', path: '/v1/bindings/:id/withdraw', summary: 'Stop showing a code', security: 'device', params: idParams, body: none, response: ok('BindingStatus') },
  { method: 'delete', path: '/v1/bindings/:id', summary: 'Unlink a wallet', security: 'device', params: idParams, response: ok('BindingStatus') },
  { method: 'post', path: '/v1/purchases', summary: 'Buy (idempotent on purchaseIntentId)', security: 'device', body: { name: 'PurchaseBody', schema: purchaseBody, required: true }, response: ok('PurchaseStatus') },
  { method: 'get', path: '/v1/purchases/:intentId', summary: 'Purchase status', security: 'device', params: intentParams, response: ok('PurchaseStatus') },
  { method: 'get', path: '/v1/purchases/:intentId/refunds', summary: 'Refunds of one of the caller’s purchases', security: 'device', params: intentParams, response: ok('Object') },
  { method: 'get', path: '/v1/purchases', summary: 'Pending or recent purchases', security: 'device', query: purchasesQuery, response: ok('Object') },
  { method: 'get', path: '/v1/events', summary: 'Server-Sent Events: binding, purchase and refund changes', security: 'device', response: { status: 200, name: 'EventStream', contentType: 'text/event-stream', schema: z.string() } },
  { method: 'post', path: '/antom/notify/authorization', summary: 'Antom notifyAuthorization (RSA-signed)', security: 'antom', response: ok('Object') },
  { method: 'post', path: '/antom/notify/payment', summary: 'Antom notifyPayment (RSA-signed)', security: 'antom', response: ok('Object') },
  { method: 'post', path: '/antom/notify/refund', summary: 'Antom notifyRefund (RSA-signed)', security: 'antom', response: ok('Object') },
  { method: 'get', path: '/healthz', summary: 'Liveness', security: 'none', response: ok('Object') },
  { method: 'get', path: '/readyz', summary: 'Readiness: database reachable, keys loaded, not shutting down', security: 'none', response: ok('Object') },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', security: 'none', response: { status: 200, name: 'Metrics', contentType: 'text/plain', schema: z.string() } },
  { method: 'get', path: '/openapi.json', summary: 'This document', security: 'none', response: ok('Object') },
  { method: 'get', path: '/admin/v1/payments', summary: 'List and search payments', security: 'admin', query: paymentsQuery, response: ok('Object') },
  { method: 'get', path: '/admin/v1/payments/:intentId', summary: 'One payment with refunds, delivery and declarations', security: 'admin', params: adminIntentParams, response: ok('Object') },
  { method: 'get', path: '/admin/v1/bindings', summary: 'List and search bindings', security: 'admin', query: bindingsQuery, response: ok('Object') },
  { method: 'post', path: '/admin/v1/bindings/:id/revoke', summary: 'Revoke a binding', security: 'admin', params: adminIdParams, body: none, response: ok('BindingStatus') },
  { method: 'get', path: '/admin/v1/refunds', summary: 'List refunds', security: 'admin', query: refundsQuery, response: ok('Object') },
  { method: 'post', path: '/admin/v1/refunds', summary: 'Refund (full or partial; idempotent on refundRequestId)', security: 'admin', body: { name: 'RefundBody', schema: refundBody, required: true }, response: ok('RefundStatus', 201) },
  { method: 'get', path: '/admin/v1/refunds/:refundRequestId', summary: 'One refund', security: 'admin', params: refundParams, response: ok('RefundStatus') },
  { method: 'get', path: '/admin/v1/deliveries', summary: 'Fulfilment deliveries', security: 'admin', query: deliveriesQuery, response: ok('Object') },
  { method: 'post', path: '/admin/v1/deliveries/:eventId/retry', summary: 'Bring a delivery attempt forward', security: 'admin', params: eventParams, body: none, response: ok('Delivery') },
  { method: 'get', path: '/admin/v1/declarations', summary: 'Customs declarations', security: 'admin', query: declarationsQuery, response: ok('Object') },
  { method: 'post', path: '/admin/v1/declarations', summary: 'Declare to China customs (AlipayHK only)', security: 'admin', body: { name: 'DeclareBody', schema: declareBody, required: true }, response: ok('Object', 201) },
  { method: 'post', path: '/admin/v1/declarations/inquiry', summary: 'inquiryDeclarationRequests', security: 'admin', body: { name: 'DeclarationInquiryBody', schema: declarationInquiryBody, required: true }, response: ok('Object') },
  { method: 'get', path: '/admin/v1/devices', summary: 'List devices', security: 'admin', response: ok('Object') },
  { method: 'post', path: '/admin/v1/devices', summary: 'Mint a one-time enrolment code', security: 'admin', body: { name: 'EnrolDeviceBody', schema: enrolDeviceBody, required: true }, response: ok('Object', 201) },
  { method: 'post', path: '/admin/v1/devices/:id/disable', summary: 'Disable a device', security: 'admin', params: adminIdParams, body: none, response: ok('Object') },
];
