import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { relayFigures } from './relay-figures.ts';
import { summarise } from './stats.ts';
import { goalRow, type Row, report, skippedRow } from './table.ts';

/**
 * `npm run bench`: one table of the issue-9 figures, each the median of BENCH_RUNS (≥ 5) runs
 * beside the ceiling or peer measured in the same run, with the spread; JSON copy in
 * test-results/bench.json. BENCH_QUICK=1 for a short smoke run; BENCH_DATABASE_URL adds the
 * PostgreSQL rows (and #9, several relay processes on one database). Method and results: docs/benchmarks.md.
 */
const started = Date.now();
const rows: Row[] = [];
const only = process.env['BENCH_ONLY']?.split(',');
const want = (what: string): boolean => !only || only.includes(what);

if (want('sqlite')) {
  console.log('relay on SQLite …');
  rows.push(...(await relayFigures('sqlite')));
}
if (want('postgres')) {
  if (process.env['BENCH_DATABASE_URL']) {
    console.log('relay on PostgreSQL …');
    rows.push(...(await relayFigures('postgres')));
  } else {
    for (const id of ['1', '2', '3']) rows.push(skippedRow(id, `relay figures #${id} (PostgreSQL)`, 'BENCH_DATABASE_URL not set'));
  }
}

// #9 horizontal scale: 1, 2, 3 relay processes on one PostgreSQL, and the cross-relay push.
if (want('scale')) {
  if (process.env['BENCH_DATABASE_URL']) {
    console.log('relay processes on one PostgreSQL …');
    const { scaleFigures } = await import('./scale-figures.ts');
    rows.push(...(await scaleFigures()));
  } else {
    rows.push(skippedRow('9', 'horizontal scale and cross-relay push (PostgreSQL)', 'BENCH_DATABASE_URL not set'));
  }
}

// #7 renderer JavaScript, gzipped (deterministic: one measurement is every run's value).
const assets = 'out/renderer/assets';
// One budget for every row (test/browser/bundle.e2e.ts holds the same figure).
const budget = 30.5;
/** One #7 row: a chunk's (or the total's) gzipped size against the budget. */
const bundleRow = (what: string, kb: number, note: string): Row =>
  goalRow({
    id: '7',
    figure: `renderer JS gzipped: ${what}`,
    unit: 'KB',
    summary: summarise([kb]),
    limit: budget,
    limitName: 'KB goal',
    goal: `≤ ${budget} KB (stretch 20)`,
    met: kb <= budget,
    note,
  });
if (want('bundle') && existsSync(assets)) {
  const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
  const sizes = js.map((f) => ({ f, kb: gzipSync(readFileSync(join(assets, f)), { level: 9 }).length / 1024 }));
  const total = sizes.reduce((a, b) => a + b.kb, 0);
  for (const s of sizes) rows.push(bundleRow(s.f, s.kb, ''));
  const stretch =
    total <= 20
      ? 'stretch goal met'
      : total <= budget
        ? `stretch 20 KB missed by ${(total - 20).toFixed(1)} KB`
        : `missed by ${(total - budget).toFixed(1)} KB`;
  rows.push(bundleRow('total', total, `${js.length} chunk(s), gzip -9; ${stretch}`));
} else if (want('bundle')) {
  rows.push(skippedRow('7', 'renderer JS gzipped', 'out/renderer not built (npx vite build --config renderer/vite.config.ts)', `≤ ${budget} KB`, 'KB'));
}

if (want('browser')) {
  const { browserFigures } = await import('./browser.ts');
  rows.push(...(await browserFigures()));
}

report(rows, {
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  quick: process.env['BENCH_QUICK'] === '1',
  seconds: Math.round((Date.now() - started) / 1000),
});
console.log(`bench took ${Math.round((Date.now() - started) / 1000)} s`);
