import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Bundles preload/index.ts and the shared contract into one CommonJS file for a sandboxed renderer. */
export default defineConfig({
  root,
  build: {
    outDir: 'out/preload',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    lib: { entry: 'preload/index.ts', formats: ['cjs'], fileName: () => 'preload.cjs' },
    rollupOptions: { external: ['electron'] },
  },
});
