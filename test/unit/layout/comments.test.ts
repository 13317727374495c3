import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * House rule: a comment names the rule it follows ("Antom's cancel window: DANA never"), never a
 * file outside the repository (Antom's protocol notes, the style checklist, the product brief,
 * the toolchain notes), which a reader of the repository cannot open. Checked on the real tree.
 */
const root = resolve(import.meta.dirname, '../../..');
const self = relative(root, import.meta.filename);

/** Names of the reference files that live next to the repository, not in it. */
const OUTSIDE_FILES = ['API.md', 'PRODUCT.md', 'STYLE.md', 'TOOLCHAIN.md', '../shared/antom'];

/** Every source directory, walked recursively. */
const SOURCE_DIRS = [
  'main',
  'preload',
  'renderer/src',
  'shared',
  'relay/src',
  'relay/test',
  'relay/bin',
  'sandbox/src',
  'sandbox/test',
  'sandbox/bin',
  'scripts',
  'test',
  'bench',
  'chaos',
];

/** Folders whose own files (configuration, entry page) are checked, not their subfolders. */
const CONFIG_DIRS = ['.', 'renderer', 'relay', 'sandbox'];

/** Documentation: it may point at the outside files in one place only, README.md's reading list. */
const DOC_DIRS = ['.', 'docs', 'renderer', 'relay', 'sandbox'];

const SOURCE_FILE = /\.(?:[cm]?[jt]s|svelte|css|html|json|ya?ml)$/;
const SKIPPED_DIRS = new Set(['node_modules', '.git', 'out', 'dist', 'coverage', 'test-results', 'playwright-report']);

function filesUnder(dir: string, recursive: boolean, keep: RegExp): string[] {
  const abs = join(root, dir);
  return readdirSync(abs).flatMap((name) => {
    if (SKIPPED_DIRS.has(name)) return [];
    const path = join(abs, name);
    if (statSync(path).isDirectory()) return recursive ? filesUnder(relative(root, path), true, keep) : [];
    return keep.test(name) ? [relative(root, path)] : [];
  });
}

/** `file:line: text` for every line of `file` that names an outside file. */
function outsideReferences(file: string, text: string): string[] {
  return text.split('\n').flatMap((line, i) => (OUTSIDE_FILES.some((name) => line.includes(name)) ? [`${file}:${i + 1}: ${line.trim()}`] : []));
}

const sourceFiles = [...SOURCE_DIRS.flatMap((d) => filesUnder(d, true, SOURCE_FILE)), ...CONFIG_DIRS.flatMap((d) => filesUnder(d, false, SOURCE_FILE))].filter(
  (f) => f !== self,
);
const docFiles = DOC_DIRS.flatMap((d) => filesUnder(d, false, /\.md$/));

describe('comments name the rule, not a file outside the repository', () => {
  it('finds each outside-file name in a line, and nothing in a line that names the rule', () => {
    expect(outsideReferences('a.ts', '// (API.md §9)\n// ok\n/* STYLE.md item 7 */')).toEqual(['a.ts:1: // (API.md §9)', 'a.ts:3: /* STYLE.md item 7 */']);
    for (const name of OUTSIDE_FILES) expect(outsideReferences('b.ts', `x // see ${name}`)).toHaveLength(1);
    expect(outsideReferences('c.ts', "// (Antom's cancel window: AlipayHK until 00:15 UTC+8 the next day, DANA never)")).toEqual([]);
  });

  it('walks the real tree: every process, the workspaces, the tests and the configuration', () => {
    for (const file of [
      'main/security/csp.ts',
      'shared/domain/wallets.ts',
      'relay/src/antom/endpoints.ts',
      'relay/test/antom-signature.test.ts',
      'sandbox/src/api/schemas.ts',
      'sandbox/test/signature.test.ts',
      'renderer/src/main.ts',
      'bench/floor.ts',
      'biome.json',
      'electron-builder.yml',
    ]) {
      expect(sourceFiles).toContain(file);
    }
    expect(sourceFiles).not.toContain(self);
    expect(docFiles).toEqual(expect.arrayContaining(['README.md', 'relay/README.md', 'sandbox/README.md', 'docs/benchmarks.md']));
  });

  it('no source, test or configuration file names API.md, PRODUCT.md, STYLE.md, TOOLCHAIN.md or ../shared/antom', () => {
    const found = sourceFiles.flatMap((file) => outsideReferences(file, readFileSync(join(root, file), 'utf8')));
    expect(found).toEqual([]);
  });

  it("documentation names an outside file only in README.md's reading list (marked 'outside the repo')", () => {
    const found = docFiles.flatMap((file) =>
      outsideReferences(file, readFileSync(join(root, file), 'utf8')).filter((hit) => !(hit.startsWith('README.md:') && hit.includes('(outside the repo)'))),
    );
    expect(found).toEqual([]);
  });
});
