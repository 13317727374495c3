import { createHash, createHmac, randomBytes } from 'node:crypto';

/** The relay device credential parts used to sign. */
export interface SigningKey {
  readonly deviceId: string;
  readonly deviceSecret: string;
}

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The exact string the relay verifies (relay/README.md "Signing every other request"):
 * `${METHOD}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${hex(sha256(rawBody))}\n${hex(sha256(playerAssertion))}`.
 * The last line hashes the X-Player-Assertion header value as sent, "" when there is none
 * (kiosks): the signature covers the assertion, so it cannot be swapped onto this request.
 */
export function canonicalString(
  method: string,
  pathWithQuery: string,
  timestamp: string,
  nonce: string,
  rawBody: string,
  playerAssertion: string | null = null,
): string {
  return `${method.toUpperCase()}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${sha256Hex(rawBody)}\n${sha256Hex(playerAssertion ?? '')}`;
}

/** A fresh nonce: 18 random bytes, base64url (24 characters, ≥16 bytes as the relay requires). */
export function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * The signing headers of one request attempt, X-Player-Assertion included when there is one
 * (it is part of what is signed, so the header and the signature come from one place). Every
 * attempt (including a retry) gets a new timestamp and nonce, because the relay refuses a
 * replayed nonce.
 */
export function signRequest(
  key: SigningKey,
  request: { method: string; pathWithQuery: string; rawBody: string; playerAssertion?: string | null },
  now: number,
  nonce: string = newNonce(),
): Record<string, string> {
  const timestamp = String(now);
  const assertion = request.playerAssertion || null;
  const signature = createHmac('sha256', key.deviceSecret)
    .update(canonicalString(request.method, request.pathWithQuery, timestamp, nonce, request.rawBody, assertion), 'utf8')
    .digest('base64url');
  return {
    'X-Device-Id': key.deviceId,
    'X-Timestamp': timestamp,
    'X-Nonce': nonce,
    'X-Signature': signature,
    ...(assertion ? { 'X-Player-Assertion': assertion } : {}),
  };
}
