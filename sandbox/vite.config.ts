import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const pkg = (await import('./package.json', { with: { type: 'json' } })).default as { dependencies: Record<string, string> };

/**
 * Compiles the sandbox to ES modules in sandbox/dist (src/cli.ts and src/index.ts), run by plain
 * Node; `@scan-to-bind/shared` is compiled in, its npm dependencies stay imports.
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
