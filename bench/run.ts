import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { relayFigures } from './relay-figures.ts';
import { summarise } from './stats.ts';
import { type Row, report } from './table.ts';

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
    for (const id of ['1', '2', '3'])
      rows.push({
        id,
        figure: `relay figures #${id} (PostgreSQL)`,
        unit: '',
        summary: summarise([0]),
        goal: '',
        note: '',
        skipped: 'BENCH_DATABASE_URL not set',
      });
  }
}

// #9 horizontal scale: 1, 2, 3 relay processes on one PostgreSQL, and the cross-relay push.
if (want('scale')) {
  if (process.env['BENCH_DATABASE_URL']) {
    console.log('relay processes on one PostgreSQL …');
    const { scaleFigures } = await import('./scale-figures.ts');
    rows.push(...(await scaleFigures()));
  } else {
    rows.push({
      id: '9',
      figure: 'horizontal scale and cross-relay push (PostgreSQL)',
      unit: '',
      summary: summarise([0]),
      goal: '',
      note: '',
      skipped: 'BENCH_DATABASE_URL not set',
    });
  }
}

// #7 renderer JavaScript, gzipped (deterministic: one measurement is every run's value).
const assets = 'out/renderer/assets';
if (want('bundle') && existsSync(assets)) {
  const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
  const sizes = js.map((f) => ({ f, kb: gzipSync(readFileSync(join(assets, f)), { level: 9 }).length / 1024 }));
  const total = sizes.reduce((a, b) => a + b.kb, 0);
  // One budget for every row (test/browser/bundle.e2e.ts holds the same figure).
  const budget = 30.5;
  for (const s of sizes) {
    rows.push({
      id: '7',
      figure: `renderer JS gzipped: ${s.f}`,
      unit: 'KB',
      summary: summarise([s.kb]),
      peer: budget,
      peerName: 'KB goal',
      ratio: s.kb / budget,
      goal: `≤ ${budget} KB (stretch 20)`,
      met: s.kb <= budget,
      note: '',
    });
  }
  rows.push({
    id: '7',
    figure: 'renderer JS gzipped: total',
    unit: 'KB',
    summary: summarise([total]),
    peer: budget,
    peerName: 'KB goal',
    ratio: total / budget,
    goal: `≤ ${budget} KB (stretch 20)`,
    met: total <= budget,
    note: `${js.length} chunk(s), gzip -9; ${total <= 20 ? 'stretch goal met' : total <= budget ? `stretch 20 KB missed by ${(total - 20).toFixed(1)} KB` : `missed by ${(total - budget).toFixed(1)} KB`}`,
  });
} else if (want('bundle')) {
  rows.push({
    id: '7',
    figure: 'renderer JS gzipped',
    unit: 'KB',
    summary: summarise([0]),
    goal: '≤ 30.5 KB',
    note: '',
    skipped: 'out/renderer not built (npx vite build --config renderer/vite.config.ts)',
  });
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
