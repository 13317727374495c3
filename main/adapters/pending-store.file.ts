import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PendingIntentStore } from '../services/ports.ts';

/**
 * PendingIntentStore as one JSON file in the user-data folder, written atomically (temp file +
 * rename) so a crash mid-write leaves the old version. Holds no secrets: intent ids, SKUs,
 * quantities, totals and the opaque binding id. Writes are serialised. The file is read once;
 * after that the store keeps what it last wrote (main is its only writer: one instance of
 * the app), so a put before a payment request costs one write and one rename.
 */
export function createFilePendingStore<T>(file: string, isValid: (v: unknown) => v is T): PendingIntentStore<T> {
  let chain: Promise<unknown> = Promise.resolve();
  /** The file's content as last read or written. */
  let known: Record<string, T> | null = null;
  const read = async (): Promise<Record<string, T>> => {
    if (known) return { ...known };
    known = await load();
    return { ...known };
  };
  const load = async (): Promise<Record<string, T>> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return {};
    }
    try {
      const doc = JSON.parse(text) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(doc).filter((e): e is [string, T] => isValid(e[1])));
    } catch {
      return {};
    }
  };
  const write = async (doc: Record<string, T>) => {
    const tmp = `${file}.${process.pid}.tmp`;
    const text = JSON.stringify(doc);
    // Forgotten until the rename succeeds: after a failed write the file is read again.
    known = null;
    try {
      await writeFile(tmp, text, { mode: 0o600 });
    } catch (error) {
      // The folder is made when first missing (the app's userData folder always exists).
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await writeFile(tmp, text, { mode: 0o600 });
    }
    await rename(tmp, file);
    known = doc;
  };
  const serial = <R>(op: () => Promise<R>): Promise<R> => {
    const next = chain.then(op, op);
    chain = next.catch(() => undefined);
    return next;
  };
  return {
    list: () => serial(async () => Object.values(await read())),
    put: (id, value) => serial(async () => write({ ...(await read()), [id]: value })),
    remove: (id) =>
      serial(async () => {
        const doc = await read();
        if (!(id in doc)) return;
        delete doc[id];
        await write(doc);
      }),
  };
}
