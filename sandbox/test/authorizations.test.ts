import { describe, expect, it } from 'vitest';
import {
  admin,
  bind,
  call,
  consultBody,
  notificationSignatureValid,
  payBody,
  type Receiver,
  type TestSandbox,
  uid,
  useSandboxAndReceiver,
  waitFor,
} from './helpers.ts';

let sb: TestSandbox;
let rx: Receiver;
useSandboxAndReceiver((s, r) => {
  sb = s;
  rx = r;
});

async function consultCode(wallet: 'ALIPAY_HK' | 'DANA' = 'ALIPAY_HK'): Promise<string> {
  const c = await call(sb, 'authorizations/consult', consultBody(wallet, rx.url));
  expect(c.json.result.resultStatus).toBe('S');
  const detail = c.json.authCodeForm.codeDetails[0];
  expect(detail).toMatchObject({ codeValueType: 'QRCODE', displayType: 'TEXT' });
  expect(detail.codeValue).toMatch(new RegExp(`^${sb.url}/wallet/scan/[0-9a-f]{32}$`));
  return detail.codeValue;
}

const post = (url: string, body: unknown = {}) =>
  fetch(url, { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('consult and the wallet page', () => {
  it('shows merchant, wallet, scope and both buttons in the three languages', async () => {
    const code = await consultCode();
    const en = await (await fetch(code, { headers: { 'accept-language': 'en-GB,en;q=0.9' } })).text();
    expect(en).toContain('AlipayHK');
    expect(en).toContain('AGREEMENT_PAY');
    expect(en).toContain('Authorize');
    expect(en).toContain('Decline');
    expect(en).toContain('name="viewport"');
    const zh = await (await fetch(code, { headers: { 'accept-language': 'zh-HK' } })).text();
    expect(zh).toContain('授權');
    const id = await (await fetch(`${code}?lang=id-ID`)).text();
    expect(id).toContain('Otorisasi');
    expect(id).toContain('lang="id-ID"');
  });

  it('authorize sends a signed AUTHCODE_CREATED with authState; applyToken exchanges it', async () => {
    const c = await call(sb, 'authorizations/consult', consultBody('DANA', rx.url, 'STATE-AUTH-1'));
    const code = c.json.authCodeForm.codeDetails[0].codeValue;
    const res = await post(`${code}/authorize`, { account: '62-812-0000-0002' });
    expect(res.status).toBe(200);
    const n = await waitFor(() => rx.received.find((r) => r.json?.authState === 'STATE-AUTH-1'));
    expect(n.path).toBe('/notify/auth');
    expect(n.json).toMatchObject({ authorizationNotifyType: 'AUTHCODE_CREATED', result: { resultCode: 'SUCCESS', resultStatus: 'S' } });
    expect(notificationSignatureValid(sb, n)).toBe(true);
    const t = await call(sb, 'authorizations/applyToken', { grantType: 'AUTHORIZATION_CODE', customerBelongsTo: 'DANA', authCode: n.json.authCode });
    expect(t.json.result.resultStatus).toBe('S');
    expect(t.json.userLoginId).toBe('62-***-****-0002');
    const days = (Date.parse(t.json.accessTokenExpiryTime) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
    expect((Date.parse(t.json.refreshTokenExpiryTime) - Date.now()) / 86_400_000).toBeGreaterThan(364.9);
    // single use
    const again = await call(sb, 'authorizations/applyToken', { grantType: 'AUTHORIZATION_CODE', customerBelongsTo: 'DANA', authCode: n.json.authCode });
    expect(again.json.result).toMatchObject({ resultStatus: 'F', resultCode: 'USED_CODE' });
  });

  it('the HK default account is masked like 852-****-8812', async () => {
    const t = await bind(sb, rx, 'ALIPAY_HK');
    expect(t.json.userLoginId).toBe('852-****-8812');
  });

  it('decline sends nothing and kills the code', async () => {
    const code = await consultCode();
    const before = rx.received.length;
    const res = await post(`${code}/decline`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('DECLINED');
    await new Promise((r) => setTimeout(r, 100));
    expect(rx.received.length).toBe(before);
    expect((await post(`${code}/authorize`)).status).toBe(410);
  });

  it('a used code is refused with 410', async () => {
    const code = await consultCode();
    expect((await post(`${code}/authorize`)).status).toBe(200);
    const again = await post(`${code}/authorize`);
    expect(again.status).toBe(410);
    expect(await again.json()).toMatchObject({ status: 'GONE', reason: 'USED' });
    const page = await fetch(code);
    expect(page.status).toBe(410);
  });

  it('an unknown account is refused', async () => {
    const code = await consultCode();
    expect((await post(`${code}/authorize`, { account: '62-812-3456-4321' })).status).toBe(400);
  });

  it('an identical consult retry returns the same code; a different body with the same authState is refused', async () => {
    const b = consultBody('ALIPAY_HK', rx.url);
    const one = await call(sb, 'authorizations/consult', b);
    const two = await call(sb, 'authorizations/consult', b);
    expect(two.json.authCodeForm).toEqual(one.json.authCodeForm);
    const three = await call(sb, 'authorizations/consult', { ...b, customerBelongsTo: 'DANA' });
    expect(three.json.result.resultCode).toBe('REPEAT_REQ_INCONSISTENT');
  });

  it('refuses consults that are not Scan to Bind', async () => {
    for (const b of [
      { ...consultBody('ALIPAY_HK', rx.url), customerBelongsTo: 'GCASH' },
      { ...consultBody('ALIPAY_HK', rx.url), scopes: ['BASE_USER_INFO'] },
      { ...consultBody('ALIPAY_HK', rx.url), env: { terminalType: 'APP' } },
      { ...consultBody('ALIPAY_HK', rx.url), authNotifyUrl: 'ftp://x' },
    ]) {
      expect((await call(sb, 'authorizations/consult', b)).json.result).toMatchObject({ resultStatus: 'F', resultCode: 'PARAM_ILLEGAL' });
    }
  });
});

describe('time limits (sandbox clock)', () => {
  it('a code dies after 15 minutes; an authCode one minute after issue', async () => {
    const stale = await consultCode();
    const fresh = await consultCode();
    expect((await post(`${fresh}/authorize`)).status).toBe(200);
    const n = await waitFor(() => rx.received.at(-1)?.json?.authorizationNotifyType === 'AUTHCODE_CREATED' && rx.received.at(-1));
    await admin(sb, 'POST', '/clock', { advanceMs: 61_000 });
    const t = await call(sb, 'authorizations/applyToken', { grantType: 'AUTHORIZATION_CODE', customerBelongsTo: 'ALIPAY_HK', authCode: n.json.authCode });
    expect(t.json.result).toMatchObject({ resultStatus: 'F', resultCode: 'EXPIRED_CODE' });
    await admin(sb, 'POST', '/clock', { advanceMs: 14 * 60_000 });
    const res = await post(`${stale}/authorize`);
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({ reason: 'EXPIRED' });
  });
});

describe('tokens', () => {
  it('refresh rotates the tokens; the old access token and refresh token stop working', async () => {
    const t = await bind(sb, rx, 'ALIPAY_HK');
    const r = await call(sb, 'authorizations/applyToken', { grantType: 'REFRESH_TOKEN', customerBelongsTo: 'ALIPAY_HK', refreshToken: t.refreshToken });
    expect(r.json.result.resultStatus).toBe('S');
    expect(r.json.accessToken).not.toBe(t.accessToken);
    const old = await call(sb, 'payments/pay', payBody('ALIPAY_HK', t.accessToken, '100'));
    expect(old.json.result.resultCode).toBe('INVALID_ACCESS_TOKEN');
    const fresh = await call(sb, 'payments/pay', payBody('ALIPAY_HK', r.json.accessToken, '100'));
    expect(fresh.json.result.resultStatus).toBe('S');
    const reuse = await call(sb, 'authorizations/applyToken', { grantType: 'REFRESH_TOKEN', customerBelongsTo: 'ALIPAY_HK', refreshToken: t.refreshToken });
    expect(reuse.json.result.resultCode).toBe('USED_REFRESH_TOKEN');
    const bogus = await call(sb, 'authorizations/applyToken', { grantType: 'REFRESH_TOKEN', customerBelongsTo: 'ALIPAY_HK', refreshToken: 'nope' });
    expect(bogus.json.result.resultCode).toBe('INVALID_REFRESH_TOKEN');
  });

  it('applyToken refuses unknown codes, wrong grant types and missing fields', async () => {
    expect(
      (await call(sb, 'authorizations/applyToken', { grantType: 'AUTHORIZATION_CODE', customerBelongsTo: 'ALIPAY_HK', authCode: 'x' })).json.result.resultCode,
    ).toBe('INVALID_CODE');
    expect((await call(sb, 'authorizations/applyToken', { grantType: 'PASSWORD', customerBelongsTo: 'ALIPAY_HK', authCode: 'x' })).json.result.resultCode).toBe(
      'PARAM_ILLEGAL',
    );
    expect((await call(sb, 'authorizations/applyToken', { grantType: 'AUTHORIZATION_CODE', customerBelongsTo: 'ALIPAY_HK' })).json.result.resultCode).toBe(
      'PARAM_ILLEGAL',
    );
  });

  it('an expired access token cannot pay; an expired refresh token cannot refresh', async () => {
    const t = await bind(sb, rx, 'ALIPAY_HK');
    expect((await admin(sb, 'POST', '/tokens/expire', { accessToken: t.accessToken, refresh: true })).status).toBe(200);
    expect((await call(sb, 'payments/pay', payBody('ALIPAY_HK', t.accessToken, '100'))).json.result.resultCode).toBe('INVALID_ACCESS_TOKEN');
    const r = await call(sb, 'authorizations/applyToken', { grantType: 'REFRESH_TOKEN', customerBelongsTo: 'ALIPAY_HK', refreshToken: t.refreshToken });
    expect(r.json.result.resultCode).toBe('EXPIRED_REFRESH_TOKEN');
  });

  it('revoke ends the token (retry-safe); unknown tokens are refused', async () => {
    const t = await bind(sb, rx, 'DANA');
    const before = rx.received.length;
    expect((await call(sb, 'authorizations/revoke', { accessToken: t.accessToken })).json.result.resultStatus).toBe('S');
    expect((await call(sb, 'authorizations/revoke', { accessToken: t.accessToken })).json.result.resultStatus).toBe('S');
    expect((await call(sb, 'payments/pay', payBody('DANA', t.accessToken, '30000'))).json.result.resultCode).toBe('INVALID_ACCESS_TOKEN');
    expect((await call(sb, 'authorizations/revoke', { accessToken: 'unknown' })).json.result.resultCode).toBe('INVALID_ACCESS_TOKEN');
    await new Promise((r) => setTimeout(r, 50));
    expect(rx.received.length).toBe(before);
  });

  it('a wallet-side unlink sends a signed TOKEN_CANCELED and the token stops working', async () => {
    const t = await bind(sb, rx, 'ALIPAY_HK');
    expect((await admin(sb, 'POST', '/tokens/revoke', { accessToken: t.accessToken, reason: 'user unlinked' })).status).toBe(200);
    const n = await waitFor(() => rx.received.find((r) => r.json?.authorizationNotifyType === 'TOKEN_CANCELED' && r.json.accessToken === t.accessToken));
    expect(n.json.reason).toBe('user unlinked');
    expect(notificationSignatureValid(sb, n)).toBe(true);
    expect((await call(sb, 'payments/pay', payBody('ALIPAY_HK', t.accessToken, '100', undefined, uid('P')))).json.result.resultCode).toBe(
      'INVALID_ACCESS_TOKEN',
    );
  });

  it('inspection masks tokens', async () => {
    const t = await bind(sb, rx, 'ALIPAY_HK');
    await call(sb, 'payments/pay', payBody('ALIPAY_HK', t.accessToken, '100'));
    await call(sb, 'authorizations/revoke', { accessToken: t.accessToken });
    await call(sb, 'authorizations/applyToken', { grantType: 'REFRESH_TOKEN', customerBelongsTo: 'ALIPAY_HK', refreshToken: t.refreshToken });
    const state = await admin(sb, 'GET', '/state');
    expect(state.text).not.toContain(t.accessToken);
    expect(state.text).not.toContain(t.refreshToken);
  });
});
