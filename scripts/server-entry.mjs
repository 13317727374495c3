// The entry of `npm run relay` and `npm run sandbox` (relay/bin, sandbox/bin): with
// NODE_ENV=production the compiled workspace (<dir>/dist/cli.js, `npm run build`) on plain Node,
// no TypeScript loader at run time; otherwise its TypeScript sources through tsx.
import { existsSync } from 'node:fs';

/** Runs the server CLI of the workspace at `dir` (a file URL ending in `/`). */
export async function runServerCli(name, dir) {
  const dist = new URL('dist/cli.js', dir);
  if (process.env.NODE_ENV === 'production') {
    if (!existsSync(dist)) {
      console.error(`${name}: NODE_ENV=production runs ${name}/dist/cli.js, which is not built: run \`npm run build\` first.`);
      process.exit(1);
    }
    await import(dist.href);
    return;
  }
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('src/cli.ts', dir).href);
}
