import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

/**
 * Antom's message signature: RSA256 = SHA256withRSA (PKCS#1 v1.5) over
 * `<METHOD> <path>\n<client-id>.<time>.<exact body bytes>`, base64, then URL-encoded into the
 * `Signature` header as `algorithm=RSA256,keyVersion=<n>,signature=<value>`.
 */

/** The exact bytes that are signed; the body is appended as received, never re-encoded. */
export function signContent(method: string, path: string, clientId: string, time: string, body: Buffer | string): Buffer {
  const head = Buffer.from(`${method} ${path}\n${clientId}.${time}.`, 'utf8');
  return Buffer.concat([head, typeof body === 'string' ? Buffer.from(body, 'utf8') : body]);
}

/** Base64 RSA-SHA256 signature of the content. */
export function signBase64(content: Buffer, privateKey: KeyObject): string {
  return sign('sha256', content, privateKey).toString('base64');
}

/** Verifies a base64 signature; false (never a throw) for anything malformed. */
export function verifyBase64(content: Buffer, signatureBase64: string, publicKey: KeyObject): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signatureBase64) || signatureBase64.length % 4 !== 0) return false;
  try {
    return verify('sha256', content, publicKey, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}

/** The header value Antom sends: the base64 signature form-URL-encoded (`+`→%2B, `/`→%2F, `=`→%3D). */
export function formatSignatureHeader(signatureBase64: string, keyVersion = '1'): string {
  return `algorithm=RSA256,keyVersion=${keyVersion},signature=${encodeURIComponent(signatureBase64)}`;
}

/** A parsed `Signature` header. */
export interface SignatureHeader {
  algorithm: string | undefined;
  keyVersion: string | undefined;
  /** The URL-decoded base64 value. */
  signature: string;
}

/**
 * Parses `algorithm=RSA256, keyVersion=1, signature=...` (spaces after commas tolerated, as
 * the docs show them). The value is URL-decoded the way Java's URLDecoder does it (`+` is a
 * space), so a raw base64 value containing `+` fails, exactly as it fails at Antom's Java
 * stack. Returns undefined when the header cannot be read.
 */
export function parseSignatureHeader(header: string | undefined): SignatureHeader | undefined {
  if (typeof header !== 'string' || header.length === 0 || header.length > 2048) return undefined;
  const marker = header.indexOf('signature=');
  if (marker < 0) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.slice(0, marker).split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim());
  }
  const encoded = header.slice(marker + 'signature='.length).trim();
  let signature: string;
  try {
    signature = decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
  if (signature === '') return undefined;
  return { algorithm: fields.get('algorithm'), keyVersion: fields.get('keyVersion'), signature };
}

/** Reads an RSA public key from SPKI PEM or bare base64 SPKI DER (Antom's key format). */
export function readPublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return createPublicKey({ key: trimmed, format: 'pem' });
  return createPublicKey({ key: Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
}

/** Reads an RSA private key from PKCS#8 PEM or bare base64 PKCS#8 DER. */
export function readPrivateKey(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return createPrivateKey({ key: trimmed, format: 'pem' });
  return createPrivateKey({ key: Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'pkcs8' });
}
