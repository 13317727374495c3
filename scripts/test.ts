import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { provideRealParts } from './provide-parts.ts';
import { run, runAll, type Step } from './run-steps.ts';
import { typecheckSteps } from './typecheck.ts';

/**
 * `npm test`: type-check every tsconfig (incl. svelte-check), lint, then the Vitest suites
 * (unit, integration against the real keychain, SQLite, PostgreSQL, relay and sandbox) and the
 * Playwright suites in Debian's Chromium. The real parts the suites need are provided first when
 * they were not given (scripts/provide-parts.ts: a throwaway PostgreSQL cluster, a throwaway keyring
 * in its own D-Bus session, Chromium from the system or Playwright's cache). Every step runs even when an earlier one fails, so
 * one run shows everything; the exit code is non-zero when any step failed. The last line is
 * the combined count: "tests: N passed, N failed, N skipped".
 */
const results = 'test-results';
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });

const failed: string[] = [];
failed.push(...(await runAll(typecheckSteps, 2)));
if ((await run({ name: 'lint', command: 'npx', args: ['biome', 'check', '.'] })) !== 0) failed.push('lint');

const parts = await provideRealParts();
for (const line of parts.summary) console.log(`real parts: ${line}`);
const withParts = (step: Step): Step => parts.wrap({ ...step, env: { ...parts.env, ...step.env } });
// Ctrl-C ends the run, but never leaves the throwaway cluster running.
const stopParts = () => void parts.stop().finally(() => process.exit(130));
process.once('SIGINT', stopParts);
process.once('SIGTERM', stopParts);

const vitestCode = await run(
  withParts({
    name: 'vitest',
    command: 'npx',
    args: ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}/vitest.json`],
  }),
);
if (vitestCode !== 0) failed.push('vitest');

const playwrightCode = await run(withParts({ name: 'playwright', command: 'npx', args: ['playwright', 'test'] }));
if (playwrightCode !== 0) failed.push('playwright');
await parts.stop();

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function vitestCounts(): Counts {
  const r = readJson(`${results}/vitest.json`);
  const n = (k: string) => (typeof r?.[k] === 'number' ? (r[k] as number) : 0);
  return { passed: n('numPassedTests'), failed: n('numFailedTests'), skipped: n('numPendingTests') + n('numTodoTests') };
}

function playwrightCounts(): Counts {
  const stats = readJson(`${results}/playwright.json`)?.stats as Record<string, number> | undefined;
  return {
    passed: (stats?.expected ?? 0) + (stats?.flaky ?? 0),
    failed: stats?.unexpected ?? 0,
    skipped: stats?.skipped ?? 0,
  };
}

const v = vitestCounts();
const p = playwrightCounts();
const total: Counts = { passed: v.passed + p.passed, failed: v.failed + p.failed, skipped: v.skipped + p.skipped };
// A step that failed without a failing test (type error, lint, a crashed runner) still fails the run.
if (failed.length > 0 && total.failed === 0) total.failed = failed.length;
if (failed.length > 0) console.error(`failed steps: ${failed.join(', ')}`);
console.log(`vitest: ${v.passed} passed, ${v.failed} failed, ${v.skipped} skipped`);
console.log(`playwright: ${p.passed} passed, ${p.failed} failed, ${p.skipped} skipped`);
console.log(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(failed.length > 0 || total.passed === 0 ? 1 : 0);
