import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Bundles main/index.ts (the app) and main/embed/index.ts (the library for studios' launchers)
 * to ES modules in out/main for Electron's Node. electron and keytar (native) stay external, as
 * do electron-store and got, which electron-builder ships from node_modules.
 */
export default defineConfig({
  root,
  build: {
    outDir: 'out/main',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    ssr: true,
    lib: { entry: { index: 'main/index.ts', embed: 'main/embed/index.ts' }, formats: ['es'], fileName: (_f, name) => `${name}.js` },
    rollupOptions: { external: ['electron', 'keytar', /^node:/] },
  },
  ssr: { noExternal: ['@scan-to-bind/shared', 'zod', 'got', 'electron-store'] },
});
