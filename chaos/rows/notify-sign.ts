import type { KeyObject } from 'node:crypto';
import { signatureHeader, signBase64, signContent } from '../../relay/src/antom/signature.ts';
import type { ChaosStack } from '../stack.ts';

/** A notification as Antom would send it, signed with the sandbox's ("Antom's") private key. */
export function signedNotification(key: KeyObject, clientId: string, path: string, body: string, requestTime: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'client-id': clientId,
    'request-time': requestTime,
    signature: signatureHeader('1', signBase64(key, signContent('POST', path, clientId, requestTime, body))),
  };
}

/** Posts a notification to the relay. */
export async function postNotification(
  stack: ChaosStack,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.relay.url}${path}`, { method: 'POST', headers, body });
  const text = await res.text();
  stack.payloads.push(text);
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A state snapshot of the money tables (to prove "no state change"). */
export async function snapshot(stack: ChaosStack): Promise<string> {
  const db = stack.store.db;
  const strip = <T extends Record<string, unknown>>(rows: T[]) =>
    rows.map(({ touched_at: _t, lease_until: _l, next_check_at: _n, next_action_at: _a, ...r }) => r);
  const parts = {
    purchases: strip(await db.selectFrom('purchases').selectAll().orderBy('intent_id').execute()),
    bindings: strip(await db.selectFrom('bindings').selectAll().orderBy('id').execute()).map((b) => ({ id: b.id, state: b.state, version: b.version })),
    devices: await db.selectFrom('devices').select(['id', 'revoked_at']).orderBy('id').execute(),
    outbox: (await db.selectFrom('fulfilment_outbox').select(['intent_id']).orderBy('intent_id').execute()).length,
    refunds: (await db.selectFrom('refunds').select(['refund_request_id']).execute()).length,
  };
  return JSON.stringify(parts);
}
