/**
 * The key a player's binding reference is stored under. For a launcher it is the `sub` of the
 * studio's player assertion (read, not verified: the relay verifies it; main only needs a
 * stable key); a kiosk has one "visit" player that every reset wipes.
 */
export function playerKeyFrom(kind: 'launcher' | 'kiosk', assertion: string | null): string {
  if (kind === 'kiosk') return 'kiosk-visit';
  if (!assertion) return 'default';
  const [, payload] = assertion.split('.');
  if (!payload) return 'default';
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown; sub?: unknown };
    return typeof claims.sub === 'string' && claims.sub.length > 0 && claims.sub.length <= 256
      ? `${typeof claims.iss === 'string' ? claims.iss : ''}|${claims.sub}`
      : 'default';
  } catch {
    return 'default';
  }
}
