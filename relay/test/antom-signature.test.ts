import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { antomPath } from '../src/antom/client.ts';
import { NOTIFICATION_ACK, verifyNotification } from '../src/antom/notification-verifier.ts';
import {
  parsePrivateKey,
  parsePublicKey,
  parseSignatureHeader,
  signatureHeader,
  signBase64,
  signBase64Async,
  signContent,
  verifyBase64,
} from '../src/antom/signature.ts';

// A self-generated test vector (a throw-away RSA-2048 key; Antom publishes none).
const PRIVATE_B64 =
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDUfX6ui9tNpuXDfRn/4feziIbyE+C55cMO42jptqFb8Vk9F++myEoPRTezc6JGTtMkV+ws2IlyVDV2oJxUObdYw9t/Py4TuGaVPZBIfjcDnKUoPq0lURhaUhkqurLoKFGDbiq0b75EuR4k05+jBxLTn/FHanH0ogk3KtTYtAdJSLrauh4WDPoiLWGOWU5+Dmxg1lPuSz9DqTiqluF3F9mB1QCX7DBcrLqZ+oC4nclBbw1xALSy7GaGQLRagxr8mFqCMM9/r3Pxg/2urD9pQLtsrMGX75ABCsHFjyFbQ/jAQhUzy3zvThpYDXN31Vhfzay7CgWAwI9c92t1oeeNqeDnAgMBAAECggEAXyw0VOaEW8Pgjk4WmpLx2IJSetOnaGv+EUmPAHsRy7YOU7xIVSnJbgyBFcm5iYcdr94HhNCZw1DvP0pRqrHNKp9SzSwVrbR+keKooKeTaXU8TgnAkIHBiBbUedx0bGI+nED4NKgGDw7g7vqwOhtdddbiASwujTUULpbrDYKY7tuoWlRZmiug8uGfuDldP/eOA/xRUyCFGvbYkOxNqLbXGnFYA2R3eaedoDmZmshumcpBWPDydIb5sGfLF5t9w9a7GA3ReYdSzETQPFXZfG70pdlo7WbbYArkbVhVxrUaDKMbJinDZLi0133ckzDFvGi8C7/lRV2lq3pbjIF5hutPUQKBgQD9d7R/aVCL87HJF+BCgMozdH03wAnOVoerDZnTNtvG7CxvVZ/+dYVt8Wx9fLxy71fBsZP2bZxbXqp3arc7Zp8DauF2QkYj28XGX1/ocMp789nX4Eb2vMESXnZZBks5Luwc9+Q4o9OkLbI8eA1dIwdCHWYjeZ7tfsgbmAj9KI1WtwKBgQDWnPtWiVoRAfo8gKrS4Se4rBHCNClKNVShCrmgW7p+UyVndu0lsksGEd3V6jErHRACEHgStdtj50SBsRb0ukoXUY9knj25tAHPbei9bPcw+XvoNvKPuf8fdLrwx+Sb0BENOCrF+L0eJOzwJaQ+A780UTdUOfE3P8wmnF3H3BEXUQKBgEVxHUdm8AVXv5aLbwppRHxyZrf2aflY5ZRshn9CYVYPcGEUQWAyjFrBsOp0WSDYB9/uKc5y20qBFgzfdNHWXKxQBPMkVxkN5hJiIOGKvT7WYRFuxaJltjO1I5FiUwuYmmGZXLJT1/D7///nGCozJZLsgQYpFOyWNnaw4Y2SJZ7jAoGANTDVLl5+fyahUauGKxv4z1F+WUa6URUks4FH/pGdiD+tTpZwMl6dL5TwCVuw8gGS/R/90o1WIc2o8gflK6ScRmlFg+egXs1ZgYK5I3HFVlMPPb+YoLy1maNBzfmNFH0eLMuV9lku7jCytNZvfZtKIXpbnzl5Kntaattodud5KPECgYEAi+fRhKGmGz7CLP77D3LYxj7uIyZtF9bnHbd4OJCrLOLjykH3VM5Dk/6WM/UNCwfvUzJ+Tou4ejB5hSVXcAf/mXkb0wKQU9BxB3l4NXtkjALTkeG2gHaAjJ2x+MVxXfz2V1Vusj2qujBDzSR4Un0jr49l4On3Mq76yFa950DE9Zg=';
const PUBLIC_B64 =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1H1+rovbTablw30Z/+H3s4iG8hPgueXDDuNo6bahW/FZPRfvpshKD0U3s3OiRk7TJFfsLNiJclQ1dqCcVDm3WMPbfz8uE7hmlT2QSH43A5ylKD6tJVEYWlIZKrqy6ChRg24qtG++RLkeJNOfowcS05/xR2px9KIJNyrU2LQHSUi62roeFgz6Ii1hjllOfg5sYNZT7ks/Q6k4qpbhdxfZgdUAl+wwXKy6mfqAuJ3JQW8NcQC0suxmhkC0WoMa/JhagjDPf69z8YP9rqw/aUC7bKzBl++QAQrBxY8hW0P4wEIVM8t8704aWA1zd9VYX82suwoFgMCPXPdrdaHnjang5wIDAQAB';
const BODY =
  '{"customerBelongsTo":"ALIPAY_HK","authRedirectUrl":"https://merchant.example/auth/return","scopes":["AGREEMENT_PAY"],"authState":"STATE-0001","env":{"terminalType":"WEB"}}';
const SIGNATURE =
  'tGkbNPExuWbcdUH9A2DVZBDDJ2LzrrKK+0lXLChIm+aKfYpGj+GOHiZT8VL6bl5BsB6+HYWxSL1gWKSQfuYM+lznifMfKuKx7PUhya0Jt0D5RzhSEc6ztJNqKhYTL0N17hpnSqZdPjwYRsTwfXCsfr0xvWTDjZHTb/3s0yVHDKEW/2Li7eqIMrCuOuXwBwRP6I+IipkU8wmGKhZpCsxmyWFLjkCavt/HnjrdehaCUdsPUC16f75S1mvadKuioTANigCpBEenjNNgTmOfnvoVySuOjMLzlMshQJ0UNCadaGknmVJukDDyb8Wh0RipqFrXCI2UMOaCtSnWwFMtLWe5TA==';
const HEADER_SIG =
  'tGkbNPExuWbcdUH9A2DVZBDDJ2LzrrKK%2B0lXLChIm%2BaKfYpGj%2BGOHiZT8VL6bl5BsB6%2BHYWxSL1gWKSQfuYM%2BlznifMfKuKx7PUhya0Jt0D5RzhSEc6ztJNqKhYTL0N17hpnSqZdPjwYRsTwfXCsfr0xvWTDjZHTb%2F3s0yVHDKEW%2F2Li7eqIMrCuOuXwBwRP6I%2BIipkU8wmGKhZpCsxmyWFLjkCavt%2FHnjrdehaCUdsPUC16f75S1mvadKuioTANigCpBEenjNNgTmOfnvoVySuOjMLzlMshQJ0UNCadaGknmVJukDDyb8Wh0RipqFrXCI2UMOaCtSnWwFMtLWe5TA%3D%3D';

describe('Antom signature (RSA256 over method, path, client id, time and body; test vector)', () => {
  const privateKey = parsePrivateKey(PRIVATE_B64);
  const publicKey = parsePublicKey(PUBLIC_B64);
  const content = signContent('POST', '/ams/api/v1/authorizations/consult', 'SANDBOX_5YTEST0000000001', '1700000000000', BODY);

  it('builds the content to sign exactly', () => {
    expect(content).toBe(`POST /ams/api/v1/authorizations/consult\nSANDBOX_5YTEST0000000001.1700000000000.${BODY}`);
  });

  it('signs the vector to the published signature and header value', () => {
    const sig = signBase64(privateKey, content);
    expect(sig).toBe(SIGNATURE);
    expect(signatureHeader('1', sig)).toBe(`algorithm=RSA256,keyVersion=1,signature=${HEADER_SIG}`);
  });

  it('signs the same vector off the event loop (the Antom client uses this one)', async () => {
    expect(await signBase64Async(privateKey, content)).toBe(SIGNATURE);
  });

  it('parses the header with or without spaces and URL encoding, and verifies', () => {
    for (const header of [
      `algorithm=RSA256,keyVersion=1,signature=${HEADER_SIG}`,
      `algorithm=RSA256, keyVersion=1, signature=${HEADER_SIG}`,
      `algorithm=RSA256,keyVersion=1,signature=${SIGNATURE}`,
    ]) {
      const parsed = parseSignatureHeader(header);
      expect(parsed?.signature).toBe(SIGNATURE);
      expect(verifyBase64(publicKey, content, parsed?.signature ?? '')).toBe(true);
    }
    expect(parseSignatureHeader('algorithm=RSA1,signature=abc')).toBeUndefined();
    expect(verifyBase64(publicKey, `${content} `, SIGNATURE)).toBe(false);
  });

  it('accepts PEM keys as well as base64 DER', () => {
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(signBase64(parsePrivateKey(pem), content)).toBe(SIGNATURE);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => parsePublicKey(ec.publicKey.export({ type: 'spki', format: 'pem' }).toString())).toThrow();
  });

  it('uses the sandbox path for SANDBOX_ client ids only', () => {
    expect(antomPath('pay', 'SANDBOX_X')).toBe('/ams/sandbox/api/v1/payments/pay');
    expect(antomPath('pay', 'LIVE_X')).toBe('/ams/api/v1/payments/pay');
  });
});

describe('notification verifier', () => {
  const privateKey = parsePrivateKey(PRIVATE_B64);
  const publicKey = parsePublicKey(PUBLIC_B64);
  const body = '{"notifyType":"PAYMENT_RESULT","paymentRequestId":"p1","result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}';
  const sign = (path: string, b: string): string => signatureHeader('1', signBase64(privateKey, signContent('POST', path, 'SANDBOX_A', '1700000000001', b)));
  const verify = (headers: { clientId?: string; requestTime?: string; signature?: string }, path = '/antom/notify/payment', raw = body) =>
    verifyNotification({
      antomPublicKey: publicKey,
      expectedClientId: 'SANDBOX_A',
      path,
      rawBody: raw,
      headers: { clientId: headers.clientId, requestTime: headers.requestTime, signature: headers.signature },
    });

  it('accepts a notification signed over our own path', () => {
    expect(verify({ clientId: 'SANDBOX_A', requestTime: '1700000000001', signature: sign('/antom/notify/payment', body) })).toBe(true);
  });

  it('refuses another path, an altered body, another client id, another time or no signature', () => {
    const sig = sign('/antom/notify/payment', body);
    expect(verify({ clientId: 'SANDBOX_A', requestTime: '1700000000001', signature: sig }, '/antom/notify/authorization')).toBe(false);
    expect(verify({ clientId: 'SANDBOX_A', requestTime: '1700000000001', signature: sig }, undefined, body.replace('"S"', '"F"'))).toBe(false);
    expect(verify({ clientId: 'SANDBOX_B', requestTime: '1700000000001', signature: sig })).toBe(false);
    expect(verify({ clientId: 'SANDBOX_A', requestTime: '1700000000002', signature: sig })).toBe(false);
    expect(verify({ clientId: 'SANDBOX_A', requestTime: '1700000000001' })).toBe(false);
  });

  it('acknowledges with the exact body Antom expects', () => {
    expect(JSON.parse(NOTIFICATION_ACK)).toEqual({ result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' } });
  });
});
