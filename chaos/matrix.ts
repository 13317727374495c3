import type { Stack } from '../relay/test/support/stack.ts';
import { type Client, startClient } from '../test/integration/client/helpers/client-stack.ts';
import { CallLog, checkInvariants, type InvariantResult } from './invariants.ts';
import { type ChaosStackOptions, ChaosStack, type Engine } from './stack.ts';

/** What a row gets: the stack, a call log (invariant 5) and helpers. */
export interface RowContext {
  stack: ChaosStack;
  calls: CallLog;
  engine: Engine;
  short: boolean;
  /** Starts the client's main-process services (real adapters) for a device of the stack (`relayUrl`: through a proxy). */
  client(kind: 'kiosk' | 'launcher', player?: string, options?: { relayUrl?: string }): Promise<Client>;
  /** Payloads of IPC results etc. to scan (invariant 4). */
  payloads: string[];
  /** Fails the row with a message (a broken expectation of the row itself). */
  expect(cond: unknown, message: string): void;
}

export interface Row {
  name: string;
  family: 'provider' | 'notification' | 'client-attack' | 'fuzz' | 'race' | 'clock' | 'crash' | 'load' | 'keychain' | 'postgres';
  /** Engines the row runs on (default both). */
  engines?: Engine[];
  stack?: ChaosStackOptions | ((engine: Engine) => Promise<ChaosStackOptions & { cleanup?: () => Promise<void> }>);
  /** Repetitions in the full run (default 1; the short run does 1). */
  runs?: number;
  run(ctx: RowContext): Promise<void>;
}

export interface RowResult {
  row: string;
  engine: Engine;
  runs: number;
  held: number;
  failures: string[];
  ms: number;
}

/** Runs one row on one engine `runs` times, with a fresh stack per run, checking the invariants after each. */
export async function runRow(row: Row, engine: Engine, options: { short: boolean; runs?: number }): Promise<RowResult> {
  const runs = options.runs ?? (options.short ? 1 : (row.runs ?? 1));
  const started = Date.now();
  const failures: string[] = [];
  let held = 0;
  for (let i = 0; i < runs; i++) {
    const extra = typeof row.stack === 'function' ? await row.stack(engine) : (row.stack ?? {});
    const stack = new ChaosStack(engine, extra);
    const clients: Client[] = [];
    const calls = new CallLog();
    const payloads: string[] = [];
    let invariants: InvariantResult[] = [];
    try {
      await stack.start();
      const ctx: RowContext = {
        stack,
        calls,
        engine,
        short: options.short,
        payloads,
        async client(kind, player, options) {
          const c = await startClient(stack as unknown as Stack, kind, { ...(player ? { player } : {}), ...options });
          clients.push(c);
          c.binding.onChange((s) => payloads.push(JSON.stringify(s)));
          c.purchases.onChange((s) => payloads.push(JSON.stringify(s)));
          return c;
        },
        expect(cond, message) {
          if (!cond) throw new Error(message);
        },
      };
      await row.run(ctx);
      for (const c of clients) payloads.push(...c.log.lines.map((e) => JSON.stringify(e)));
      invariants = await checkInvariants(stack, calls.calls, payloads);
      const broken = invariants.filter((r) => !r.ok);
      if (broken.length === 0) held++;
      for (const b of broken) failures.push(`run ${i + 1}: invariant ${b.id}: ${b.detail}`);
    } catch (error) {
      failures.push(`run ${i + 1}: ${(error as Error).stack?.split('\n').slice(0, 3).join(' | ') ?? String(error)}`);
    } finally {
      for (const c of clients) await c.close().catch(() => undefined);
      await stack.close().catch(() => undefined);
      if ('cleanup' in extra && typeof extra.cleanup === 'function') await extra.cleanup().catch(() => undefined);
    }
  }
  return { row: row.name, engine, runs, held, failures, ms: Date.now() - started };
}

/** The table: row, runs, invariants held, failures. */
export function formatTable(results: RowResult[]): string {
  const head = ['row', 'engine', 'runs', 'invariants held', 'failures', 'time'];
  const body = results.map((r) => [r.row, r.engine, String(r.runs), `${r.held}/${r.runs}`, String(r.failures.length), `${(r.ms / 1000).toFixed(1)} s`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  const out = [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)];
  const details = results.flatMap((r) => r.failures.map((f) => `  ${r.row} [${r.engine}] ${f}`));
  return [...out, ...(details.length ? ['', 'failures:', ...details] : [])].join('\n');
}
