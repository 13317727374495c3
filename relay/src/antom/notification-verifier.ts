import type { KeyObject } from 'node:crypto';
import { parseSignatureHeader, signContent, verifyBase64 } from './signature.ts';

/** The exact acknowledgement Antom expects for a notification it may stop re-sending (Antom's notification ack: HTTP 200, this fixed body). */
export const NOTIFICATION_ACK = '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}';

/** The headers of a notification that take part in its signature. */
export interface NotificationHeaders {
  clientId: string | undefined;
  requestTime: string | undefined;
  signature: string | undefined;
}

/**
 * Verifies an Antom notification: Antom signs `POST <our notification path>\n<client-id>.<request-time>.<body>`
 * (Antom's RSA256 message signature) with its private key. `path` is the relay's own public path (the path of the
 * URL Antom was given, without the domain); `rawBody` is exactly the bytes received.
 */
export function verifyNotification(options: {
  antomPublicKey: KeyObject;
  expectedClientId: string;
  path: string;
  headers: NotificationHeaders;
  rawBody: string;
}): boolean {
  const { headers } = options;
  if (!headers.clientId || !headers.requestTime || !headers.signature) return false;
  if (headers.clientId !== options.expectedClientId) return false;
  const parsed = parseSignatureHeader(headers.signature);
  if (!parsed) return false;
  const content = signContent('POST', options.path, headers.clientId, headers.requestTime, options.rawBody);
  return verifyBase64(options.antomPublicKey, content, parsed.signature);
}

/**
 * How old a notification's request-time may be: Antom re-sends for 24 hours after the first
 * delivery (Antom's retry schedule: the last retry 15 h after the 6 h one), so 25 h leaves an hour for a
 * delivery in flight and a slow clock. Anything older is a replay of a captured notification.
 */
export const NOTIFICATION_MAX_AGE_MS = 25 * 3_600_000;

/**
 * How far in the future a request-time may be: clock skew between Antom and the relay. Antom
 * stamps the time of sending, so a later time only comes from a clock that is off; 5 minutes
 * is the same tolerance the relay gives device request timestamps, and a request-time further
 * ahead would stretch the replay window past the 25 h above.
 */
export const NOTIFICATION_MAX_SKEW_MS = 5 * 60_000;

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/u;

/**
 * Parses a Request-Time header: epoch milliseconds (docs, Java and Go SDKs) or ISO 8601 with an
 * offset (Python and PHP SDKs): the docs and SDKs disagree, so both are accepted. Undefined when
 * neither.
 */
export function parseRequestTime(value: string): number | undefined {
  if (/^\d{10,15}$/u.test(value)) return Number(value);
  if (!ISO_WITH_OFFSET.test(value)) return undefined;
  // PHP's DATE_ISO8601 writes the offset without a colon (+0800); Date.parse wants +08:00.
  const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/u, '$1:$2'));
  return Number.isFinite(ms) ? ms : undefined;
}

/** Whether a notification's request-time is acceptable at `now`, and if not, why. */
export type RequestTimeCheck = 'ok' | 'malformed' | 'too-old' | 'in-future';

/** Checks a (signature-verified) request-time against the 25 h age and 5 min skew windows. */
export function checkRequestTime(value: string | undefined, now: number): RequestTimeCheck {
  const at = value === undefined ? undefined : parseRequestTime(value);
  if (at === undefined) return 'malformed';
  if (at < now - NOTIFICATION_MAX_AGE_MS) return 'too-old';
  if (at > now + NOTIFICATION_MAX_SKEW_MS) return 'in-future';
  return 'ok';
}
