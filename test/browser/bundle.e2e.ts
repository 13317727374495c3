import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';

// The built renderer references nothing outside the app. (Its size budget is a figure of
// `npm run bench`, which prints it against the 30 KB goal.)
const OUT = 'out/renderer';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

test('the built page references nothing outside the app', () => {
  for (const f of files(OUT).filter((x) => /\.(html|css|js)$/.test(x))) {
    const text = readFileSync(f, 'utf8');
    expect(text, f).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(text, f).not.toMatch(/@import\s+url\(\s*["']?https?:/i);
  }
});
