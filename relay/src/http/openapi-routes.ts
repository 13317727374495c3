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
  ErrorBodySchema,
  EmptyBodySchema,
  RELAY_ROUTES,
  type RelayRoute,
  RelayBindingSchema,
  RelayRefundSchema,
  RefundsResponseSchema,
} from '@scan-to-bind/shared/relay-api';

/** Who may call a route. */
export type RouteSecurity = RelayRoute['security'] | 'admin' | 'antom';

/**
 * One documented route: Fastify path, zod schemas of its inputs and of its answer. The answer
 * schema is what the relay serialises the answer through (response-contract.ts).
 */
export interface RouteDoc extends Omit<RelayRoute, 'security'> {
  security: RouteSecurity;
}

/** An answer the schema does not describe field by field (operations, Antom acknowledgements, admin lists). */
const anyObject = z.record(z.string(), z.unknown());

/** An admin view of a fulfilment delivery (relay-only: not part of the client contract). */
const DeliverySchema = z.object({
  eventId: z.uuid(),
  purchaseIntentId: z.uuid(),
  target: z.enum(['local', 'webhook']),
  state: z.string(),
  attempts: z.int().min(0),
  nextAttemptAt: z.iso.datetime({ offset: true }).optional(),
  lastStatus: z.int().optional(),
  lastError: z.string().optional(),
  createdAt: z.iso.datetime({ offset: true }),
  deliveredAt: z.iso.datetime({ offset: true }).optional(),
});

/** Schemas the document names whatever routes use them (the error body of every 4XX/5XX). */
export const namedSchemas = { ErrorBody: ErrorBodySchema } as const;

const ok = (name: string, schema: z.ZodType, status = 200) => ({ status, name, schema });
const object = (status = 200) => ok('Object', anyObject, status);
const none = { name: 'Empty', schema: EmptyBodySchema, required: false };

/** Every route the relay serves, documented: the client API from shared/relay-api, then the relay's own. The OpenAPI test checks this list against Fastify. */
export const ROUTE_DOCS: readonly RouteDoc[] = [
  ...Object.values(RELAY_ROUTES),
  { method: 'post', path: '/antom/notify/authorization', summary: 'Antom notifyAuthorization (RSA-signed)', security: 'antom', response: object() },
  { method: 'post', path: '/antom/notify/payment', summary: 'Antom notifyPayment (RSA-signed)', security: 'antom', response: object() },
  { method: 'post', path: '/antom/notify/refund', summary: 'Antom notifyRefund (RSA-signed)', security: 'antom', response: object() },
  { method: 'get', path: '/healthz', summary: 'Liveness', security: 'none', response: object() },
  { method: 'get', path: '/readyz', summary: 'Readiness: database reachable, keys loaded, not shutting down', security: 'none', response: object() },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    security: 'none',
    response: { status: 200, name: 'Metrics', contentType: 'text/plain', schema: z.string() },
  },
  { method: 'get', path: '/openapi.json', summary: 'This document', security: 'none', response: object() },
  { method: 'get', path: '/admin/v1/payments', summary: 'List and search payments', security: 'admin', query: paymentsQuery, response: object() },
  {
    method: 'get',
    path: '/admin/v1/payments/:intentId',
    summary: 'One payment with refunds, delivery and declarations',
    security: 'admin',
    params: adminIntentParams,
    response: object(),
  },
  { method: 'get', path: '/admin/v1/bindings', summary: 'List and search bindings', security: 'admin', query: bindingsQuery, response: object() },
  {
    method: 'post',
    path: '/admin/v1/bindings/:id/revoke',
    summary: 'Revoke a binding',
    security: 'admin',
    params: adminIdParams,
    body: none,
    response: ok('RelayBinding', RelayBindingSchema),
  },
  { method: 'get', path: '/admin/v1/refunds', summary: 'List refunds', security: 'admin', query: refundsQuery, response: ok('Refunds', RefundsResponseSchema) },
  {
    method: 'post',
    path: '/admin/v1/refunds',
    summary: 'Refund (full or partial; idempotent on refundRequestId)',
    security: 'admin',
    body: { name: 'RefundBody', schema: refundBody, required: true },
    response: ok('RefundStatus', RelayRefundSchema, 201),
  },
  {
    method: 'get',
    path: '/admin/v1/refunds/:refundRequestId',
    summary: 'One refund',
    security: 'admin',
    params: refundParams,
    response: ok('RefundStatus', RelayRefundSchema),
  },
  { method: 'get', path: '/admin/v1/deliveries', summary: 'Fulfilment deliveries', security: 'admin', query: deliveriesQuery, response: object() },
  {
    method: 'post',
    path: '/admin/v1/deliveries/:eventId/retry',
    summary: 'Bring a delivery attempt forward',
    security: 'admin',
    params: eventParams,
    body: none,
    response: ok('Delivery', DeliverySchema),
  },
  { method: 'get', path: '/admin/v1/declarations', summary: 'Customs declarations', security: 'admin', query: declarationsQuery, response: object() },
  {
    method: 'post',
    path: '/admin/v1/declarations',
    summary: 'Declare to China customs (AlipayHK only)',
    security: 'admin',
    body: { name: 'DeclareBody', schema: declareBody, required: true },
    response: object(201),
  },
  {
    method: 'post',
    path: '/admin/v1/declarations/inquiry',
    summary: 'inquiryDeclarationRequests',
    security: 'admin',
    body: { name: 'DeclarationInquiryBody', schema: declarationInquiryBody, required: true },
    response: object(),
  },
  { method: 'get', path: '/admin/v1/devices', summary: 'List devices', security: 'admin', response: object() },
  {
    method: 'post',
    path: '/admin/v1/devices',
    summary: 'Mint a one-time enrolment code',
    security: 'admin',
    body: { name: 'EnrolDeviceBody', schema: enrolDeviceBody, required: true },
    response: object(201),
  },
  {
    method: 'post',
    path: '/admin/v1/devices/:id/disable',
    summary: 'Disable a device',
    security: 'admin',
    params: adminIdParams,
    body: none,
    response: object(),
  },
];
