import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, bind, call, payBody, type Receiver, startReceiver, startTestSandbox, uid } from './helpers.ts';

let rx: Receiver;
const dataDir = mkdtempSync(join(tmpdir(), 'antom-sandbox-reports-'));
beforeAll(async () => {
  rx = await startReceiver();
});
afterAll(async () => {
  await rx.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function today(): string {
  return new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
}

describe('reports and persistence', () => {
  it('writes transaction and settlement files in major units and serves them', async () => {
    const sb = await startTestSandbox({ dataDir });
    try {
      const hk = await bind(sb, rx, 'ALIPAY_HK');
      const dana = await bind(sb, rx, 'DANA');
      const p1 = await call(sb, 'payments/pay', payBody('ALIPAY_HK', hk.accessToken, '1250'));
      await call(sb, 'payments/refund', { refundRequestId: uid('R'), paymentId: p1.json.paymentId, refundAmount: { currency: 'HKD', value: '250' } });
      const p2 = await call(sb, 'payments/pay', payBody('ALIPAY_HK', hk.accessToken, '500'));
      await call(sb, 'payments/cancel', { paymentId: p2.json.paymentId });
      await call(sb, 'payments/pay', payBody('DANA', dana.accessToken, '1500000'));
      await call(sb, 'payments/pay', payBody('ALIPAY_HK', 'bad-token', '100'));
      const r = await admin(sb, 'POST', '/reports', { date: today() });
      expect(r.status).toBe(200);
      const names: string[] = r.json.files.map((f: { name: string }) => f.name);
      const ymd = today().replace(/-/g, '');
      expect(names).toContain(`transactionItems_${ymd}_000.csv`);
      expect(names.some((n) => n.startsWith('settlementItems_HKD_'))).toBe(true);
      expect(names.some((n) => n.startsWith('settlementSummary_IDR_'))).toBe(true);
      expect(existsSync(join(dataDir, 'reports', 'v1', 'settlements', sb.clientId, ymd, `transactionItems_${ymd}_000.csv`))).toBe(true);

      const tx = await fetch(`${sb.url}/__admin/reports/transactionItems_${ymd}_000.csv`, { headers: { authorization: `Bearer ${sb.adminToken}` } });
      expect(tx.headers.get('content-type')).toContain('text/csv');
      const lines = (await tx.text()).trim().split('\n');
      expect(lines[0]?.startsWith('customerId,PSP,')).toBe(true);
      expect(lines.at(-1)).toBe('<END>');
      const rows = lines.slice(1, -1);
      expect(rows).toHaveLength(5); // 3 payments, 1 refund, 1 cancel; the failed payment is not listed
      expect(rows.some((l) => l.includes(',PAYMENT,') && l.includes(',12.50,HKD,'))).toBe(true);
      expect(rows.some((l) => l.includes(',REFUND,') && l.includes(',2.50,HKD,-2.50,'))).toBe(true);
      expect(rows.some((l) => l.includes(',CANCEL,') && l.includes(',5.00,HKD,-5.00,'))).toBe(true);
      expect(rows.some((l) => l.includes(',PAYMENT,') && l.includes(',15000.00,IDR,'))).toBe(true);

      const summaryName = names.find((n) => n.startsWith('settlementSummary_HKD_')) as string;
      const summary = (await admin(sb, 'GET', `/reports/${summaryName}`)).text.trim().split('\n');
      const total = summary.find((l) => l.includes(',TOTAL,'));
      expect(total).toContain(',4,,HKD,10.00,HKD,');
      expect((await admin(sb, 'GET', '/reports/..%2Fstate.json')).status).toBe(404);
      expect((await admin(sb, 'POST', '/reports', { date: 'yesterday' })).status).toBe(400);
    } finally {
      await sb.close();
    }
  });

  it('keeps keys, accounts, tokens and payments across a restart', async () => {
    const first = await startTestSandbox({ dataDir });
    const payments = (await admin(first, 'GET', '/state')).json.payments.length;
    const key = first.publicKeyPem;
    await first.close();
    const second = await startTestSandbox({ dataDir });
    try {
      expect(second.publicKeyPem).toBe(key);
      const state = (await admin(second, 'GET', '/state')).json;
      expect(state.payments).toHaveLength(payments);
      expect(state.accounts.find((a: { loginId: string }) => a.loginId === '852-6123-8812').balance).toBe(1_000_000 - 1250 + 250);
      expect(JSON.parse(readFileSync(join(dataDir, 'state.json'), 'utf8')).version).toBe(1);
      expect(readFileSync(join(dataDir, 'antom-public-key.pem'), 'utf8')).toBe(key);
    } finally {
      await second.close();
    }
  });

  it('reset restores the seeded accounts', async () => {
    const sb = await startTestSandbox({ dataDir });
    try {
      await admin(sb, 'POST', '/reset');
      const state = (await admin(sb, 'GET', '/state')).json;
      expect(state.payments).toHaveLength(0);
      expect(state.accounts.map((a: { loginId: string; balance: number }) => [a.loginId, a.balance])).toEqual([
        ['852-6123-8812', 1_000_000],
        ['852-6000-0001', 500],
        ['62-812-3456-4321', 500_000_000],
        ['62-812-0000-0002', 100_000_000],
      ]);
    } finally {
      await sb.close();
    }
  });
});
