import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PendingIntentStore } from '../services/ports.ts';

/**
 * PendingIntentStore as one JSON file in the user-data folder, written atomically (temp file +
 * rename) so a crash mid-write leaves the old version. Holds no secrets: intent ids, SKUs,
 * quantities, totals and the opaque binding id. Writes are serialised.
 */
export function createFilePendingStore<T>(file: string, isValid: (v: unknown) => v is T): PendingIntentStore<T> {
  let chain: Promise<unknown> = Promise.resolve();
  const read = async (): Promise<Record<string, T>> => {
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
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(doc), { mode: 0o600 });
    await rename(tmp, file);
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
