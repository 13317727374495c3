import { mkdirSync, writeFileSync } from 'node:fs';
import type { Summary } from './stats.ts';

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
