import { engines } from '../relay/test/support/env.ts';
import { formatTable, type RowResult, runRow } from './matrix.ts';
import { allRows } from './rows/index.ts';
import type { Engine } from './stack.ts';

/*
 * The fault and attack matrix: node --import tsx chaos/run.ts [--engine sqlite|postgres|both]
 * [--short] [--only <row substring>[|<row substring>…]] [--runs N]. Prints the table (row, runs, invariants held,
 * failures) and exits non-zero when any run broke an invariant.
 */
const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const short = argv.includes('--short');
const only = flag('only')?.split('|');
const runs = flag('runs') ? Number(flag('runs')) : undefined;
const engineFlag = flag('engine') ?? 'both';
const available = engines();
const wanted: Engine[] = engineFlag === 'both' ? ['sqlite', 'postgres'] : [engineFlag as Engine];
const results: RowResult[] = [];
for (const row of allRows) {
  if (only && !only.some((o) => row.name.includes(o))) continue;
  for (const engine of wanted) {
    if (row.engines && !row.engines.includes(engine)) continue;
    const skip = available.find((e) => e.name === engine)?.skip;
    if (skip && !row.stack) {
      console.log(`[skipped] ${row.name} [${engine}]: ${skip}`);
      continue;
    }
    const r = await runRow(row, engine, { short, ...(runs ? { runs } : {}) });
    results.push(r);
    console.log(`${r.failures.length ? 'FAIL' : 'ok  '} ${r.row} [${engine}] ${r.held}/${r.runs} (${(r.ms / 1000).toFixed(1)} s)`);
    for (const f of r.failures) console.log(`     ${f}`);
  }
}
console.log(`\n${formatTable(results)}`);
process.exit(results.some((r) => r.failures.length > 0) ? 1 : 0);
