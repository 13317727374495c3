import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes `text` to `file` atomically: a temp file beside it, flushed, then renamed over it, so
 * a crash mid-write leaves the old version. The folder is made when first missing (the app's
 * userData folder always exists). Mode 0600: only this user reads the app's state files.
 */
export async function writeFileAtomic(file: string, text: string, options: { fsync?: boolean } = {}): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(tmp, text, { mode: 0o600 });
  }
  if (options.fsync) {
    // Durable before the rename: a power cut cannot leave an empty file under the new name.
    const handle = await open(tmp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  await rename(tmp, file);
}

/** The file's text, or null when it cannot be read (missing, or no permission). */
export async function readTextOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return null;
  }
}

/** Runs operations one after the other (a failed one does not stop the next). */
export function serialQueue(): <R>(op: () => Promise<R>) => Promise<R> {
  let chain: Promise<unknown> = Promise.resolve();
  return <R>(op: () => Promise<R>): Promise<R> => {
    const next = chain.then(op, op);
    chain = next.catch(() => undefined);
    return next;
  };
}
