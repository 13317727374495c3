import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import type { UserConfig } from 'vite';

/**
 * The production build of a server workspace (relay/, sandbox/): src/cli.ts and src/index.ts to
 * ES modules in <dir>/dist, run by plain Node with no TypeScript loader. `@scan-to-bind/shared`
 * (TypeScript sources) is compiled in; the workspace's npm dependencies stay imports from
 * node_modules, so they are installed, not bundled (native better-sqlite3 among them).
 */
export function serverBuild(dir: string): UserConfig {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const external = Object.keys(pkg.dependencies).filter((d) => !d.startsWith('@scan-to-bind/'));
  return {
    root: dir,
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      target: 'node20',
      minify: false,
      sourcemap: true,
      ssr: true,
      lib: { entry: { cli: 'src/cli.ts', index: 'src/index.ts' }, formats: ['es'], fileName: (_f, name) => `${name}.js` },
      rollupOptions: { external: [...builtinModules, /^node:/, ...external.flatMap((d) => [d, new RegExp(`^${d}/`)])] },
    },
    ssr: { noExternal: ['@scan-to-bind/shared'] },
  };
}
