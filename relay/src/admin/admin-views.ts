import type { BindingsTable, DevicesTable, PurchasesTable } from '../store/schema.ts';

const iso = (ms: number | null): string | undefined => (ms === null ? undefined : new Date(ms).toISOString());

/** The operator's view of a purchase (no secrets live on purchases). */
export function adminPayment(p: PurchasesTable): Record<string, unknown> {
  return {
    purchaseIntentId: p.intent_id,
    state: p.state,
    owner: p.owner,
    deviceId: p.device_id,
    playerId: p.player_id ?? undefined,
    bindingId: p.binding_id,
    wallet: p.wallet,
    sku: p.sku,
    quantity: p.quantity,
    total: { currency: p.currency, minor: p.amount_minor },
    paymentRequestId: p.payment_request_id,
    paymentId: p.payment_id ?? undefined,
    resultCode: p.result_code ?? undefined,
    errorCode: p.error_code ?? undefined,
    createdAt: iso(p.created_at),
    paidAt: iso(p.paid_at),
    finishedAt: iso(p.finished_at),
  };
}

/** The operator's view of a binding: never a token or an auth code. */
export function adminBinding(b: BindingsTable): Record<string, unknown> {
  return {
    bindingId: b.id,
    state: b.state,
    owner: b.owner,
    deviceId: b.device_id,
    playerId: b.player_id ?? undefined,
    wallet: b.wallet,
    maskedAccount: b.masked_account ?? undefined,
    errorCode: b.error_code ?? undefined,
    createdAt: iso(b.created_at),
    activatedAt: iso(b.activated_at),
    accessTokenExpiresAt: iso(b.access_token_expires_at),
  };
}

/** The operator's view of a device: never its secret. */
export function adminDevice(d: DevicesTable): Record<string, unknown> {
  return { deviceId: d.id, label: d.label, kind: d.kind, createdAt: iso(d.created_at), disabledAt: iso(d.revoked_at) };
}
