import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, CLIENT_ID, call, consultBody, MERCHANT_KEY, responseSignatureValid, signatureHeader, startTestSandbox, type TestSandbox } from './helpers.ts';

const CONSULT = '/ams/api/v1/authorizations/consult';
let sb: TestSandbox;
beforeAll(async () => {
  sb = await startTestSandbox();
});
afterAll(async () => {
  await sb.stop();
});

const body = () => consultBody('ALIPAY_HK', 'http://127.0.0.1:9');
async function codes(): Promise<number> {
  return (await admin(sb, 'GET', '/state')).json.codes.length;
}

function expectRefused(a: { status: number; json: { result: { resultStatus: string; resultCode: string } } }, code: string) {
  expect(a.status).toBe(200);
  expect(a.json.result).toMatchObject({ resultStatus: 'F', resultCode: code });
}

describe('signed messages', () => {
  it('accepts a correctly signed request and signs the answer over response-time', async () => {
    const a = await call(sb, 'authorizations/consult', body());
    expect(a.json.result.resultStatus).toBe('S');
    expect(a.headers.get('client-id')).toBe(CLIENT_ID);
    expect(a.headers.get('response-time')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);
    expect(responseSignatureValid(sb, CONSULT, a)).toBe(true);
  });

  it('serves the same API under /ams/sandbox/api and signs with that path', async () => {
    const a = await call(sb, 'authorizations/consult', body(), { sandboxPath: true });
    expect(a.json.result.resultStatus).toBe('S');
    expect(responseSignatureValid(sb, '/ams/sandbox/api/v1/authorizations/consult', a)).toBe(true);
  });

  it('accepts ISO 8601 request times', async () => {
    const a = await call(sb, 'authorizations/consult', body(), { requestTime: '2024-01-01T00:00:00+00:00' });
    expect(a.json.result.resultStatus).toBe('S');
  });

  it('accepts spaces in the Signature header as the docs show them', async () => {
    const text = JSON.stringify(body());
    const t = String(Date.now());
    const sig = signatureHeader('POST', CONSULT, CLIENT_ID, t, text).replace(/,/g, ', ');
    const a = await call(sb, 'authorizations/consult', text, { requestTime: t, headers: { signature: sig } });
    expect(a.json.result.resultStatus).toBe('S');
  });

  it('rejects a one-byte change in body, path, client id or request time, without a signature header', async () => {
    const before = await codes();
    const text = JSON.stringify(body());
    const cases = [
      { signBody: text.replace('"WEB"}', '"WEX"}') },
      { signPath: '/ams/api/v1/authorizations/consulT' },
      { signPath: '/ams/sandbox/api/v1/authorizations/consult' },
      { signClientId: `${CLIENT_ID.slice(0, -1)}2` },
      { requestTime: '1700000000000', signRequestTime: '1700000000001' },
    ];
    for (const tamper of cases) {
      const a = await call(sb, 'authorizations/consult', text, tamper);
      expectRefused(a, 'INVALID_SIGNATURE');
      expect(a.headers.get('signature')).toBeNull();
    }
    expect(await codes()).toBe(before);
  });

  it('rejects a request signed with another key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const a = await call(sb, 'authorizations/consult', body(), { key: other });
    expectRefused(a, 'INVALID_SIGNATURE');
  });

  it('rejects missing or malformed signature headers', async () => {
    const text = JSON.stringify(body());
    const t = String(Date.now());
    const good = signatureHeader('POST', CONSULT, CLIENT_ID, t, text, MERCHANT_KEY);
    const variants = [
      '',
      'garbage',
      good.replace('RSA256', 'RSA'),
      good.replace(/signature=.*/, 'signature='),
      `${good.split('signature=')[0]}signature=${decodeURIComponent(good.split('signature=')[1] ?? '')}`,
    ];
    for (const signature of variants)
      expectRefused(await call(sb, 'authorizations/consult', text, { requestTime: t, headers: { signature } }), 'INVALID_SIGNATURE');
    expectRefused(
      await call(sb, 'authorizations/consult', text, { requestTime: t, headers: { signature: good.replace('keyVersion=1', 'keyVersion=2') } }),
      'KEY_NOT_FOUND',
    );
  });

  it('answers CLIENT_INVALID for another client id, PARAM_ILLEGAL for missing headers', async () => {
    expectRefused(await call(sb, 'authorizations/consult', body(), { clientId: 'SANDBOX_OTHER' }), 'CLIENT_INVALID');
    expectRefused(await call(sb, 'authorizations/consult', body(), { headers: { 'client-id': '' } }), 'PARAM_ILLEGAL');
    expectRefused(await call(sb, 'authorizations/consult', body(), { headers: { 'request-time': 'soon' } }), 'PARAM_ILLEGAL');
    expectRefused(await call(sb, 'authorizations/consult', body(), { headers: { 'content-type': 'text/plain' } }), 'PARAM_ILLEGAL');
  });

  // The relay takes an unsigned answer as unknown (never a refusal), so the sandbox must sign
  // every answer Antom signs: all but a refused signature and an unknown client id.
  it('signs every refusal of the message layer to its own client id; only a bad signature or a foreign client id goes unsigned', async () => {
    const signed = [
      await call(sb, 'authorizations/consult', body(), { headers: { 'request-time': 'soon' } }),
      await call(sb, 'authorizations/consult', body(), { headers: { 'content-type': 'text/plain' } }),
      await call(sb, 'authorizations/consult', JSON.stringify({ ...body(), pad: 'x'.repeat(1024 * 1024) })),
      await call(sb, 'authorizations/consult', { ...body(), authState: 42 }),
    ];
    for (const a of signed) {
      expect(a.json.result.resultStatus).toBe('F');
      expect(responseSignatureValid(sb, CONSULT, a)).toBe(true);
    }
    const unsigned = [
      await call(sb, 'authorizations/consult', JSON.stringify(body()), { signBody: '{}' }),
      await call(sb, 'authorizations/consult', body(), { clientId: 'SANDBOX_OTHER' }),
    ];
    for (const a of unsigned) {
      expect(a.json.result.resultStatus).toBe('F');
      expect(a.headers.get('signature')).toBeNull();
    }
  });

  it('refuses bodies over 1 MB Antom-style', async () => {
    const big = JSON.stringify({ ...body(), pad: 'x'.repeat(1024 * 1024) });
    const a = await call(sb, 'authorizations/consult', big);
    expectRefused(a, 'PARAM_ILLEGAL');
  });

  it('refuses invalid JSON, invalid UTF-8, non-objects and deep nesting after verification, signed', async () => {
    const bodies: Array<Buffer | string> = [
      '{',
      Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
      '[]',
      '"x"',
      `${'['.repeat(5000)}${']'.repeat(5000)}`,
      `{"a":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`,
    ];
    for (const b of bodies) {
      const a = await call(sb, 'authorizations/consult', b);
      expectRefused(a, 'PARAM_ILLEGAL');
      expect(responseSignatureValid(sb, CONSULT, a)).toBe(true);
    }
  });

  it('names the field of a missing, mistyped or oversized parameter', async () => {
    const { authState: _a, ...missing } = body();
    expect((await call(sb, 'authorizations/consult', missing)).json.result.resultMessage).toContain('authState');
    expect((await call(sb, 'authorizations/consult', { ...body(), authState: 42 })).json.result.resultCode).toBe('PARAM_ILLEGAL');
    expect((await call(sb, 'authorizations/consult', { ...body(), authState: 'x'.repeat(257) })).json.result.resultCode).toBe('PARAM_ILLEGAL');
    expect((await call(sb, 'authorizations/consult', { ...body(), scopes: ['A', 'B', 'C', 'D', 'AGREEMENT_PAY'] })).json.result.resultCode).toBe(
      'PARAM_ILLEGAL',
    );
  });

  it('answers unknown API paths with 404 and an Antom result', async () => {
    const res = await fetch(`${sb.url}/ams/api/v1/payments/unknown`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { result: { resultStatus: string } }).result.resultStatus).toBe('F');
  });

  it('serves its public key and logs each request with its verification result', async () => {
    const pem = await (await fetch(`${sb.url}/sandbox/public-key.pem`)).text();
    expect(pem).toBe(sb.publicKeyPem);
    const state = (await admin(sb, 'GET', '/state')).json;
    const verifications = new Set(state.requests.map((r: { verification: string }) => r.verification));
    expect(verifications).toContain('OK');
    expect(verifications).toContain('INVALID_SIGNATURE');
    expect(verifications).toContain('TOO_LARGE');
  });
});
