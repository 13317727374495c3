import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { isLoopback } from '../src/core/net.ts';
import { bind, call, consultBody, payBody, type Receiver, type TestSandbox, useSandboxAndReceiver } from './helpers.ts';

let sb: TestSandbox;
let rx: Receiver;
useSandboxAndReceiver((s, r) => {
  sb = s;
  rx = r;
});

const home = async (lang?: string): Promise<{ status: number; html: string; csp: string | null }> => {
  const res = await fetch(`${sb.url}/${lang ? `?lang=${lang}` : ''}`);
  return { status: res.status, html: await res.text(), csp: res.headers.get('content-security-policy') };
};

describe('the sandbox home page', () => {
  it('says what the sandbox is and lists the demo accounts with their balances, in three languages', async () => {
    const en = await home();
    expect(en.status).toBe(200);
    expect(en.csp).toContain("default-src 'none'");
    expect(en.html).toContain('<title>Antom sandbox</title>');
    expect(en.html).toContain('852-6123-8812');
    expect(en.html).toContain('HK$10,000.00');
    // IDR without decimals, as Indonesians read it.
    expect((await home('id-ID')).html).toMatch(/Rp\s?5\.000\.000(?![,\d])/u);
    expect((await home('zh-HK')).html).toContain('錢包帳戶');
    expect((await home('id-ID')).html).toContain('Akun dompet');
    expect(en.html).not.toContain('<script');
  });

  it('shows each open code with a link to its phone page and a QR of that link, and drops it once used', async () => {
    const consult = await call(sb, 'authorizations/consult', consultBody('ALIPAY_HK', rx.url));
    const codeValue = consult.json.authCodeForm.codeDetails[0].codeValue as string;
    const codeId = codeValue.split('/').at(-1) as string;
    const open = await home();
    expect(open.html).toContain(`data-code="${codeId}"`);
    expect(open.html).toContain(`href="${codeValue}?lang=en"`);
    const qr = await QRCode.toString(codeValue, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    expect(open.html).toContain(qr);

    const done = await fetch(`${codeValue}/authorize`, { method: 'POST', headers: { accept: 'application/json' } });
    expect(done.status).toBe(200);
    expect((await home()).html).not.toContain(`data-code="${codeId}"`);
  });

  it('lists recent payments and notifications', async () => {
    const { accessToken } = await bind(sb, rx, 'ALIPAY_HK');
    const pay = await call(sb, 'payments/pay', payBody('ALIPAY_HK', accessToken, '1234'));
    expect(pay.json.result.resultStatus).toBe('S');
    const page = (await home()).html;
    expect(page).toContain('HK$12.34');
    expect(page).toContain('notifyAuthorization');
  });

  it('answers loopback peers only (it lists codes anyone could authorize)', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('192.168.1.20')).toBe(false);
    expect(isLoopback('::ffff:10.0.0.2')).toBe(false);
    expect(isLoopback(undefined)).toBe(false);
  });
});

describe('the phone pages', () => {
  it('draw their status icons as inline SVG, not emoji a default font may lack', async () => {
    const consult = await call(sb, 'authorizations/consult', consultBody('DANA', rx.url));
    const codeValue = consult.json.authCodeForm.codeDetails[0].codeValue as string;
    const res = await fetch(`${codeValue}/authorize?lang=id-ID`, { method: 'POST' });
    const html = await res.text();
    expect(html).toMatch(/<svg[^>]*data-icon="ok"/u);
    expect(html).not.toMatch(/[\u{2705}\u{231B}\u{26A0}\u{2716}]/u);
    const again = await (await fetch(`${codeValue}/authorize`, { method: 'POST' })).text();
    expect(again).toMatch(/<svg[^>]*data-icon="gone"/u);
  });
});
