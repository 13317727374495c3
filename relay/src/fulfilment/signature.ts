import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header carrying the fulfilment signature. */
export const FULFILMENT_SIGNATURE_HEADER = 'X-Fulfilment-Signature';

/** `t=<epoch ms>,v1=<hex HMAC-SHA256(secret, t + "." + rawBody)>` */
export function signFulfilment(secret: string, timestampMs: number, rawBody: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampMs}.${rawBody}`).digest('hex');
  return `t=${timestampMs},v1=${mac}`;
}

/**
 * What a studio's game server does with a delivery (docs/fulfilment.md): recompute the HMAC
 * over `t + "." + rawBody`, compare in constant time, refuse timestamps more than
 * `toleranceMs` (5 minutes) away from its clock.
 */
export function verifyFulfilment(secret: string, header: string | undefined, rawBody: string, nowMs: number, toleranceMs = 5 * 60_000): boolean {
  if (!header) return false;
  const parts = new Map(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = parts.get('t');
  const v1 = parts.get('v1');
  if (!t || !/^\d{1,16}$/u.test(t) || !v1 || !/^[0-9a-f]{64}$/u.test(v1)) return false;
  if (Math.abs(nowMs - Number(t)) > toleranceMs) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}
