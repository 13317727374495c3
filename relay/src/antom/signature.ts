import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

/**
 * Antom's message signature: RSA256 = SHA256withRSA (PKCS#1 v1.5) over
 * `<METHOD> <path>\n<client-id>.<time>.<exact body>`, base64, then URL-encoded in the header.
 */
export function signContent(method: string, path: string, clientId: string, time: string, body: string): string {
  return `${method} ${path}\n${clientId}.${time}.${body}`;
}

/** Signs content with the merchant private key; returns plain base64. */
export function signBase64(privateKey: KeyObject, content: string): string {
  return sign('sha256', Buffer.from(content, 'utf8'), privateKey).toString('base64');
}

/**
 * signBase64 on libuv's thread pool instead of the event loop (issue 17, the relay's Antom
 * calls): an RSA-2048 signature is ~0.9 ms of CPU, and done inline it held every request the
 * relay had read meanwhile (refusals included) behind each pay's signature. Same bytes as
 * signBase64 (PKCS#1 v1.5 is deterministic; antom-signature.test.ts compares them).
 */
export function signBase64Async(privateKey: KeyObject, content: string): Promise<string> {
  return new Promise((resolve, reject) => {
    sign('sha256', Buffer.from(content, 'utf8'), privateKey, (err, signature) => (err ? reject(err) : resolve(signature.toString('base64'))));
  });
}

/** Verifies a plain base64 signature over content with a public key; false on any malformed input. */
export function verifyBase64(publicKey: KeyObject, content: string, signatureB64: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/u.test(signatureB64)) return false;
  try {
    return verify('sha256', Buffer.from(content, 'utf8'), publicKey, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}

/** The `Signature` header value: `algorithm=RSA256,keyVersion=<n>,signature=<url-encoded base64>`. */
export function signatureHeader(keyVersion: string, signatureB64: string): string {
  return `algorithm=RSA256,keyVersion=${keyVersion},signature=${encodeURIComponent(signatureB64)}`;
}

/** The parts of a `Signature` header; undefined when it is not an RSA256 signature header. */
export interface ParsedSignatureHeader {
  algorithm: string;
  keyVersion?: string;
  /** The decoded (plain base64) signature. */
  signature: string;
}

/**
 * Parses a `Signature` header, tolerating spaces after commas (as Antom's docs show them) and
 * both URL-encoded and raw base64, as the SDKs do (everything after the literal `signature=`).
 */
export function parseSignatureHeader(value: string | undefined): ParsedSignatureHeader | undefined {
  if (!value) return undefined;
  const at = value.indexOf('signature=');
  if (at < 0) return undefined;
  const head = value.slice(0, at);
  const encoded = value.slice(at + 'signature='.length).trim();
  const fields = new Map<string, string>();
  for (const part of head.split(',')) {
    const [k, ...v] = part.trim().split('=');
    if (k) fields.set(k.trim(), v.join('=').trim());
  }
  const algorithm = fields.get('algorithm');
  if (algorithm !== 'RSA256') return undefined;
  let signature: string;
  try {
    signature = encoded.includes('%') ? decodeURIComponent(encoded) : encoded;
  } catch {
    return undefined;
  }
  const keyVersion = fields.get('keyVersion');
  return keyVersion ? { algorithm, keyVersion, signature } : { algorithm, signature };
}

function looksPem(text: string): boolean {
  return text.includes('-----BEGIN');
}

/** Parses the merchant private key: PEM (PKCS#8 or PKCS#1) or Antom's base64 PKCS#8 DER. */
export function parsePrivateKey(text: string): KeyObject {
  const trimmed = text.trim();
  const key = looksPem(trimmed)
    ? createPrivateKey(trimmed)
    : createPrivateKey({ key: Buffer.from(trimmed.replace(/\s+/gu, ''), 'base64'), format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType !== 'rsa') throw new Error('the Antom merchant key must be an RSA key');
  return key;
}

/** Parses a public key: PEM (SPKI) or Antom's base64 X.509 SubjectPublicKeyInfo DER. */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  const key = looksPem(trimmed)
    ? createPublicKey(trimmed)
    : createPublicKey({ key: Buffer.from(trimmed.replace(/\s+/gu, ''), 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'rsa') throw new Error('the Antom public key must be an RSA key');
  return key;
}
