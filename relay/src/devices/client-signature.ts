import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** How far a client's X-Timestamp may be from the relay's clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** The inputs of a client request signature. */
export interface ClientSignatureInput {
  /** Upper-case HTTP method, e.g. `POST`. */
  method: string;
  /** The path with its query string exactly as sent, e.g. `/v1/catalogue?currency=HKD`. */
  pathWithQuery: string;
  /** X-Timestamp: epoch milliseconds as decimal text. */
  timestamp: string;
  /** X-Nonce: at least 16 random bytes, base64url. */
  nonce: string;
  /** The exact request body bytes (empty for GET/DELETE). */
  body: Uint8Array | string;
  /** The exact X-Player-Assertion header value; undefined (hashed as "") when the request has none. */
  playerAssertion?: string | undefined;
}

/**
 * The canonical string a device signs:
 * `${METHOD}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${hex(sha256(rawBody))}\n${hex(sha256(playerAssertion))}`.
 * The last line covers the X-Player-Assertion header on every request, kiosks' included (the
 * hash of "" when there is none): swapping, removing or adding the header after signing breaks
 * the signature, so an assertion cannot be moved onto a request its device did not sign with it.
 * Pure; the client copies this construction (it does not import relay code).
 */
export function clientCanonicalString(input: ClientSignatureInput): string {
  const bodyHash = createHash('sha256').update(input.body).digest('hex');
  const assertionHash = createHash('sha256')
    .update(input.playerAssertion ?? '', 'utf8')
    .digest('hex');
  return `${input.method.toUpperCase()}\n${input.pathWithQuery}\n${input.timestamp}\n${input.nonce}\n${bodyHash}\n${assertionHash}`;
}

/** X-Signature: base64url(HMAC-SHA256(deviceSecret, canonical string)). The secret is the base64url text as issued. */
export function signClientRequest(deviceSecret: string, input: ClientSignatureInput): string {
  return createHmac('sha256', deviceSecret).update(clientCanonicalString(input), 'utf8').digest('base64url');
}

/** Constant-time check of an X-Signature value. */
export function verifyClientSignature(deviceSecret: string, input: ClientSignatureInput, signature: string): boolean {
  const expected = Buffer.from(signClientRequest(deviceSecret, input), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}
