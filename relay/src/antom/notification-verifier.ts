import type { KeyObject } from 'node:crypto';
import { parseSignatureHeader, signContent, verifyBase64 } from './signature.ts';

/** The exact acknowledgement Antom expects for a notification it may stop re-sending (API.md §8.3). */
export const NOTIFICATION_ACK = '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}';

/** The headers of a notification that take part in its signature. */
export interface NotificationHeaders {
  clientId: string | undefined;
  requestTime: string | undefined;
  signature: string | undefined;
}

/**
 * Verifies an Antom notification: Antom signs `POST <our notification path>\n<client-id>.<request-time>.<body>`
 * (API.md §2.4) with its private key. `path` is the relay's own public path (the path of the
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
