import { describe, expect, it } from 'vitest';
import { redact, redactText } from '../../../../main/services/redact.ts';

describe('redact', () => {
  it('replaces values under secret-looking keys, at any depth', () => {
    const out = redact({
      deviceSecret: 's3cr3t-s3cr3t-s3cr3t',
      nested: { accessToken: 'tok', 'X-Signature': 'sig', code: '123456', codeValue: 'https://wallet/qr/1', ok: 'visible' },
      list: [{ password: 'p' }],
    });
    expect(out).toEqual({
      deviceSecret: '[redacted]',
      nested: { accessToken: '[redacted]', 'X-Signature': '[redacted]', code: '[redacted]', codeValue: '[redacted]', ok: 'visible' },
      list: [{ password: '[redacted]' }],
    });
  });

  it('scrubs JWTs, signing headers, PEM blocks and bearer tokens from free text', () => {
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJwbGF5ZXIifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    const text = `assertion ${jwt} x-signature: abcDEF123 Authorization=Bearer abc.def -----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----`;
    const out = redactText(text);
    expect(out).not.toContain(jwt);
    expect(out).not.toContain('abcDEF123');
    expect(out).not.toContain('MIIB');
    expect(out).toContain('[jwt]');
    expect(out).toContain('[pem]');
  });

  it('bounds depth and length and keeps errors readable', () => {
    let deep: Record<string, unknown> = { v: 1 };
    for (let i = 0; i < 10; i++) deep = { d: deep };
    expect(JSON.stringify(redact(deep))).toContain('[deep]');
    expect((redact('x'.repeat(5000)) as string).length).toBeLessThanOrEqual(2001);
    expect(redact(new Error('bad deviceSecret=abcdefgh'))).toEqual({ name: 'Error', message: 'bad deviceSecret=[redacted]' });
  });
});
