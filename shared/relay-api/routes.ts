import { z } from 'zod';
import {
  BindingQuerySchema,
  CatalogueQuerySchema,
  CatalogueResponseSchema,
  CurrentBindingQuerySchema,
  EmptyBodySchema,
  EnrollRequestSchema,
  EnrollResponseSchema,
  IdParamsSchema,
  IntentParamsSchema,
  KioskVisitRequestSchema,
  KioskVisitResponseSchema,
  PurchaseRequestSchema,
  PurchasesQuerySchema,
  PurchasesResponseSchema,
  RefundsResponseSchema,
  RelayBindingSchema,
  RelayPurchaseSchema,
  StartBindingRequestSchema,
  WalletsResponseSchema,
} from './schemas.ts';

/** Who may call a route of the client API: a signed device, or anyone (enrolment). */
export type RelayRouteSecurity = 'device' | 'none';

/**
 * One route of the relay's client API: its Fastify path, the schemas of its inputs and of its
 * answer, and the names the OpenAPI document gives them.
 */
export interface RelayRoute {
  readonly method: 'get' | 'post' | 'delete';
  readonly path: string;
  readonly summary: string;
  readonly security: RelayRouteSecurity;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: { readonly name: string; readonly schema: z.ZodType; readonly required: boolean };
  readonly response: { readonly status: number; readonly name: string; readonly schema: z.ZodType; readonly contentType?: string };
}

const none = { name: 'Empty', schema: EmptyBodySchema, required: false } as const;
const body = (name: string, schema: z.ZodType) => ({ name, schema, required: true }) as const;
const binding = (status = 200) => ({ status, name: 'RelayBinding', schema: RelayBindingSchema });
const purchase = { status: 200, name: 'RelayPurchase', schema: RelayPurchaseSchema } as const;

/** Every route of the client API. The relay serves exactly these (checked against Fastify). */
export const RELAY_ROUTES = {
  enroll: {
    method: 'post',
    path: '/v1/devices/enroll',
    summary: 'Exchange a one-time code for device credentials',
    security: 'none',
    body: body('EnrollBody', EnrollRequestSchema),
    response: { status: 201, name: 'Enrolment', schema: EnrollResponseSchema },
  },
  wallets: {
    method: 'get',
    path: '/v1/wallets',
    summary: 'Wallets the relay offers',
    security: 'device',
    response: { status: 200, name: 'Wallets', schema: WalletsResponseSchema },
  },
  catalogue: {
    method: 'get',
    path: '/v1/catalogue',
    summary: 'Items and prices in one currency',
    security: 'device',
    query: CatalogueQuerySchema,
    response: { status: 200, name: 'Catalogue', schema: CatalogueResponseSchema },
  },
  startBinding: {
    method: 'post',
    path: '/v1/bindings',
    summary: 'Start a binding (QR code)',
    security: 'device',
    body: body('StartBindingBody', StartBindingRequestSchema),
    response: binding(201),
  },
  currentBinding: {
    method: 'get',
    path: '/v1/bindings/current',
    summary: 'The newest live binding of the caller (a kiosk: of its current visit, or of visitId); 404 BINDING_NOT_FOUND when none',
    security: 'device',
    query: CurrentBindingQuerySchema,
    response: binding(),
  },
  rotateVisit: {
    method: 'post',
    path: '/v1/kiosk/visits',
    summary: 'A kiosk starts a new visit: older visits’ bindings end',
    security: 'device',
    body: body('KioskVisitBody', KioskVisitRequestSchema),
    response: { status: 200, name: 'KioskVisit', schema: KioskVisitResponseSchema },
  },
  binding: {
    method: 'get',
    path: '/v1/bindings/:id',
    summary: 'Binding status (long-poll with waitForChange)',
    security: 'device',
    params: IdParamsSchema,
    query: BindingQuerySchema,
    response: binding(),
  },
  refreshCode: {
    method: 'post',
    path: '/v1/bindings/:id/refresh-code',
    summary: 'A fresh QR code',
    security: 'device',
    params: IdParamsSchema,
    body: none,
    response: binding(),
  },
  withdraw: {
    method: 'post',
    path: '/v1/bindings/:id/withdraw',
    summary: 'Stop showing a code',
    security: 'device',
    params: IdParamsSchema,
    body: none,
    response: binding(),
  },
  unlink: { method: 'delete', path: '/v1/bindings/:id', summary: 'Unlink a wallet', security: 'device', params: IdParamsSchema, response: binding() },
  createPurchase: {
    method: 'post',
    path: '/v1/purchases',
    summary: 'Buy (idempotent on purchaseIntentId)',
    security: 'device',
    body: body('PurchaseBody', PurchaseRequestSchema),
    response: purchase,
  },
  purchase: { method: 'get', path: '/v1/purchases/:intentId', summary: 'Purchase status', security: 'device', params: IntentParamsSchema, response: purchase },
  purchaseRefunds: {
    method: 'get',
    path: '/v1/purchases/:intentId/refunds',
    summary: 'Refunds of one of the caller’s purchases',
    security: 'device',
    params: IntentParamsSchema,
    response: { status: 200, name: 'Refunds', schema: RefundsResponseSchema },
  },
  purchases: {
    method: 'get',
    path: '/v1/purchases',
    summary: 'Pending or recent purchases',
    security: 'device',
    query: PurchasesQuerySchema,
    response: { status: 200, name: 'Purchases', schema: PurchasesResponseSchema },
  },
  events: {
    method: 'get',
    path: '/v1/events',
    summary: 'Server-Sent Events: binding, purchase and refund changes (data: RELAY_EVENTS), `end` when the relay ends the stream',
    security: 'device',
    response: { status: 200, name: 'EventStream', contentType: 'text/event-stream', schema: z.string() },
  },
} as const satisfies Record<string, RelayRoute>;

/** The name of a client API route. */
export type RelayRouteName = keyof typeof RELAY_ROUTES;
/** The answer of a route, as the client reads it. */
export type RelayResponse<K extends RelayRouteName> = z.output<(typeof RELAY_ROUTES)[K]['response']['schema']>;
