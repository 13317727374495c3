import type { Row } from './table.ts';
import { summarise } from './stats.ts';

/** #4–#6 and #8 (renderer heap): not measured yet (see docs/benchmarks.md). */
export async function browserFigures(): Promise<Row[]> {
  const skip = (id: string, figure: string, goal: string): Row => ({ id, figure, unit: 'ms', summary: summarise([0]), goal, note: '', skipped: 'browser rows not implemented yet' });
  return [
    skip('4', 'wallet authorized → "bound" painted', 'p50 ≤ 150 ms, p99 ≤ 400 ms'),
    skip('5', 'overlay opened → QR painted', 'prefetched ≤ 100 ms; cold ≤ 30 ms + consult'),
    skip('6', 'Buy clicked → "Paying…" painted; click → result', '≤ 50 ms; p50 ≤ 20 ms'),
    skip('8', 'renderer JS heap after 1,000 open/close cycles', 'growth ≤ 10 %'),
  ];
}
