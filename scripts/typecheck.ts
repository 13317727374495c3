import { runAll, type Step } from './run-steps.ts';

/**
 * Type-checks every process against its own tsconfig (so renderer code cannot see Node or main,
 * and shared/ sees neither Node nor the DOM), the workspaces, the tests, and the Svelte
 * components with svelte-check.
 */
const tsc = (project: string): Step => ({ name: `tsc ${project}`, command: 'npx', args: ['tsc', '-p', project] });

export const typecheckSteps: Step[] = [
  tsc('tsconfig.shared.json'),
  tsc('tsconfig.main.json'),
  tsc('tsconfig.preload.json'),
  tsc('tsconfig.test.json'),
  tsc('relay/tsconfig.json'),
  tsc('sandbox/tsconfig.json'),
  {
    name: 'svelte-check renderer',
    command: 'npx',
    args: ['svelte-check', '--tsconfig', './tsconfig.renderer.json', '--fail-on-warnings', '--output', 'human'],
  },
];

if (import.meta.url === `file://${process.argv[1]}`) {
  const failed = await runAll(typecheckSteps, 2);
  if (failed.length > 0) {
    console.error(`typecheck failed: ${failed.join(', ')}`);
    process.exit(1);
  }
}
