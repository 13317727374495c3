// `npm run sandbox`: with NODE_ENV=production the compiled sandbox (sandbox/dist, `npm run build`) on
// plain Node, no TypeScript loader at run time; otherwise the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/cli.js', import.meta.url);
if (process.env.NODE_ENV === 'production') {
  if (!existsSync(dist)) {
    console.error('sandbox: NODE_ENV=production runs sandbox/dist/cli.js, which is not built: run `npm run build` first.');
    process.exit(1);
  }
  await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli.ts', import.meta.url).href);
}
