import { readFileSync } from 'node:fs';
import { ConfigError, type RelayConfig } from '../config.ts';

/** The admin API's token rule: a token shorter than this is refused wherever it comes from. */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

/**
 * The admin API's bearer token: `admin.token`, or the trimmed content of `admin.tokenFile`.
 * The file's token is held to the same ≥32-character rule as the inline one (the schema can
 * only check the inline one), so a short or empty file is a ConfigError at start, not an admin
 * API guarded by a guessable token. Undefined when neither is set (admin API disabled).
 */
export function readAdminToken(admin: RelayConfig['admin']): string | undefined {
  if (admin.token !== undefined) return admin.token;
  if (admin.tokenFile === undefined) return undefined;
  let token: string;
  try {
    token = readFileSync(admin.tokenFile, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`cannot read admin.tokenFile ${admin.tokenFile}: ${(err as Error).message}`);
  }
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new ConfigError(`admin.tokenFile ${admin.tokenFile} holds a token of ${token.length} characters; at least ${MIN_ADMIN_TOKEN_LENGTH} are required`);
  }
  return token;
}

/** The URL of the admin and operations listener a config describes (IPv6 hosts bracketed; 0.0.0.0 reached as loopback). */
export function adminListenerUrl(admin: RelayConfig['admin']): string {
  const host = admin.host === '0.0.0.0' ? '127.0.0.1' : admin.host === '::' ? '[::1]' : admin.host.includes(':') ? `[${admin.host}]` : admin.host;
  return `http://${host}:${admin.port}`;
}
