import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The layout rules of the tree (each process imports only what it may), checked on the real
// source tree: who may import whom.
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

/** Whether an import target is shared/ (by package name or by a relative path into it). */
const isShared = (t: string) => t.startsWith('shared/') || t === '@scan-to-bind/shared' || t.startsWith('@scan-to-bind/shared/');

/**
 * The only values the sandbox may take from shared/: money helpers, wallet ids and display data,
 * locale helpers (types of any name are fine: they cannot decide anything at run time). The
 * sandbox checks the relay the way Antom would, so it must not take a rule from shared/ (limits,
 * windows, cancel, refunds, state machines): a bug there would pass every test because the fake
 * Antom agreed with it (issue #16 point 3). Its rules live in sandbox/src/api/antom-rules.ts.
 */
const SANDBOX_MAY_TAKE_FROM_SHARED = new Set([
  'money',
  'formatMoney',
  'toMajorString',
  'isCurrencyCode',
  'isWalletId',
  'walletInfo',
  'resolveLocale',
  'LOCALES',
]);

/**
 * What the sandbox may read from a walletInfo() entry: display data (the wallet's home zone only
 * to show a time on its pages), never the caps, the refund window or the cancel rule.
 */
const WALLET_DISPLAY_FIELDS = new Set(['id', 'displayName', 'country', 'currency', 'utcOffsetMinutes']);

/**
 * What a file takes from shared/ beyond the allow-list: value names not on it, namespace or
 * default imports, `export *` and dynamic imports (each reaches every rule), and reads of
 * walletInfo() fields that are not display data.
 */
function takenFromShared(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const fromShared = (spec: ts.Expression | undefined) => spec !== undefined && ts.isStringLiteral(spec) && isShared(target(file, spec.text));
  const checkNames = (
    names: readonly { name: ts.Identifier | ts.StringLiteral; propertyName?: ts.ModuleExportName; isTypeOnly: boolean }[],
    typeOnly: boolean,
  ) => {
    for (const n of names) {
      const imported = (n.propertyName ?? n.name).text;
      if (!typeOnly && !n.isTypeOnly && !SANDBOX_MAY_TAKE_FROM_SHARED.has(imported)) found.push(imported);
    }
  };
  const walletInfoUse = (call: ts.CallExpression) => {
    const parent = call.parent;
    if (ts.isPropertyAccessExpression(parent)) {
      if (!WALLET_DISPLAY_FIELDS.has(parent.name.text)) found.push(`walletInfo().${parent.name.text}`);
      return;
    }
    if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) {
      const name = parent.name.text;
      const scope = ts.findAncestor(parent, (n) => ts.isBlock(n) || ts.isSourceFile(n)) ?? source;
      const uses = (n: ts.Node): void => {
        if (ts.isIdentifier(n) && n.text === name && n !== parent.name) {
          const field = ts.isPropertyAccessExpression(n.parent) && n.parent.expression === n ? n.parent.name.text : undefined;
          if (field === undefined || !WALLET_DISPLAY_FIELDS.has(field)) found.push(`walletInfo() as ${name}${field ? `.${field}` : ''}`);
        }
        ts.forEachChild(n, uses);
      };
      uses(scope);
      return;
    }
    if (ts.isVariableDeclaration(parent) && ts.isObjectBindingPattern(parent.name)) {
      for (const el of parent.name.elements) {
        const field = (el.propertyName ?? el.name).getText(source);
        if (el.dotDotDotToken || !WALLET_DISPLAY_FIELDS.has(field)) found.push(`walletInfo() { ${el.getText(source)} }`);
      }
      return;
    }
    found.push(`walletInfo() ${call.getText(source)} used whole`);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && fromShared(node.moduleSpecifier)) {
      const clause = node.importClause;
      if (clause?.name && !clause.isTypeOnly) found.push(`default ${clause.name.text}`);
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings) && !clause.isTypeOnly) found.push(`* as ${bindings.name.text}`);
      if (bindings && ts.isNamedImports(bindings)) checkNames(bindings.elements, clause.isTypeOnly);
    } else if (ts.isExportDeclaration(node) && fromShared(node.moduleSpecifier)) {
      if (!node.exportClause) found.push('export *');
      else if (ts.isNamedExports(node.exportClause)) checkNames(node.exportClause.elements, node.isTypeOnly);
      else found.push('export * as');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && fromShared(node.arguments[0])) {
      found.push('import()');
    } else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'walletInfo') {
      walletInfoUse(node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Lines of `text` that reach the database: the store's handle, a raw `sql` template or a query builder. */
function sqlReaches(text: string): string[] {
  const reach = /\bstore\.db\b|\.db\.|\bsql`|\.(selectFrom|insertInto|updateTable|deleteFrom|replaceInto)\(/;
  return text.split('\n').filter((line) => reach.test(line) && !/^\s*(\*|\/\/|\/\*)/.test(line));
}

const isNode = (t: string) => t.startsWith('node:') || ['fs', 'path', 'crypto', 'child_process', 'os', 'net', 'http'].includes(t);

describe('import boundaries', () => {
  it('finds imports of every form', () => {
    expect(importsOf(`import a from 'x'; import { b } from "../y.ts"; export * from './z.ts'; await import('w'); import 'side';`)).toEqual([
      'x',
      '../y.ts',
      'side',
      './z.ts',
      'w',
    ]);
  });

  it('shared/ imports nothing but itself and zod: no Node, no DOM libraries, no process code', () => {
    expect(violations('shared', (t) => !(t.startsWith('shared/') || t === 'zod') || isNode(t))).toEqual([]);
  });

  it('renderer/src never imports main, preload, relay, sandbox, Node or electron', () => {
    expect(
      violations(
        'renderer/src',
        (t) => /^(main|preload|relay|sandbox)\//.test(t) || isNode(t) || t === 'electron' || /^@scan-to-bind\/(relay|sandbox)/.test(t),
      ),
    ).toEqual([]);
  });

  it('main/ never imports the renderer, the relay or the sandbox', () => {
    expect(violations('main', (t) => /^(renderer|relay|sandbox)\//.test(t) || /^@scan-to-bind\/(relay|sandbox)/.test(t))).toEqual([]);
  });

  it('preload/ imports only electron, the shared contract and itself', () => {
    expect(
      violations(
        'preload',
        (t) => !(t === 'electron' || t === 'vite' || t.startsWith('node:url') || t.startsWith('preload/') || t.startsWith('@scan-to-bind/shared/')),
      ),
    ).toEqual([]);
  });

  it('the relay, the sandbox and the client share nothing but shared/', () => {
    const sides: Record<string, { dirs: string[]; owns: (t: string) => boolean }> = {
      client: { dirs: ['main', 'preload', 'renderer/src'], owns: (t) => /^(main|preload|renderer)\//.test(t) },
      relay: { dirs: ['relay/src'], owns: (t) => t.startsWith('relay/') || t.startsWith('@scan-to-bind/relay') },
      sandbox: { dirs: ['sandbox/src'], owns: (t) => t.startsWith('sandbox/') || t.startsWith('@scan-to-bind/sandbox') },
    };
    const crossings = Object.entries(sides).flatMap(([name, side]) => {
      const others = Object.entries(sides).filter(([other]) => other !== name);
      return side.dirs.flatMap((d) => violations(d, (t) => others.some(([, o]) => o.owns(t))));
    });
    expect(crossings).toEqual([]);
  });

  it('the sandbox takes from shared/ only types and the allow-listed helpers, never a rule', () => {
    const files = sourceFiles('sandbox/src').filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    const taken = files.flatMap((file) => takenFromShared(file, readFileSync(join(root, file), 'utf8')).map((name) => `${file}: ${name}`));
    expect(taken).toEqual([]);
  });

  it('the allow-list check catches a rule, however it is imported', () => {
    const file = 'sandbox/src/api/refunds.ts';
    expect(takenFromShared(file, `import { checkRefund, money } from '@scan-to-bind/shared/domain';`)).toEqual(['checkRefund']);
    expect(takenFromShared(file, `import {\n  money,\n  canCancel as ok,\n  type WalletId,\n} from '@scan-to-bind/shared/domain';`)).toEqual(['canCancel']);
    expect(takenFromShared(file, `import { walletWindow } from '../../../shared/domain/limits.ts';`)).toEqual(['walletWindow']);
    expect(takenFromShared(file, `import * as d from '@scan-to-bind/shared/domain';`)).toEqual(['* as d']);
    expect(takenFromShared(file, `export { checkWalletLimits } from '@scan-to-bind/shared/domain';`)).toEqual(['checkWalletLimits']);
    expect(takenFromShared(file, `const m = await import('@scan-to-bind/shared/domain');`)).toEqual(['import()']);
    expect(takenFromShared(file, `const days = walletInfo(w).refundWindowDays;`)).toEqual(['walletInfo().refundWindowDays']);
    expect(takenFromShared(file, `function f(w) { const info = walletInfo(w); return info.caps.maxPerDay + info.displayName; }`)).toEqual([
      'walletInfo() as info.caps',
    ]);
    expect(takenFromShared(file, `const { cancel } = walletInfo(w);`)).toEqual(['walletInfo() { cancel }']);
    expect(
      takenFromShared(
        file,
        `import type { LimitCheck } from '@scan-to-bind/shared/domain'; import { type RefundRefusal, money, walletInfo } from '@scan-to-bind/shared/domain'; const n = walletInfo(w).displayName;`,
      ),
    ).toEqual([]);
    expect(takenFromShared(file, `import { checkRefund } from './refund-rules.ts';`)).toEqual([]);
  });

  it('electron is imported only in main/windows, security, ipc, adapters, platform, main/index.ts and preload', () => {
    const allowed = /^(main\/(windows|security|ipc|adapters|platform)\/|main\/index\.ts(?= →)|preload\/)/;
    const dirs = ['main', 'preload', 'renderer/src', 'shared', 'relay/src', 'sandbox/src'];
    const offenders = dirs.flatMap((d) => violations(d, (t) => t === 'electron')).filter((v) => !allowed.test(v));
    expect(offenders).toEqual([]);
  });

  it('relay SQL lives in the repositories: only relay/src/store/ and *-repo.ts files reach the database', () => {
    expect(
      sqlReaches("const r = await this.repo.store.db\n  .selectFrom('bindings')\nawait sql`select 1`.execute(db);\n// store.db in a comment\nrepo.get(id);"),
    ).toEqual(['const r = await this.repo.store.db', "  .selectFrom('bindings')", 'await sql`select 1`.execute(db);']);
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
