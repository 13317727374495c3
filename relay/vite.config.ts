import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const pkg = (await import('./package.json', { with: { type: 'json' } })).default as { dependencies: Record<string, string> };

/**
 * Compiles the relay for production: src/cli.ts (the server and its CLI verbs) and src/index.ts
 * (startRelay, for embedding) to ES modules in relay/dist, run by plain Node with no TypeScript
 * loader. `@scan-to-bind/shared` (TypeScript sources) is compiled in; the relay's npm
 * dependencies (Fastify, Kysely, pg, better-sqlite3, pino, zod) stay imports from node_modules.
 */
export default defineConfig({
  root,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: true,
    ssr: true,
    lib: { entry: { cli: 'src/cli.ts', index: 'src/index.ts' }, formats: ['es'], fileName: (_f, name) => `${name}.js` },
    rollupOptions: {
      external: [...builtinModules, /^node:/, ...Object.keys(pkg.dependencies).filter((d) => !d.startsWith('@scan-to-bind/')).flatMap((d) => [d, new RegExp(`^${d}/`)])],
    },
  },
  ssr: { noExternal: ['@scan-to-bind/shared'] },
});
