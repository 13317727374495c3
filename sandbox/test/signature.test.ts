import { describe, expect, it } from 'vitest';
import { parseRequestTime } from '../src/core/clock.ts';
import { formatSignatureHeader, parseSignatureHeader, readPrivateKey, readPublicKey, signBase64, signContent, verifyBase64 } from '../src/core/signature.ts';
import { isExactAck } from '../src/notify/notifier.ts';
import { maskLoginId } from '../src/wallet/accounts.ts';
import { VECTOR_PRIVATE_KEY_B64, VECTOR_PUBLIC_KEY_B64 } from './helpers.ts';

// A self-generated test vector (a throw-away RSA-2048 key; Antom publishes none).
const BODY =
  '{"customerBelongsTo":"ALIPAY_HK","authRedirectUrl":"https://merchant.example/auth/return","scopes":["AGREEMENT_PAY"],"authState":"STATE-0001","env":{"terminalType":"WEB"}}';
const SIGNATURE =
  'tGkbNPExuWbcdUH9A2DVZBDDJ2LzrrKK+0lXLChIm+aKfYpGj+GOHiZT8VL6bl5BsB6+HYWxSL1gWKSQfuYM+lznifMfKuKx7PUhya0Jt0D5RzhSEc6ztJNqKhYTL0N17hpnSqZdPjwYRsTwfXCsfr0xvWTDjZHTb/3s0yVHDKEW/2Li7eqIMrCuOuXwBwRP6I+IipkU8wmGKhZpCsxmyWFLjkCavt/HnjrdehaCUdsPUC16f75S1mvadKuioTANigCpBEenjNNgTmOfnvoVySuOjMLzlMshQJ0UNCadaGknmVJukDDyb8Wh0RipqFrXCI2UMOaCtSnWwFMtLWe5TA==';
const HEADER_VALUE =
  'tGkbNPExuWbcdUH9A2DVZBDDJ2LzrrKK%2B0lXLChIm%2BaKfYpGj%2BGOHiZT8VL6bl5BsB6%2BHYWxSL1gWKSQfuYM%2BlznifMfKuKx7PUhya0Jt0D5RzhSEc6ztJNqKhYTL0N17hpnSqZdPjwYRsTwfXCsfr0xvWTDjZHTb%2F3s0yVHDKEW%2F2Li7eqIMrCuOuXwBwRP6I%2BIipkU8wmGKhZpCsxmyWFLjkCavt%2FHnjrdehaCUdsPUC16f75S1mvadKuioTANigCpBEenjNNgTmOfnvoVySuOjMLzlMshQJ0UNCadaGknmVJukDDyb8Wh0RipqFrXCI2UMOaCtSnWwFMtLWe5TA%3D%3D';

describe('signature (self-generated test vector)', () => {
  const content = signContent('POST', '/ams/api/v1/authorizations/consult', 'SANDBOX_5YTEST0000000001', '1700000000000', BODY);

  it('builds the content to sign exactly', () => {
    expect(content.toString('utf8')).toBe(`POST /ams/api/v1/authorizations/consult\nSANDBOX_5YTEST0000000001.1700000000000.${BODY}`);
  });

  it('signs to the published signature and header value', () => {
    const sig = signBase64(content, readPrivateKey(VECTOR_PRIVATE_KEY_B64));
    expect(sig).toBe(SIGNATURE);
    expect(formatSignatureHeader(sig)).toBe(`algorithm=RSA256,keyVersion=1,signature=${HEADER_VALUE}`);
  });

  it('verifies the published signature and rejects a one-byte change', () => {
    const key = readPublicKey(VECTOR_PUBLIC_KEY_B64);
    expect(verifyBase64(content, SIGNATURE, key)).toBe(true);
    const changed = Buffer.from(content);
    changed[changed.length - 2] = 0x20;
    expect(verifyBase64(changed, SIGNATURE, key)).toBe(false);
    expect(verifyBase64(content, 'not base64!', key)).toBe(false);
  });

  it('parses the header with and without spaces, URL-decoding the value', () => {
    const plain = parseSignatureHeader(`algorithm=RSA256,keyVersion=1,signature=${HEADER_VALUE}`);
    const spaced = parseSignatureHeader(`algorithm=RSA256, keyVersion=1, signature=${HEADER_VALUE}`);
    expect(plain).toEqual({ algorithm: 'RSA256', keyVersion: '1', signature: SIGNATURE });
    expect(spaced).toEqual(plain);
    expect(parseSignatureHeader('')).toBeUndefined();
    expect(parseSignatureHeader('algorithm=RSA256')).toBeUndefined();
    expect(parseSignatureHeader('signature=%E0%A4%A')).toBeUndefined();
    // Raw base64 with '+' decodes like Java's URLDecoder ('+' → space) and so cannot verify.
    expect(parseSignatureHeader(`algorithm=RSA256,keyVersion=1,signature=${SIGNATURE}`)?.signature).not.toBe(SIGNATURE);
  });
});

describe('message helpers', () => {
  it('accepts epoch milliseconds and ISO 8601 request times', () => {
    expect(parseRequestTime('1700000000000')).toBe(1_700_000_000_000);
    expect(parseRequestTime('2024-01-01T00:00:00+00:00')).toBe(Date.UTC(2024, 0, 1));
    expect(parseRequestTime('2024-01-01T08:00:00+0800')).toBe(Date.UTC(2024, 0, 1));
    expect(parseRequestTime('2024-01-01T00:00:00Z')).toBe(Date.UTC(2024, 0, 1));
    expect(parseRequestTime('yesterday')).toBeUndefined();
    expect(parseRequestTime('2024-13-01T00:00:00Z')).toBeUndefined();
  });

  it('accepts only the exact acknowledgement', () => {
    expect(isExactAck(200, '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}')).toBe(true);
    expect(isExactAck(200, '{ "result": { "resultStatus": "S", "resultCode": "SUCCESS", "resultMessage": "success" } }')).toBe(true);
    expect(isExactAck(201, '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}')).toBe(false);
    expect(isExactAck(200, '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"Success"}}')).toBe(false);
    expect(isExactAck(200, '{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}')).toBe(false);
    expect(isExactAck(200, '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"x":1}')).toBe(false);
    expect(isExactAck(200, 'OK')).toBe(false);
    expect(isExactAck(200, '')).toBe(false);
  });

  it('masks login ids like the wallets do', () => {
    expect(maskLoginId('852-6123-8812')).toBe('852-****-8812');
    expect(maskLoginId('62-812-3456-4321')).toBe('62-***-****-4321');
  });
});
