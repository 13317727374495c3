import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DomainError } from '@scan-to-bind/shared/domain';
import { describe, expect, it } from 'vitest';
import { offsetClock } from '../src/clock.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { type AssertionAlg, PlayerAssertionVerifier, signPlayerAssertion } from '../src/devices/player-assertion.ts';
import { clientCanonicalString, signClientRequest, verifyClientSignature } from '../src/devices/client-signature.ts';
import { Catalogue } from '../src/payments/catalogue.ts';
import { startRelay } from '../src/index.ts';
import { SecretBox } from '../src/store/secret-box.ts';
import { CLIENT_SIGNATURE_VECTORS } from '../../test/vectors/client-signature.ts';
import { adminCall } from './support/admin.ts';
import { rsaKeys, TEST_CATALOGUE, testConfig } from './support/env.ts';

const key = (): string => randomBytes(32).toString('base64');

/** A JWT's `exp` in epoch ms (the verified Player's `expiresAt`). */
function expMs(token: string): number {
  return (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp: number }).exp * 1000;
}

describe('SecretBox (AES-256-GCM at rest)', () => {
  it('seals with the active key and opens with the key id stored beside it', () => {
    const k1 = key();
    const old = new SecretBox({ k1 }, 'k1');
    const sealed = old.seal('token-123', 'binding:b1:access_token');
    expect(sealed.keyId).toBe('k1');
    expect(sealed.data).not.toContain('token-123');
    const rotated = new SecretBox({ k1, k2: key() }, 'k2');
    expect(rotated.open(sealed, 'binding:b1:access_token')).toBe('token-123');
    expect(rotated.seal('x', 'c').keyId).toBe('k2');
    expect(rotated.needsRotation('k1')).toBe(true);
  });

  it('refuses another row context, altered data or a missing key', () => {
    const box = new SecretBox({ k1: key() }, 'k1');
    const sealed = box.seal('secret', 'binding:b1:access_token');
    expect(() => box.open(sealed, 'binding:b2:access_token')).toThrow();
    const bytes = Buffer.from(sealed.data, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    expect(() => box.open({ keyId: 'k1', data: bytes.toString('base64') }, 'binding:b1:access_token')).toThrow();
    expect(() => box.open({ keyId: 'k9', data: sealed.data }, 'binding:b1:access_token')).toThrow(/k9/);
    expect(() => new SecretBox({ k1: 'c2hvcnQ=' }, 'k1')).toThrow(/32 bytes/);
  });

  it('refuses a truncated tag and a ciphertext shorter than IV + tag', () => {
    const box = new SecretBox({ k1: key() }, 'k1');
    // An empty secret seals to iv (12) | tag (16). Cut to iv | first 4 tag bytes: without a fixed
    // tag length GCM would check only those 4 bytes, so forging takes 2^32 tries, not 2^128.
    const sealed = box.seal('', 'c');
    const raw = Buffer.from(sealed.data, 'base64');
    for (const cut of [16, 20, 27, 12, 0]) {
      const data = raw.subarray(0, cut).toString('base64');
      expect(() => box.open({ keyId: 'k1', data }, 'c'), `length ${cut}`).toThrow(/too short/);
    }
    expect(box.open(sealed, 'c')).toBe('');
  });
});

describe('client request signature', () => {
  const input = { method: 'post', pathWithQuery: '/v1/purchases', timestamp: '1700000000000', nonce: 'AAAAAAAAAAAAAAAAAAAAAA', body: '{"a":1}' };

  for (const v of CLIENT_SIGNATURE_VECTORS) {
    it(`matches the shared test vector: ${v.name}`, () => {
      const vector = {
        method: v.method,
        pathWithQuery: v.pathWithQuery,
        timestamp: v.timestamp,
        nonce: v.nonce,
        body: v.body,
        playerAssertion: v.playerAssertion,
      };
      expect(clientCanonicalString(vector)).toBe(v.canonical);
      expect(signClientRequest(v.deviceSecret, vector)).toBe(v.signature);
      expect(verifyClientSignature(v.deviceSecret, vector, v.signature)).toBe(true);
    });
  }

  it('signs the documented canonical string, the player assertion included', () => {
    const sig = signClientRequest('secret', { ...input, playerAssertion: 'a.b.c' });
    expect(sig).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(verifyClientSignature('secret', { ...input, playerAssertion: 'a.b.c' }, sig)).toBe(true);
    expect(verifyClientSignature('secret', { ...input, body: '{"a":2}', playerAssertion: 'a.b.c' }, sig)).toBe(false);
    expect(verifyClientSignature('other', { ...input, playerAssertion: 'a.b.c' }, sig)).toBe(false);
    // Swapped, removed or added assertion: another canonical string.
    expect(verifyClientSignature('secret', { ...input, playerAssertion: 'a.b.d' }, sig)).toBe(false);
    expect(verifyClientSignature('secret', input, sig)).toBe(false);
    expect(verifyClientSignature('secret', input, signClientRequest('secret', input))).toBe(true);
    expect(verifyClientSignature('secret', { ...input, playerAssertion: 'a.b.c' }, signClientRequest('secret', input))).toBe(false);
  });
});

describe('player assertion (JWT)', () => {
  const clock = offsetClock();
  const make = (alg: AssertionAlg, settings: { requireDeviceId?: boolean; maxLifetimeSeconds?: number } = {}) => {
    const pair =
      alg === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : alg === 'ES256'
          ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
          : generateKeyPairSync('ed25519');
    const verifier = new PlayerAssertionVerifier({
      issuer: 'https://studio.example',
      audience: 'relay',
      maxLifetimeSeconds: settings.maxLifetimeSeconds ?? 3600,
      requireDeviceId: settings.requireDeviceId ?? true,
      source: { kind: 'pem', pem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
      clock,
    });
    return { pair, verifier };
  };

  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
    it(`verifies ${alg}`, async () => {
      const { pair, verifier } = make(alg);
      const token = signPlayerAssertion(pair.privateKey, { iss: 'https://studio.example', aud: 'relay', sub: 'p-1', ttlSeconds: 600, did: 'dev-1' }, { alg });
      await expect(verifier.verify(token, 'dev-1')).resolves.toEqual({ id: 'p-1', expiresAt: expMs(token) });
    });
  }

  it('refuses wrong issuer, audience, expiry, lifetime, device pin, tampering and alg none', async () => {
    const { pair, verifier } = make('ES256');
    const base = { iss: 'https://studio.example', aud: 'relay', sub: 'p-1', ttlSeconds: 600, did: 'dev-1' };
    const bad = [
      signPlayerAssertion(pair.privateKey, { iss: base.iss, aud: base.aud, sub: base.sub, ttlSeconds: 600 }, { alg: 'ES256' }),
      signPlayerAssertion(pair.privateKey, { ...base, iss: 'https://evil.example' }, { alg: 'ES256' }),
      signPlayerAssertion(pair.privateKey, { ...base, aud: 'other' }, { alg: 'ES256' }),
      signPlayerAssertion(pair.privateKey, base, { alg: 'ES256', now: Date.now() - 3_600_000 }),
      signPlayerAssertion(pair.privateKey, { ...base, ttlSeconds: 7200 }, { alg: 'ES256' }),
      signPlayerAssertion(pair.privateKey, { ...base, did: 'dev-2' }, { alg: 'ES256' }),
    ];
    const good = signPlayerAssertion(pair.privateKey, base, { alg: 'ES256' });
    const [h, p, s] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    bad.push(`${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'p-2' })).toString('base64url')}.${s}`);
    bad.push(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`);
    bad.push(`${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${p}.${s}`);
    for (const token of bad) {
      await expect(verifier.verify(token, 'dev-1')).rejects.toSatisfy((e: unknown) => e instanceof DomainError && e.code === 'PLAYER_UNAUTHORIZED');
    }
    await expect(verifier.verify(undefined, 'dev-1')).rejects.toBeInstanceOf(DomainError);
  });

  it('names the reason: no did under requireDeviceId, another device, a lifetime above the maximum', async () => {
    const { pair, verifier } = make('ES256', { maxLifetimeSeconds: 900 });
    const base = { iss: 'https://studio.example', aud: 'relay', sub: 'p-1', ttlSeconds: 600 };
    const reason = (token: string) =>
      verifier.verify(token, 'dev-1').then(
        () => 'accepted',
        (e: unknown) => (e instanceof DomainError && e.code === 'PLAYER_UNAUTHORIZED' ? e.message : String(e)),
      );
    expect(await reason(signPlayerAssertion(pair.privateKey, base, { alg: 'ES256' }))).toMatch(/no device id \(did\)/);
    expect(await reason(signPlayerAssertion(pair.privateKey, { ...base, did: 'dev-2' }, { alg: 'ES256' }))).toMatch(/another device/);
    expect(await reason(signPlayerAssertion(pair.privateKey, { ...base, did: 'dev-1', ttlSeconds: 901 }, { alg: 'ES256' }))).toMatch(/lifetime too long/);
    expect(await reason(signPlayerAssertion(pair.privateKey, { ...base, did: 'dev-1', ttlSeconds: 900 }, { alg: 'ES256' }))).toBe('accepted');
  });

  it('with requireDeviceId false, did stays optional but is still checked when present', async () => {
    const { pair, verifier } = make('ES256', { requireDeviceId: false });
    const base = { iss: 'https://studio.example', aud: 'relay', sub: 'p-1', ttlSeconds: 600 };
    await expect(verifier.verify(signPlayerAssertion(pair.privateKey, base, { alg: 'ES256' }), 'dev-1')).resolves.toMatchObject({ id: 'p-1' });
    await expect(verifier.verify(signPlayerAssertion(pair.privateKey, { ...base, did: 'dev-1' }, { alg: 'ES256' }), 'dev-1')).resolves.toMatchObject({
      id: 'p-1',
    });
    await expect(verifier.verify(signPlayerAssertion(pair.privateKey, { ...base, did: 'dev-2' }, { alg: 'ES256' }), 'dev-1')).rejects.toSatisfy(
      (e: unknown) => e instanceof DomainError && e.code === 'PLAYER_UNAUTHORIZED',
    );
  });

  it('reads keys from a JWKS file by kid', async () => {
    const pair = generateKeyPairSync('ed25519');
    const dir = mkdtempSync(join(tmpdir(), 'jwks-'));
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [{ ...pair.publicKey.export({ format: 'jwk' }), kid: 'studio-2025' }] }));
    const verifier = new PlayerAssertionVerifier({
      issuer: 'i',
      audience: 'a',
      maxLifetimeSeconds: 3600,
      requireDeviceId: true,
      source: { kind: 'jwks-file', path: file },
      clock,
    });
    const token = signPlayerAssertion(pair.privateKey, { iss: 'i', aud: 'a', sub: 'p', ttlSeconds: 60, did: 'd' }, { alg: 'EdDSA', kid: 'studio-2025' });
    await expect(verifier.verify(token, 'd')).resolves.toEqual({ id: 'p', expiresAt: expMs(token) });
  });
});

describe('catalogue', () => {
  const catalogue = new Catalogue(TEST_CATALOGUE);

  it('prices per currency in minor units from major-unit text', () => {
    expect(catalogue.price('gems-100', 2, 'HKD').total).toEqual({ currency: 'HKD', minor: 2400 });
    expect(catalogue.price('gems-100', 1, 'IDR').total).toEqual({ currency: 'IDR', minor: 1_500_000 });
    expect(catalogue.list('HKD').map((i) => i.sku)).toEqual(['gems-100', 'gems-1000', 'vault']);
  });

  it('refuses unknown skus and bad quantities with typed errors', () => {
    expect(() => catalogue.price('nope', 1, 'HKD')).toThrow(/UNKNOWN_SKU/);
    expect(() => catalogue.price('gems-100', 0, 'HKD')).toThrow(/INVALID_QUANTITY/);
    expect(() => catalogue.price('gems-100', 100, 'HKD')).toThrow(/INVALID_QUANTITY/);
    expect(() => new Catalogue({ items: [{ sku: 'a', title: 'A', prices: { HKD: '1.234' } }] })).toThrow();
  });
});

describe('config', () => {
  it('takes every setting from the environment over the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'relay.json');
    writeFileSync(
      file,
      JSON.stringify({
        antom: { baseUrl: 'https://open-sea-global.alipay.com', clientId: 'LIVE_1' },
        encryption: { activeKeyId: 'k1', keys: {} },
        catalogueFile: 'cat.json',
      }),
    );
    const config = loadConfig({
      file,
      env: { RELAY_PORT: '9000', ANTOM_CLIENT_ID: 'SANDBOX_2', RELAY_ENCRYPTION_KEYS: '{"k1":"x"}', RELAY_SPENDING_CAPS: '{"HKD":{"daily":"100.00"}}' },
    });
    expect(config.port).toBe(9000);
    expect(config.antom.clientId).toBe('SANDBOX_2');
    expect(config.antom.timeoutMs).toBe(15_000);
    expect(config.encryption.keys).toEqual({ k1: 'x' });
    expect(config.catalogueFile).toBe(join(dir, 'cat.json'));
    expect(config.spendingCaps.HKD?.daily).toBe('100.00');
    expect(() => loadConfig({ file, env: { RELAY_PORT: 'abc' } })).toThrow(ConfigError);
    writeFileSync(file, JSON.stringify({ antom: { baseUrl: 'https://x.example', clientId: 'A', surprise: 1 }, encryption: { activeKeyId: 'k1', keys: {} } }));
    expect(() => loadConfig({ file, env: {} })).toThrow(/surprise|Unrecognized/);
  });

  it('player assertions: did required and 15 minutes at most by default; both settable from the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'relay.json');
    const players = { issuer: 'https://studio.example', audience: 'relay', publicKey: 'pem' };
    writeFileSync(file, JSON.stringify({ antom: { baseUrl: 'https://x.example', clientId: 'A' }, encryption: { activeKeyId: 'k1', keys: {} }, players }));
    expect(loadConfig({ file, env: {} }).players).toMatchObject({ maxLifetimeSeconds: 900, requireDeviceId: true });
    const relaxed = loadConfig({ file, env: { PLAYER_REQUIRE_DEVICE_ID: 'false', PLAYER_MAX_LIFETIME_SECONDS: '300' } }).players;
    expect(relaxed).toMatchObject({ maxLifetimeSeconds: 300, requireDeviceId: false });
    expect(() => loadConfig({ file, env: { PLAYER_REQUIRE_DEVICE_ID: 'no' } })).toThrow(ConfigError);
  });
});

describe('admin token from admin.tokenFile', () => {
  const start = async (token: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-admin-token-'));
    const tokenFile = join(dir, 'admin-token');
    writeFileSync(tokenFile, `${token}\n`);
    const keys = rsaKeys();
    const db = { databaseUrl: undefined, dataDir: dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
    const config = testConfig({
      db,
      antomBaseUrl: 'http://127.0.0.1:9',
      clientId: 'SANDBOX_A',
      merchantPrivateKeyPem: keys.privateKeyPem,
      antomPublicKeyPem: keys.publicKeyPem,
      overrides: { admin: { tokenFile } },
    });
    return { run: () => startRelay(config, { logDestination: new Writable({ write: (_c, _e, done) => done() }) }), db };
  };

  it('refuses a token file shorter than 32 characters at start, as the inline token is', async () => {
    for (const token of ['short-token', '', 'x'.repeat(31)]) {
      const { run, db } = await start(token);
      await expect(run()).rejects.toThrow(ConfigError);
      await expect(run()).rejects.toThrow(/at least 32/);
      await db.drop();
    }
    // The inline token has had the rule all along (schema).
    expect(() => loadConfig({ env: { ANTOM_BASE_URL: 'https://x.example', ANTOM_CLIENT_ID: 'A', RELAY_ADMIN_TOKEN: 'x'.repeat(31) } })).toThrow(/admin/);
  });

  it('serves the admin API with a token file of 32 characters or more', async () => {
    const token = randomBytes(24).toString('base64url');
    const { run, db } = await start(token);
    const relay = await run();
    try {
      const adminBase = relay.adminUrl;
      expect((await adminCall(adminBase, 'GET', '/admin/v1/bindings', undefined, { token })).status).toBe(200);
      expect((await adminCall(adminBase, 'GET', '/admin/v1/bindings', undefined, { token: `${token}x` })).status).toBe(401);
    } finally {
      await relay.close();
      await db.drop();
    }
  });
});
