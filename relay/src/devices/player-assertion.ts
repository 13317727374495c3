import { createPublicKey, type JsonWebKey, type KeyObject, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DomainError } from '@scan-to-bind/shared/domain';
import type { Clock } from '../clock.ts';

/** The JWS algorithms a studio may sign player assertions with. */
export type AssertionAlg = 'RS256' | 'ES256' | 'EdDSA';
const ALGS: readonly AssertionAlg[] = ['RS256', 'ES256', 'EdDSA'];

/** Where the studio's public keys come from. */
export type StudioKeySource = { kind: 'pem'; pem: string } | { kind: 'jwks-file'; path: string } | { kind: 'jwks-url'; url: string };

/** The verified player. */
export interface Player {
  /** The studio's stable player id (`sub`). */
  id: string;
  /** When the assertion expires (its `exp`, epoch ms): a stream it opened ends then. */
  expiresAt: number;
}

const SKEW_S = 30;

function b64urlJson(part: string): Record<string, unknown> {
  const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
  return value as Record<string, unknown>;
}

function keyMatchesAlg(key: KeyObject, alg: AssertionAlg): boolean {
  if (alg === 'RS256') return key.asymmetricKeyType === 'rsa';
  if (alg === 'ES256') return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  return key.asymmetricKeyType === 'ed25519';
}

function verifyJws(alg: AssertionAlg, key: KeyObject, data: Buffer, sig: Buffer): boolean {
  try {
    if (alg === 'RS256') return verify('sha256', data, key, sig);
    if (alg === 'ES256') return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
    return verify(null, data, key, sig);
  } catch {
    return false;
  }
}

function keysFromJwks(doc: unknown): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  const list = (doc as { keys?: unknown })?.keys;
  if (!Array.isArray(list)) throw new Error('JWKS has no keys array');
  list.forEach((jwk: JsonWebKey & { kid?: string; use?: string }, i) => {
    if (jwk.use && jwk.use !== 'sig') return;
    keys.set(jwk.kid ?? `#${i}`, createPublicKey({ key: jwk, format: 'jwk' }));
  });
  return keys;
}

/**
 * Verifies the player assertion a studio's game server issues (a compact JWS / JWT): RS256,
 * ES256 or EdDSA with node:crypto; `iss` and `aud` must match the configuration, `sub` names
 * the player, `exp` is required and the lifetime is bounded. The `did` claim pins the token to
 * one device: with `requireDeviceId` (the default) a token without it is refused, so a token
 * copied off one launcher is worthless on another; without the setting `did` is optional but,
 * when present, must still equal the calling device id.
 */
export class PlayerAssertionVerifier {
  readonly #issuer: string;
  readonly #audience: string;
  readonly #maxLifetimeS: number;
  readonly #requireDeviceId: boolean;
  readonly #clock: Clock;
  readonly #source: StudioKeySource;
  #keys: Map<string, KeyObject> = new Map();
  #fetchedAt = 0;

  constructor(options: {
    issuer: string;
    audience: string;
    maxLifetimeSeconds: number;
    requireDeviceId: boolean;
    source: StudioKeySource;
    clock: Clock;
  }) {
    this.#issuer = options.issuer;
    this.#audience = options.audience;
    this.#maxLifetimeS = options.maxLifetimeSeconds;
    this.#requireDeviceId = options.requireDeviceId;
    this.#clock = options.clock;
    this.#source = options.source;
    if (options.source.kind === 'pem') this.#keys = new Map([['*', createPublicKey(options.source.pem)]]);
    if (options.source.kind === 'jwks-file') this.#keys = keysFromJwks(JSON.parse(readFileSync(options.source.path, 'utf8')));
  }

  async #keyFor(kid: string | undefined): Promise<KeyObject | undefined> {
    const pick = (): KeyObject | undefined =>
      this.#keys.get('*') ?? (kid ? this.#keys.get(kid) : this.#keys.size === 1 ? [...this.#keys.values()][0] : undefined);
    let key = pick();
    if (!key && this.#source.kind === 'jwks-url' && Date.now() - this.#fetchedAt > 30_000) {
      this.#fetchedAt = Date.now();
      const res = await fetch(this.#source.url, { signal: AbortSignal.timeout(5_000) });
      if (res.ok) this.#keys = keysFromJwks(await res.json());
      key = pick();
    }
    return key;
  }

  /** Returns the player or throws DomainError PLAYER_UNAUTHORIZED. */
  async verify(token: string | undefined, deviceId: string): Promise<Player> {
    const fail = (why: string): never => {
      throw new DomainError('PLAYER_UNAUTHORIZED', why);
    };
    if (!token) return fail('missing player assertion');
    const parts = token.split('.');
    if (parts.length !== 3 || token.length > 8192) return fail('malformed assertion');
    const [h, p, s] = parts as [string, string, string];
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = b64urlJson(h);
      claims = b64urlJson(p);
    } catch {
      return fail('malformed assertion');
    }
    const alg = header['alg'];
    if (typeof alg !== 'string' || !(ALGS as readonly string[]).includes(alg)) return fail('algorithm not allowed');
    const kid = typeof header['kid'] === 'string' ? header['kid'] : undefined;
    const key = await this.#keyFor(kid);
    if (!key || !keyMatchesAlg(key, alg as AssertionAlg)) return fail('no matching studio key');
    if (!verifyJws(alg as AssertionAlg, key, Buffer.from(`${h}.${p}`, 'utf8'), Buffer.from(s, 'base64url'))) {
      return fail('bad signature');
    }
    const now = Math.floor(this.#clock.now() / 1000);
    const { iss, aud, sub, exp, nbf, iat, did } = claims;
    if (iss !== this.#issuer) return fail('wrong issuer');
    const audOk = aud === this.#audience || (Array.isArray(aud) && aud.includes(this.#audience));
    if (!audOk) return fail('wrong audience');
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) return fail('no subject');
    if (typeof exp !== 'number' || exp + SKEW_S < now) return fail('expired');
    if (typeof nbf === 'number' && nbf - SKEW_S > now) return fail('not yet valid');
    if (typeof iat === 'number' && iat - SKEW_S > now) return fail('issued in the future');
    const start = typeof iat === 'number' ? iat : now;
    if (exp - start > this.#maxLifetimeS) return fail('lifetime too long');
    if (did === undefined && this.#requireDeviceId) return fail('assertion has no device id (did); players.requireDeviceId is on');
    if (did !== undefined && did !== deviceId) return fail('assertion is for another device');
    return { id: sub, expiresAt: exp * 1000 };
  }
}

/** Signs a player assertion (what a studio's game server does; used by the dev CLI and tests). */
export function signPlayerAssertion(
  privateKey: KeyObject,
  claims: { iss: string; aud: string; sub: string; ttlSeconds: number; did?: string },
  options: { alg: AssertionAlg; kid?: string; now?: number },
): string {
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const header = { alg: options.alg, typ: 'JWT', ...(options.kid ? { kid: options.kid } : {}) };
  const payload = {
    iss: claims.iss,
    aud: claims.aud,
    sub: claims.sub,
    iat: now,
    exp: now + claims.ttlSeconds,
    ...(claims.did ? { did: claims.did } : {}),
  };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const data = Buffer.from(input, 'utf8');
  const sig =
    options.alg === 'RS256'
      ? sign('sha256', data, privateKey)
      : options.alg === 'ES256'
        ? sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' })
        : sign(null, data, privateKey);
  return `${input}.${sig.toString('base64url')}`;
}
