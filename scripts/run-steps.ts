import { spawn } from 'node:child_process';

/** One command of a multi-step run. */
export interface Step {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** Runs a command with inherited output; resolves to its exit code (signals count as failure). */
export function run(step: Step): Promise<number> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(step.command, step.args, {
      stdio: 'inherit',
      env: { ...process.env, ...step.env },
    });
    child.on('error', (err) => {
      console.error(`[${step.name}] could not start: ${err.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`[${step.name}] ${code === 0 ? 'ok' : `failed (${signal ?? code})`} in ${seconds}s`);
      resolve(code ?? 1);
    });
  });
}

/** Runs steps at most `parallel` at a time; resolves to the names of the ones that failed. */
export async function runAll(steps: Step[], parallel: number): Promise<string[]> {
  const failed: string[] = [];
  const queue = [...steps];
  const workers = Array.from({ length: Math.max(1, parallel) }, async () => {
    for (let step = queue.shift(); step; step = queue.shift()) {
      if ((await run(step)) !== 0) failed.push(step.name);
    }
  });
  await Promise.all(workers);
  return failed;
}
