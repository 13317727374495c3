import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type CurrencyCode, isCurrencyCode, money, toMajorString, type WalletId } from '@scan-to-bind/shared/domain';
import { isoWithOffset } from '../core/clock.ts';
import { writeFileAtomic } from '../core/files.ts';
import type { SandboxState } from '../core/state.ts';

/** Reports follow Antom's day in UTC+8 (the sandbox's choice for both wallets). */
const REPORT_OFFSET_MIN = 480;
const ISO_NUMERIC: Readonly<Record<CurrencyCode, string>> = { HKD: '344', IDR: '360' };

interface Row {
  wallet: WalletId;
  transactionId: string;
  originalTransactionId: string;
  transactionRequestId: string;
  originalTransactionRequestId: string;
  referenceOrderId: string;
  orderDescription: string;
  type: 'PAYMENT' | 'REFUND' | 'CANCEL';
  time: number;
  currency: CurrencyCode;
  amount: number;
}

/** The money block of every report line: the transaction, settlement and fee amounts, each with its currency (filled by amountCells). */
const AMOUNT_COLUMNS = [
  'transactionAmountValue',
  'transactionCurrency',
  'settlementAmountValue',
  'settlementCurrency',
  'feeAmountValue',
  'feeCurrency',
] as const;
const TX_COLUMNS = [
  'customerId',
  'PSP',
  'acquirerReferenceNo',
  'referenceMerchantId',
  'referenceStoreId',
  'transactionId',
  'originalTransactionId',
  'transactionRequestId',
  'originalTransactionRequestId',
  'referenceOrderId',
  'paymentMethodType',
  'productCode',
  'transactionType',
  'transactionStatus',
  'transactionTime',
  ...AMOUNT_COLUMNS,
  'orderDescription',
];
const SETTLE_COLUMNS = ['settlementBatchId', ...TX_COLUMNS.filter((c) => c !== 'transactionStatus')];
const SUMMARY_COLUMNS = ['settlementBatchId', 'customerId', 'PSP', 'summaryType', 'settlementDate', 'transactionCount', ...AMOUNT_COLUMNS];

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function csv(columns: readonly string[], rows: readonly string[][]): string {
  return `${[columns, ...rows].map((r) => r.map(csvField).join(',')).join('\n')}\n<END>\n`;
}

/** Major units as Antom's report files write them: "12.50"; reversals negative. */
function major(currency: CurrencyCode, minor: number, negative = false): string {
  const text = toMajorString(money(minor, currency));
  return negative && minor > 0 ? `-${text}` : text;
}

/** The cells under AMOUNT_COLUMNS: the amount as charged, as settled (negative for a reversal), and a zero fee, all in one currency. */
function amountCells(currency: CurrencyCode, minor: number, reversal: boolean): string[] {
  return [major(currency, minor), currency, major(currency, minor, reversal), currency, major(currency, 0), currency];
}

function rowsOf(state: SandboxState, start: number, end: number): Row[] {
  const inDay = (t: number | undefined): t is number => t !== undefined && t >= start && t < end;
  const rows: Row[] = [];
  for (const p of state.payments) {
    if (!isCurrencyCode(p.currency)) continue;
    const base = {
      wallet: p.wallet,
      referenceOrderId: p.referenceOrderId ?? '',
      orderDescription: p.orderDescription ?? '',
      currency: p.currency,
      amount: p.amount,
    };
    // A payment that took money: SUCCESS, or CANCELLED after it was paid.
    if (inDay(p.paidAt)) {
      rows.push({
        ...base,
        type: 'PAYMENT',
        time: p.paidAt,
        transactionId: p.paymentId,
        originalTransactionId: '',
        transactionRequestId: p.paymentRequestId,
        originalTransactionRequestId: '',
      });
    }
    if (p.status === 'CANCELLED' && p.paidAt !== undefined && inDay(p.cancelledAt)) {
      rows.push({
        ...base,
        type: 'CANCEL',
        time: p.cancelledAt,
        transactionId: p.paymentId,
        originalTransactionId: p.paymentId,
        transactionRequestId: p.paymentRequestId,
        originalTransactionRequestId: p.paymentRequestId,
      });
    }
  }
  for (const r of state.refunds) {
    const p = state.payments.find((x) => x.paymentId === r.paymentId);
    if (!p || r.status !== 'SUCCESS' || !inDay(r.createdAt) || !isCurrencyCode(r.currency)) continue;
    rows.push({
      wallet: p.wallet,
      type: 'REFUND',
      time: r.createdAt,
      transactionId: r.refundId,
      originalTransactionId: p.paymentId,
      transactionRequestId: r.refundRequestId,
      originalTransactionRequestId: p.paymentRequestId,
      referenceOrderId: p.referenceOrderId ?? '',
      orderDescription: p.orderDescription ?? '',
      currency: r.currency,
      amount: r.amount,
    });
  }
  return rows.sort((a, b) => a.time - b.time);
}

function txCells(clientId: string, r: Row): string[] {
  return [
    clientId,
    r.wallet,
    '',
    '',
    '',
    r.transactionId,
    r.originalTransactionId,
    r.transactionRequestId,
    r.originalTransactionRequestId,
    r.referenceOrderId,
    r.wallet,
    'AGREEMENT_PAYMENT',
    r.type,
    'SUCCESS',
    isoWithOffset(r.time, REPORT_OFFSET_MIN),
    ...amountCells(r.currency, r.amount, r.type !== 'PAYMENT'),
    r.orderDescription,
  ];
}

/** One written report file. */
export interface ReportFile {
  name: string;
  /** Relative to the data dir, in Antom's SFTP layout: reports/v1/settlements/<client id>/<date>/. */
  path: string;
  rows: number;
}

/**
 * Writes the day's transaction details, and per currency settlement details and summary, as
 * UTF-8 CSV with a header line, data lines and `<END>`, amounts in major units. Only money
 * movements are listed (PAYMENT, CANCEL of a paid payment, REFUND); fees are zero and
 * settlement is in the transaction currency. The day is `date` in UTC+8.
 */
export function writeReports(dataDir: string, clientId: string, state: SandboxState, date: string): ReportFile[] {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00+08:00`))) throw new RangeError('date must be YYYY-MM-DD');
  const start = Date.parse(`${date}T00:00:00+08:00`);
  const end = start + 86_400_000;
  const ymd = date.replace(/-/g, '');
  const dir = join(dataDir, 'reports', 'v1', 'settlements', clientId, ymd);
  const rows = rowsOf(state, start, end);
  const files: ReportFile[] = [];
  const write = (name: string, content: string, count: number) => {
    const full = join(dir, name);
    writeFileAtomic(full, content);
    files.push({ name, path: relative(dataDir, full), rows: count });
  };
  write(
    `transactionItems_${ymd}_000.csv`,
    csv(
      TX_COLUMNS,
      rows.map((r) => txCells(clientId, r)),
    ),
    rows.length,
  );
  for (const currency of ['HKD', 'IDR'] as const) {
    const batchRows = rows.filter((r) => r.currency === currency);
    if (batchRows.length === 0) continue;
    const batchId = `${ymd}${ISO_NUMERIC[currency]}0001`;
    const details = batchRows.map((r) => {
      const cells = txCells(clientId, r);
      cells.splice(13, 1);
      return [batchId, ...cells];
    });
    write(`settlementItems_${currency}_${batchId}_000.csv`, csv(SETTLE_COLUMNS, details), details.length);
    const summary: string[][] = [];
    let net = 0;
    for (const type of ['PAYMENT', 'REFUND', 'CANCEL'] as const) {
      const of = batchRows.filter((r) => r.type === type);
      if (of.length === 0) continue;
      const total = of.reduce((s, r) => s + r.amount, 0);
      net += type === 'PAYMENT' ? total : -total;
      const wallet = of[0]?.wallet ?? '';
      summary.push([batchId, clientId, wallet, type, date, String(of.length), ...amountCells(currency, total, type !== 'PAYMENT')]);
    }
    const netText = net < 0 ? `-${major(currency, -net)}` : major(currency, net);
    summary.push([
      batchId,
      clientId,
      batchRows[0]?.wallet ?? '',
      'TOTAL',
      date,
      String(batchRows.length),
      '',
      currency,
      netText,
      currency,
      major(currency, 0),
      currency,
    ]);
    write(`settlementSummary_${currency}_${batchId}_000.csv`, csv(SUMMARY_COLUMNS, summary), summary.length);
  }
  return files;
}

/** Finds a written report by file name (names are unique: they carry the date or batch). */
export function findReport(dataDir: string, name: string): string | undefined {
  if (!/^(transactionItems|settlementItems|settlementSummary)_[A-Za-z0-9_]+\.csv$/.test(name)) return undefined;
  let entries: string[];
  try {
    entries = readdirSync(join(dataDir, 'reports'), { recursive: true, encoding: 'utf8' });
  } catch {
    return undefined;
  }
  const hit = entries.find((e) => e === name || e.endsWith(`/${name}`) || e.endsWith(`\\${name}`));
  return hit ? join(dataDir, 'reports', hit) : undefined;
}
