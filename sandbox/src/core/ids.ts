import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isoWithOffset } from './clock.ts';

/** A numeric-looking Antom id: yyyymmdd (UTC+8) + a sequence + random digits, max 64 chars. */
export function antomId(now: number, prefix: string, seq: number): string {
  const day = isoWithOffset(now).slice(0, 10).replace(/-/g, '');
  const rnd = randomBytes(6).readUIntBE(0, 6).toString().padStart(15, '0');
  return `${day}${prefix}${String(seq).padStart(8, '0')}${rnd}`;
}

/** An opaque random token with a readable prefix. */
export function opaqueToken(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

/** Shows only the start and end of a secret (inspection output). */
export function maskSecret(secret: string): string {
  if (secret.length <= 10) return '****';
  return `${secret.slice(0, 6)}…${secret.slice(-4)}`;
}

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
