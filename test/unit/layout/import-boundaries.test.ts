import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The layout rules of STYLE.md, checked on the real source tree: who may import whom.
const root = resolve(import.meta.dirname, '../../..');

function sourceFiles(dir: string): string[] {
  const abs = join(root, dir);
  let entries: string[];
  try {
    entries = readdirSync(abs);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    if (name === 'node_modules') return [];
    const path = join(abs, name);
    if (statSync(path).isDirectory()) return sourceFiles(relative(root, path));
    return /\.(ts|svelte|js)$/.test(name) && !name.endsWith('.d.ts') ? [relative(root, path)] : [];
  });
}

/** Every module specifier a file imports (static, dynamic and re-exports). */
function importsOf(text: string): string[] {
  const specs: string[] = [];
  const patterns = [
    /\bimport\s+(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]/g,
    /\bexport\s+(?:type\s+)?[\w*{}\s,$]+\s+from\s+['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) specs.push(m[1] as string);
  return specs;
}

/** The repo-relative target of a relative specifier, or the bare specifier itself. */
function target(file: string, spec: string): string {
  return spec.startsWith('.') ? relative(root, resolve(root, file, '..', spec)) : spec;
}

function violations(dir: string, forbidden: (t: string) => boolean): string[] {
  return sourceFiles(dir).flatMap((file) =>
    importsOf(readFileSync(join(root, file), 'utf8'))
      .map((spec) => target(file, spec))
      .filter(forbidden)
      .map((t) => `${file} → ${t}`),
  );
}

/** Lines of `text` that reach the database: the store's handle, a raw `sql` template or a query builder. */
function sqlReaches(text: string): string[] {
  const reach = /\bstore\.db\b|\.db\.|\bsql`|\.(selectFrom|insertInto|updateTable|deleteFrom|replaceInto)\(/;
  return text.split('\n').filter((line) => reach.test(line) && !/^\s*(\*|\/\/|\/\*)/.test(line));
}

const isNode = (t: string) => t.startsWith('node:') || ['fs', 'path', 'crypto', 'child_process', 'os', 'net', 'http'].includes(t);

describe('import boundaries', () => {
  it('finds imports of every form', () => {
    expect(importsOf(`import a from 'x'; import { b } from "../y.ts"; export * from './z.ts'; await import('w'); import 'side';`)).toEqual(
      ['x', '../y.ts', 'side', './z.ts', 'w'],
    );
  });

  it('shared/ imports nothing but itself and zod: no Node, no DOM libraries, no process code', () => {
    expect(
      violations('shared', (t) => !(t.startsWith('shared/') || t === 'zod') || isNode(t)),
    ).toEqual([]);
  });

  it('renderer/src never imports main, preload, relay, sandbox, Node or electron', () => {
    expect(
      violations('renderer/src', (t) =>
        /^(main|preload|relay|sandbox)\//.test(t) || isNode(t) || t === 'electron' || /^@scan-to-bind\/(relay|sandbox)/.test(t),
      ),
    ).toEqual([]);
  });

  it('main/ never imports the renderer, the relay or the sandbox', () => {
    expect(violations('main', (t) => /^(renderer|relay|sandbox)\//.test(t) || /^@scan-to-bind\/(relay|sandbox)/.test(t))).toEqual([]);
  });

  it('preload/ imports only electron, the shared contract and itself', () => {
    expect(
      violations('preload', (t) => !(t === 'electron' || t === 'vite' || t.startsWith('node:url') || t.startsWith('preload/') || t.startsWith('@scan-to-bind/shared/'))),
    ).toEqual([]);
  });

  it('the relay and the sandbox never share code with each other', () => {
    expect(violations('relay/src', (t) => t.startsWith('sandbox/') || t.startsWith('@scan-to-bind/sandbox'))).toEqual([]);
    expect(violations('sandbox/src', (t) => t.startsWith('relay/') || t.startsWith('@scan-to-bind/relay'))).toEqual([]);
  });

  it('electron is imported only where STYLE.md allows it', () => {
    const allowed = /^(main\/(windows|security|ipc|adapters|platform)\/|main\/index\.ts(?= →)|preload\/)/;
    const dirs = ['main', 'preload', 'renderer/src', 'shared', 'relay/src', 'sandbox/src'];
    const offenders = dirs.flatMap((d) => violations(d, (t) => t === 'electron')).filter((v) => !allowed.test(v));
    expect(offenders).toEqual([]);
  });

  it('relay SQL lives in the repositories: only relay/src/store/ and *-repo.ts files reach the database', () => {
    expect(sqlReaches('const r = await this.repo.store.db\n  .selectFrom(\'bindings\')\nawait sql`select 1`.execute(db);\n// store.db in a comment\nrepo.get(id);')).toEqual([
      'const r = await this.repo.store.db',
      "  .selectFrom('bindings')",
      'await sql`select 1`.execute(db);',
    ]);
    const offenders = sourceFiles('relay/src')
      .filter((file) => !file.startsWith('relay/src/store/') && !file.endsWith('-repo.ts'))
      .flatMap((file) => sqlReaches(readFileSync(join(root, file), 'utf8')).map((line) => `${file}: ${line.trim()}`));
    expect(offenders).toEqual([]);
  });

  it('relay layers import only downwards: store/ nothing above it, the domain modules neither http/ nor admin/', () => {
    expect(violations('relay/src/store', (t) => t.startsWith('relay/src/') && !t.startsWith('relay/src/store/'))).toEqual([]);
    const domain = ['antom', 'bindings', 'declarations', 'devices', 'fulfilment', 'payments', 'refunds', 'reports'];
    expect(domain.flatMap((d) => violations(`relay/src/${d}`, (t) => /^relay\/src\/(http|admin)\//.test(t)))).toEqual([]);
  });
});
