import { createHash, createHmac, randomBytes } from 'node:crypto';

/** The relay device credential parts used to sign. */
export interface SigningKey {
  readonly deviceId: string;
  readonly deviceSecret: string;
}

/** The exact string the relay verifies: `${METHOD}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${hex(sha256(rawBody))}`. */
export function canonicalString(method: string, pathWithQuery: string, timestamp: string, nonce: string, rawBody: string): string {
  const bodyHash = createHash('sha256').update(rawBody, 'utf8').digest('hex');
  return `${method.toUpperCase()}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${bodyHash}`;
}

/** A fresh nonce: 18 random bytes, base64url (24 characters, ≥16 bytes as the relay requires). */
export function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * The four signing headers of one request attempt. Every attempt (including a retry) gets a
 * new timestamp and nonce, because the relay refuses a replayed nonce.
 */
export function signRequest(
  key: SigningKey,
  request: { method: string; pathWithQuery: string; rawBody: string },
  now: number,
  nonce: string = newNonce(),
): Record<string, string> {
  const timestamp = String(now);
  const signature = createHmac('sha256', key.deviceSecret)
    .update(canonicalString(request.method, request.pathWithQuery, timestamp, nonce, request.rawBody), 'utf8')
    .digest('base64url');
  return {
    'X-Device-Id': key.deviceId,
    'X-Timestamp': timestamp,
    'X-Nonce': nonce,
    'X-Signature': signature,
  };
}
