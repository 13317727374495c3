import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { type CurrencyCode, isCurrencyCode, parseMajor } from '@scan-to-bind/shared/domain';
import type { Store } from '../store/db.ts';
import { ledgerRows } from './ledger-repo.ts';
import { parseReportCsv } from './csv.ts';

/** One transaction line of a report (transaction or settlement details). */
interface FileTx {
  type: string;
  requestId: string;
  currency: CurrencyCode;
  minor: number;
  status: string;
  file: string;
}

/** A difference between the reports and the ledger. */
export interface Mismatch {
  kind: 'missing' | 'extra' | 'amount' | 'status' | 'summary';
  type: string;
  requestId: string;
  currency: string;
  ledger?: string;
  report?: string;
  file?: string;
}

/** The machine-readable reconciliation report. */
export interface ReconciliationReport {
  generatedAt: string;
  files: { file: string; kind: string; date: string; currency?: string; rows: number }[];
  matched: number;
  mismatches: Mismatch[];
}

/** A report's day T is taken as a calendar day in UTC+8 (Antom's docs name no zone; the sandbox chose the same). */
const DAY_OFFSET_MS = 8 * 3_600_000;

function dayOf(ms: number): string {
  return new Date(ms + DAY_OFFSET_MS).toISOString().slice(0, 10);
}

function ymdToDate(ymd: string): string {
  return `${ymd.slice(0, 4)}-${ymd.slice(4, 6)}-${ymd.slice(6, 8)}`;
}

function minorOf(text: string, currency: CurrencyCode): number {
  return parseMajor(text.replace(/^-/u, ''), currency).minor;
}

/** Ledger entries the reports should list: key `TYPE:requestId`. */
interface LedgerTx {
  type: string;
  requestId: string;
  currency: string;
  minor: number;
  day: string;
}

async function ledger(store: Store): Promise<{ entries: Map<string, LedgerTx>; states: Map<string, string> }> {
  const entries = new Map<string, LedgerTx>();
  const states = new Map<string, string>();
  const { purchases, refunds } = await ledgerRows(store);
  for (const p of purchases) {
    states.set(`PAYMENT:${p.payment_request_id}`, p.state);
    states.set(`CANCEL:${p.payment_request_id}`, p.state);
    if (p.state === 'SUCCEEDED' && p.paid_at !== null) {
      entries.set(`PAYMENT:${p.payment_request_id}`, {
        type: 'PAYMENT',
        requestId: p.payment_request_id,
        currency: p.currency,
        minor: p.amount_minor,
        day: dayOf(p.paid_at),
      });
    }
  }
  for (const r of refunds) {
    states.set(`REFUND:${r.refund_request_id}`, r.state);
    if (r.state === 'SUCCEEDED' && r.refunded_at !== null) {
      entries.set(`REFUND:${r.refund_request_id}`, {
        type: 'REFUND',
        requestId: r.refund_request_id,
        currency: r.currency,
        minor: r.amount_minor,
        day: dayOf(r.refunded_at),
      });
    }
  }
  return { entries, states };
}

/**
 * Matches Antom's report files (transaction details, settlement details and summaries — the
 * sandbox's or Antom's) against the ledger. A transaction-details file covers its whole day, a
 * settlement file its day and currency; within what the files cover, every money movement of
 * the ledger must appear once with the same amount (`missing` otherwise), and every line must
 * be a movement the ledger knows (`extra`), with the same amount (`amount`) and a state that
 * moved money (`status`). Summary lines are checked against the ledger's totals (`summary`).
 * A payment the relay recorded CANCELLED is accepted when the files list its PAYMENT and CANCEL.
 */
export async function reconcile(store: Store, paths: string[], now = new Date()): Promise<ReconciliationReport> {
  const report: ReconciliationReport = { generatedAt: now.toISOString(), files: [], matched: 0, mismatches: [] };
  const txs = new Map<string, FileTx>();
  const coverage = new Set<string>();
  const summaries: { date: string; currency: CurrencyCode; type: string; count: number; minor: number; file: string }[] = [];
  for (const path of paths) {
    const file = basename(path);
    const { header, rows } = parseReportCsv(readFileSync(path, 'utf8'));
    const settlement = /^settlement(Items|Summary)_([A-Z]{3})_(\d{8})/u.exec(file);
    const txDay = /^transactionItems_(\d{8})/u.exec(file);
    if (header.includes('summaryType')) {
      const currency = settlement?.[2];
      for (const r of rows) {
        const cur = r['transactionCurrency'] || currency || '';
        if (!isCurrencyCode(cur) || r['summaryType'] === 'TOTAL') continue;
        summaries.push({
          date: r['settlementDate'] || ymdToDate(settlement?.[3] ?? ''),
          currency: cur,
          type: r['summaryType'] ?? '',
          count: Number(r['transactionCount']),
          minor: minorOf(r['transactionAmountValue'] ?? '0', cur),
          file,
        });
      }
      report.files.push({ file, kind: 'settlementSummary', date: summaries.at(-1)?.date ?? '', ...(currency ? { currency } : {}), rows: rows.length });
      continue;
    }
    if (!header.includes('transactionRequestId')) throw new Error(`${file}: not a transaction or settlement report`);
    const isSettlement = header[0] === 'settlementBatchId';
    const date = isSettlement ? ymdToDate(settlement?.[3] ?? (rows[0]?.['settlementBatchId'] ?? '').slice(0, 8)) : ymdToDate(txDay?.[1] ?? '');
    const currency = isSettlement ? settlement?.[2] : undefined;
    coverage.add(currency ? `${date}|${currency}` : `${date}|*`);
    report.files.push({ file, kind: isSettlement ? 'settlementItems' : 'transactionItems', date, ...(currency ? { currency } : {}), rows: rows.length });
    for (const r of rows) {
      const cur = r['transactionCurrency'] ?? '';
      if (!isCurrencyCode(cur)) throw new Error(`${file}: unknown currency ${cur}`);
      const tx: FileTx = {
        type: r['transactionType'] ?? '',
        requestId: r['transactionRequestId'] ?? '',
        currency: cur,
        minor: minorOf(r['transactionAmountValue'] ?? '', cur),
        status: r['transactionStatus'] || 'SUCCESS',
        file,
      };
      const key = `${tx.type}:${tx.requestId}`;
      const seen = txs.get(key);
      if (!seen) txs.set(key, tx);
      else if (seen.minor !== tx.minor || seen.currency !== tx.currency) {
        report.mismatches.push({
          kind: 'amount',
          type: tx.type,
          requestId: tx.requestId,
          currency: cur,
          ledger: `${seen.minor} (${seen.file})`,
          report: String(tx.minor),
          file,
        });
      }
    }
  }
  const { entries, states } = await ledger(store);
  const covered = (day: string, currency: string): boolean => coverage.has(`${day}|*`) || coverage.has(`${day}|${currency}`);
  for (const [key, tx] of txs) {
    const entry = entries.get(key);
    if (!entry) {
      const state = states.get(key);
      const cancelledPair = state === 'CANCELLED' && txs.has(`PAYMENT:${tx.requestId}`) && txs.has(`CANCEL:${tx.requestId}`);
      if (cancelledPair) report.matched += 1;
      else
        report.mismatches.push({
          kind: state ? 'status' : 'extra',
          type: tx.type,
          requestId: tx.requestId,
          currency: tx.currency,
          ...(state ? { ledger: state } : {}),
          report: `${tx.status} ${tx.minor}`,
          file: tx.file,
        });
      continue;
    }
    if (entry.minor !== tx.minor || entry.currency !== tx.currency) {
      report.mismatches.push({
        kind: 'amount',
        type: tx.type,
        requestId: tx.requestId,
        currency: tx.currency,
        ledger: `${entry.minor} ${entry.currency}`,
        report: `${tx.minor} ${tx.currency}`,
        file: tx.file,
      });
    } else if (tx.status !== 'SUCCESS') {
      report.mismatches.push({
        kind: 'status',
        type: tx.type,
        requestId: tx.requestId,
        currency: tx.currency,
        ledger: 'SUCCEEDED',
        report: tx.status,
        file: tx.file,
      });
    } else report.matched += 1;
  }
  for (const [key, entry] of entries) {
    if (covered(entry.day, entry.currency) && !txs.has(key)) {
      report.mismatches.push({ kind: 'missing', type: entry.type, requestId: entry.requestId, currency: entry.currency, ledger: String(entry.minor) });
    }
  }
  for (const s of summaries) {
    const of = [...entries.values()].filter((e) => e.day === s.date && e.currency === s.currency && e.type === s.type);
    const minor = of.reduce((sum, e) => sum + e.minor, 0);
    if (of.length !== s.count || minor !== s.minor) {
      report.mismatches.push({
        kind: 'summary',
        type: s.type,
        requestId: `${s.date} total`,
        currency: s.currency,
        ledger: `${of.length} / ${minor}`,
        report: `${s.count} / ${s.minor}`,
        file: s.file,
      });
    }
  }
  return report;
}

/** The mismatches as a fixed-width text table (empty string when there are none). */
export function mismatchTable(mismatches: Mismatch[]): string {
  if (mismatches.length === 0) return '';
  const head = ['KIND', 'TYPE', 'REQUEST ID', 'CUR', 'LEDGER', 'REPORT', 'FILE'];
  const rows = mismatches.map((m) => [m.kind, m.type, m.requestId, m.currency, m.ledger ?? '-', m.report ?? '-', m.file ?? '-']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
