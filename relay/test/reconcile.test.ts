import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReportCsv } from '../src/reports/csv.ts';
import { runReconcile } from '../src/reports/reconcile-command.ts';
import type { ReconciliationReport } from '../src/reports/reconcile.ts';
import { ADMIN_TOKEN, adminCall } from './support/admin.ts';
import { engines, uuid } from './support/env.ts';
import { bind, type Stack, startStack } from './support/stack.ts';

describe('report CSV', () => {
  it('reads quoted fields and stops at <END>', () => {
    const { header, rows } = parseReportCsv('\uFEFFa,b\r\n"x, ""y""",2\n<END>\n');
    expect(header).toEqual(['a', 'b']);
    expect(rows).toEqual([{ a: 'x, "y"', b: '2' }]);
  });
});

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`reconciliation over sandbox reports (${engine.name})`, () => {
    if (engine.skip) console.warn(engine.skip);
    let s: Stack;
    let dir: string;
    let files: string[];
    const lines: string[] = [];
    const print = (line: string): void => {
      lines.push(line);
    };

    beforeAll(async () => {
      s = await startStack(engine.name, { admin: { token: ADMIN_TOKEN } });
      dir = mkdtempSync(join(tmpdir(), 'relay-recon-'));
      const hk = await bind(s.kiosk, 'ALIPAY_HK');
      const dana = await bind(s.launcher, 'DANA');
      const intents: string[] = [];
      for (const [device, bindingId] of [
        [s.kiosk, hk],
        [s.kiosk, hk],
        [s.launcher, dana],
      ] as const) {
        const intent = uuid();
        const r = await device.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
        expect(r.body['state']).toBe('SUCCEEDED');
        intents.push(intent);
      }
      const refund = await adminCall(s.relay.adminUrl, 'POST', '/admin/v1/refunds', {
        refundRequestId: 'rf-recon-1',
        purchaseIntentId: intents[0],
        amount: { currency: 'HKD', minor: 200 },
      });
      expect(refund.body['state']).toBe('SUCCEEDED');
      const date = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
      const written = await s.admin('POST', '/reports', { date });
      const names = ((written.body['files'] ?? written.body['reports']) as { name: string }[]).map((f) => f.name);
      files = [];
      for (const name of names) {
        const res = await fetch(`${s.sandboxUrl}/__admin/reports/${name}`, { headers: { authorization: 'Bearer test-admin-token' } });
        expect(res.status).toBe(200);
        const path = join(dir, name);
        writeFileSync(path, await res.text());
        files.push(path);
      }
    });
    afterAll(async () => {
      await s?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('finds nothing on a clean day', async () => {
      expect(files.some((f) => f.includes('transactionItems_'))).toBe(true);
      expect(files.some((f) => f.includes('settlementSummary_'))).toBe(true);
      const out = join(dir, 'clean.json');
      const code = await runReconcile(s.relay.store, files, out, print);
      const report = JSON.parse(readFileSync(out, 'utf8')) as ReconciliationReport;
      expect(report.mismatches).toEqual([]);
      expect(code).toBe(0);
      expect(report.matched).toBe(4);
    });

    it('reports a planted missing row, an extra row and an amount difference, and exits non-zero', async () => {
      const source = files.find((f) => f.includes('transactionItems_')) as string;
      const text = readFileSync(source, 'utf8').split('\n');
      const header = (text[0] as string).split(',');
      const at = (name: string): number => header.indexOf(name);
      const data = text.slice(1).filter((l) => l && l !== '<END>');
      const payments = data.filter((l) => l.split(',')[at('transactionType')] === 'PAYMENT');
      const removed = payments[0] as string;
      const changed = (payments[1] as string).split(',');
      changed[at('transactionAmountValue')] = '13.00';
      const extra = (payments[2] as string).split(',');
      extra[at('transactionRequestId')] = 'pay_planted_extra_row';
      extra[at('transactionId')] = '202500000000000000999';
      const planted = [text[0], ...data.filter((l) => l !== removed && l !== payments[1]), changed.join(','), extra.join(','), '<END>', ''].join('\n');
      const path = join(dir, source.split('/').pop() as string).replace('.csv', '_planted.csv');
      writeFileSync(path, planted);
      const out = join(dir, 'planted.json');
      lines.length = 0;
      const code = await runReconcile(s.relay.store, [path], out, print);
      expect(code).toBe(1);
      const report = JSON.parse(readFileSync(out, 'utf8')) as ReconciliationReport;
      expect(report.mismatches.map((m) => m.kind).sort()).toEqual(['amount', 'extra', 'missing']);
      expect(report.mismatches.find((m) => m.kind === 'extra')?.requestId).toBe('pay_planted_extra_row');
      expect(report.mismatches.find((m) => m.kind === 'missing')?.requestId).toBe(removed.split(',')[at('transactionRequestId')]);
      expect(lines.join('\n')).toMatch(/KIND\s+TYPE\s+REQUEST ID/u);
    });
  });
}
