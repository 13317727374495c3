import { writeFileSync } from 'node:fs';
import type { Store } from '../store/db.ts';
import { mismatchTable, reconcile } from './reconcile.ts';

/**
 * `npm run relay -- reconcile <files…> [--out report.json]`: prints the mismatches as a table,
 * writes the JSON report, and returns the exit code (1 on any mismatch, 0 on a clean match).
 */
export async function runReconcile(store: Store, files: string[], outPath: string, print: (line: string) => void): Promise<number> {
  if (files.length === 0) throw new Error('reconcile needs at least one report file');
  const report = await reconcile(store, files);
  writeFileSync(outPath, `${JSON.stringify(report, null, 2)}\n`);
  const rows = report.files.reduce((n, f) => n + f.rows, 0);
  print(`${report.files.length} files, ${rows} lines, ${report.matched} matched, ${report.mismatches.length} mismatches; report written to ${outPath}`);
  if (report.mismatches.length > 0) print(mismatchTable(report.mismatches));
  return report.mismatches.length > 0 ? 1 : 0;
}
