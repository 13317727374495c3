import { mkdirSync, writeFileSync } from 'node:fs';
import { type Summary, summarise } from './stats.ts';

/** One line of the bench table. */
export interface Row {
  id: string;
  figure: string;
  unit: string;
  summary: Summary;
  /** The ceiling or peer measured in the same run (or the goal, when there is none). */
  peer?: number;
  peerName?: string;
  ratio?: number;
  goal: string;
  /** undefined: informational, or skipped. */
  met?: boolean;
  note: string;
  skipped?: string;
}

/**
 * A figure judged against a fixed goal (no ceiling measured in the run): the goal stands as the
 * peer, and the ratio is the median over it, or `judged` over it where the verdict reads another
 * figure than the median shown (#5 cold: the time beyond the consult). The fields keep Row's order,
 * so test-results/bench.json reads as before.
 */
export function goalRow(r: {
  id: string;
  figure: string;
  unit: string;
  summary: Summary;
  limit: number;
  /** The peer column's label; 'goal' unless said. */
  limitName?: string;
  judged?: number;
  goal: string;
  met: boolean;
  note: string;
}): Row {
  const peerName = r.limitName ?? 'goal';
  const ratio = (r.judged ?? r.summary.median) / r.limit;
  return { id: r.id, figure: r.figure, unit: r.unit, summary: r.summary, peer: r.limit, peerName, ratio, goal: r.goal, met: r.met, note: r.note };
}

/** A figure this run did not measure, with why (printed in the verdict column). */
export function skippedRow(id: string, figure: string, skipped: string, goal = '', unit = ''): Row {
  return { id, figure, unit, summary: summarise([0]), goal, note: '', skipped };
}

const fmt = (n: number | undefined): string =>
  n === undefined || Number.isNaN(n) ? '–' : Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en') : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);

/** Prints the table and writes test-results/bench.json. */
export function report(rows: Row[], meta: Record<string, unknown>): void {
  const head = ['#', 'figure', 'median', 'unit', 'ceiling/peer', 'ratio', 'goal', 'verdict', 'spread', 'runs'];
  const lines = rows.map((r) =>
    r.skipped
      ? [r.id, r.figure, '', '', '', '', r.goal, `skipped: ${r.skipped}`, '', '']
      : [
          r.id,
          r.figure,
          fmt(r.summary.median),
          r.unit,
          r.peer === undefined ? '' : `${fmt(r.peer)} ${r.peerName ?? ''}`.trim(),
          r.ratio === undefined ? '' : `${(r.ratio * 100).toFixed(0)} %`,
          r.goal,
          r.met === undefined ? 'info' : r.met ? 'MET' : 'MISSED',
          `${(r.summary.spread * 100).toFixed(1)} %`,
          String(r.summary.runs),
        ],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const out = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ');
  console.log(`\n${out(head)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}`);
  for (const [i, l] of lines.entries()) {
    console.log(out(l));
    const note = rows[i]?.note;
    if (note) console.log(`${' '.repeat((widths[0] as number) + 3)}  ↳ ${note}`);
  }
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/bench.json', `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
  console.log('\nJSON copy: test-results/bench.json');
}
