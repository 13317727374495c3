import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../../../main/services/ports.ts';
import { backoffDelay, retryAfterMs } from '../../../../main/services/relay/backoff.ts';
import { httpErrorFrom, toRelayError } from '../../../../main/services/relay/errors.ts';
import { canonicalString, newNonce, signRequest } from '../../../../main/services/relay/signing.ts';
import { SseParser } from '../../../../main/services/relay/sse-parser.ts';
import { CLIENT_SIGNATURE_VECTORS, EMPTY_SHA256 } from '../../../vectors/client-signature.ts';

describe('request signing', () => {
  for (const v of CLIENT_SIGNATURE_VECTORS) {
    it(`matches the relay's shared test vector: ${v.name}`, () => {
      expect(canonicalString(v.method, v.pathWithQuery, v.timestamp, v.nonce, v.body, v.playerAssertion ?? null)).toBe(v.canonical);
      const headers = signRequest(
        { deviceId: 'dev_1', deviceSecret: v.deviceSecret },
        { method: v.method, pathWithQuery: v.pathWithQuery, rawBody: v.body, playerAssertion: v.playerAssertion ?? null },
        Number(v.timestamp),
        v.nonce,
      );
      expect(headers).toEqual({
        'X-Device-Id': 'dev_1',
        'X-Timestamp': v.timestamp,
        'X-Nonce': v.nonce,
        'X-Signature': v.signature,
        ...(v.playerAssertion ? { 'X-Player-Assertion': v.playerAssertion } : {}),
      });
    });
  }

  it('signs METHOD, path with query, timestamp, nonce, the body hash and the assertion hash with HMAC-SHA256', () => {
    const body = '{"wallet":"DANA"}';
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJwMSJ9.c2ln';
    const headers = signRequest(
      { deviceId: 'dev_1', deviceSecret: 'secret-secret-secret' },
      { method: 'post', pathWithQuery: '/v1/bindings?x=1', rawBody: body, playerAssertion: jwt },
      1_700_000_000_000,
      'bm9uY2Utbm9uY2Utbm9uY2U',
    );
    const hash = (t: string) => createHash('sha256').update(t).digest('hex');
    const expected = createHmac('sha256', 'secret-secret-secret')
      .update(`POST\n/v1/bindings?x=1\n1700000000000\nbm9uY2Utbm9uY2Utbm9uY2U\n${hash(body)}\n${hash(jwt)}`)
      .digest('base64url');
    expect(headers['X-Signature']).toBe(expected);
    expect(headers['X-Player-Assertion']).toBe(jwt);
    // No assertion (kiosk): the last line is the hash of "", and no header is sent.
    expect(canonicalString('GET', '/v1/wallets', '1', 'n', '')).toBe(`GET\n/v1/wallets\n1\nn\n${EMPTY_SHA256}\n${EMPTY_SHA256}`);
    expect(signRequest({ deviceId: 'd', deviceSecret: 's' }, { method: 'GET', pathWithQuery: '/', rawBody: '' }, 1, 'n')).not.toHaveProperty(
      'X-Player-Assertion',
    );
  });

  it('mints nonces of at least 16 random bytes, base64url', () => {
    const a = newNonce();
    expect(Buffer.from(a, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(newNonce()).not.toBe(a);
  });
});

describe('error mapping', () => {
  it('takes the shared code from the body, else from the status', () => {
    expect(httpErrorFrom(402, '{"error":{"code":"INSUFFICIENT_BALANCE","message":"x"}}').code).toBe('INSUFFICIENT_BALANCE');
    expect(httpErrorFrom(401, '').code).toBe('DEVICE_UNAUTHORIZED');
    expect(httpErrorFrom(429, '<html>').code).toBe('RATE_LIMITED');
    expect(httpErrorFrom(503, '').code).toBe('OVERLOADED');
    expect(httpErrorFrom(502, '').code).toBe('RELAY_UNAVAILABLE');
    expect(httpErrorFrom(400, '{"error":{"code":"NOT_A_CODE"}}').code).toBe('INVALID_INPUT');
  });

  it('maps transport failures: offline, down, timeout', () => {
    expect(toRelayError(new TransportError('offline')).code).toBe('OFFLINE');
    expect(toRelayError(new TransportError('refused')).code).toBe('RELAY_UNAVAILABLE');
    expect(toRelayError(new TransportError('timeout')).code).toBe('TIMEOUT');
    expect(toRelayError(new Error('x')).code).toBe('INTERNAL');
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter and a cap', () => {
    const p = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(p, 0, () => 0)).toBe(50);
    expect(backoffDelay(p, 0, () => 1)).toBe(100);
    expect(backoffDelay(p, 3, () => 1)).toBe(800);
    expect(backoffDelay(p, 10, () => 1)).toBe(1000);
  });

  it('reads Retry-After in seconds or as a date, bounded', () => {
    expect(retryAfterMs('2', 0, 10_000)).toBe(2000);
    expect(retryAfterMs('999', 0, 10_000)).toBe(10_000);
    expect(retryAfterMs(new Date(5000).toUTCString(), 0, 10_000)).toBe(5000);
    expect(retryAfterMs(undefined, 0, 1)).toBeNull();
  });
});

describe('SseParser', () => {
  it('parses events split across chunks with any line ending', () => {
    const p = new SseParser();
    expect(p.push(': hello\r\nevent: binding\r\nid: 7\r\ndata: {"a":')).toEqual([]);
    expect(p.push('1}\r\n\r')).toEqual([]);
    expect(p.push('\ndata: x\ndata: y\n\nretry: 3000\nevent: purchase\ndata: z\r\n\r\n')).toEqual([
      { event: 'binding', data: '{"a":1}', id: '7', retry: null },
      { event: 'message', data: 'x\ny', id: '7', retry: null },
      { event: 'purchase', data: 'z', id: '7', retry: 3000 },
    ]);
  });

  it('refuses an endless line', () => {
    const p = new SseParser(10);
    expect(() => p.push('data: 01234567890')).toThrow();
  });
});
