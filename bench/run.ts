import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { checkWalletLimits } from '../shared/domain/limits.ts';
import { formatMoney, money } from '../shared/domain/money.ts';
import { purchaseTransition } from '../shared/domain/purchase-state.ts';
import { opsPerSecond, type Summary, summarise } from './stats.ts';

/**
 * `npm run bench`: prints one table of figures, each the median of RUNS runs with its spread.
 * Figures that need the relay and the sandbox join this table as those parts land (issue #9);
 * what is here measures the ceiling they are compared with (raw RSA-2048 signing) and the
 * shared code every request runs.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MS = Number(process.env.BENCH_MS ?? 400);

interface Row {
  figure: string;
  unit: string;
  summary: Summary;
  note: string;
}

const rows: Row[] = [];
function measure(figure: string, unit: string, note: string, once: () => number): void {
  rows.push({ figure, unit, note, summary: summarise(Array.from({ length: RUNS }, once)) });
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const content = `POST /ams/api/v1/payments/pay\nSANDBOX_X.1700000000000.${'{"paymentRequestId":"x"}'.repeat(20)}`;
measure('RSA-2048 SHA256 sign (ceiling for relay pay throughput)', 'ops/s', 'one core', () =>
  opsPerSecond(() => sign('sha256', Buffer.from(content), privateKey), MS),
);

const amount = money(1_500_000, 'IDR');
measure('formatMoney id-ID', 'ops/s', 'cached Intl formatter', () => opsPerSecond(() => formatMoney(amount, 'id-ID'), MS));

const spent = { today: money(0, 'IDR'), thisYear: money(0, 'IDR') };
measure('checkWalletLimits DANA', 'ops/s', 'pure', () => opsPerSecond(() => checkWalletLimits('DANA', amount, spent), MS));
measure('purchaseTransition', 'ops/s', 'pure', () => opsPerSecond(() => purchaseTransition('PROCESSING', 'PAY_SUCCEEDED'), MS));

const assets = 'out/renderer/assets';
if (existsSync(assets)) {
  const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
  const budget = 30 * 1024;
  const sizes = js.map((f) => gzipSync(readFileSync(join(assets, f)), { level: 9 }).length);
  const total = sizes.reduce((a, b) => a + b, 0);
  const verdict = total <= budget ? 'within the 30 KB goal' : `MISSES the 30 KB goal by ${total - budget} bytes`;
  rows.push({
    figure: 'renderer JavaScript, gzipped, total',
    unit: 'bytes',
    note: `${js.length} chunk(s), largest ${Math.max(...sizes)} B; ${verdict}`,
    summary: summarise([total]),
  });
} else {
  console.log('renderer bundle not built (run `npm run build` first); its size is left out of the table');
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(2));
console.log(`\n${'figure'.padEnd(58)} ${'median'.padStart(12)} ${'unit'.padEnd(6)} ${'spread'.padStart(7)} runs  note`);
for (const r of rows) {
  console.log(
    `${r.figure.padEnd(58)} ${fmt(r.summary.median).padStart(12)} ${r.unit.padEnd(6)} ${`${(r.summary.spread * 100).toFixed(1)}%`.padStart(7)} ${String(r.summary.runs).padStart(4)}  ${r.note}`,
  );
}
